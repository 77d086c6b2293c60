//! Params and results of the thread, account and model calls: a thread's id set beside the
//! program's params, a `thread/list` page (its ids and cursor), `model/list` pages merged,
//! and rate-limit windows as numbers.

use super::params::object_map;
use crate::core::error::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

/// `{"threadId": thread_id, ...extra}`: `extra` is the program's optional JSON object, which
/// must not set the keys the library sets from its own arguments (`reserved`, and `threadId`).
pub fn thread_params(
    thread_id: &str,
    extra: Option<&str>,
    reserved: &[&str],
    set: impl FnOnce(&mut Map<String, Value>),
) -> Result<String> {
    if thread_id.is_empty() {
        return Err(Error::invalid_argument("thread_id: must not be empty"));
    }
    let mut keys = vec!["threadId"];
    keys.extend_from_slice(reserved);
    let mut map = object_map(extra, "params_json", &keys)?;
    map.insert("threadId".into(), Value::String(thread_id.to_owned()));
    set(&mut map);
    Ok(Value::Object(map).to_string())
}

/// One page of `thread/list`: the ids of its threads in order, the cursor of the next page
/// (`None` on the last), and the whole result.
#[derive(Debug, Clone)]
pub struct ThreadListPage {
    pub ids: Vec<String>,
    pub next_cursor: Option<String>,
    pub json: String,
}

#[derive(Deserialize)]
struct IdOnly {
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResult<T> {
    data: Vec<T>,
    #[serde(default)]
    next_cursor: Option<String>,
}

impl ThreadListPage {
    pub fn parse(result: String) -> Result<ThreadListPage> {
        let page: ListResult<IdOnly> = serde_json::from_str(&result).map_err(|e| {
            Error::protocol(format!("thread/list: a result without data[].id ({e}): {result}"))
        })?;
        Ok(ThreadListPage {
            ids: page.data.into_iter().map(|t| t.id).collect(),
            next_cursor: page.next_cursor.filter(|c| !c.is_empty()),
            json: result,
        })
    }
}

/// Where a paged listing stands: the filters, the cursor of the page to fetch next, and
/// whether the last page was fetched.
#[derive(Debug)]
pub struct Paging {
    filters: Map<String, Value>,
    cursor: Option<String>,
    done: bool,
}

impl Paging {
    /// Filters as a JSON object (or none); a `cursor` in them is where the listing starts.
    pub fn new(filters: Option<&str>) -> Result<Paging> {
        let mut filters = object_map(filters, "params_json", &[])?;
        let cursor = match filters.remove("cursor") {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) => Some(c),
            Some(_) => {
                return Err(Error::invalid_argument("params_json: \"cursor\" must be a string"))
            }
        };
        Ok(Paging { filters, cursor, done: false })
    }

    /// The params of the next page's request; `None` once the last page was fetched.
    pub fn next_params(&self) -> Option<String> {
        if self.done {
            return None;
        }
        let mut params = self.filters.clone();
        if let Some(cursor) = &self.cursor {
            params.insert("cursor".into(), Value::String(cursor.clone()));
        }
        Some(Value::Object(params).to_string())
    }

    /// A page arrived with this next cursor.
    pub fn advance(&mut self, next_cursor: Option<&str>) {
        self.cursor = next_cursor.map(str::to_owned);
        self.done = next_cursor.is_none();
    }
}

/// Appends the models of one `model/list` page to `models`; returns the next cursor.
pub fn take_model_page(result: &str, models: &mut Vec<Value>) -> Result<Option<String>> {
    let page: ListResult<Value> = serde_json::from_str(result).map_err(|e| {
        Error::protocol(format!("model/list: a result without data ({e}): {result}"))
    })?;
    models.extend(page.data);
    Ok(page.next_cursor.filter(|c| !c.is_empty()))
}

/// The two windows of a rate-limit snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Primary,
    Secondary,
}

/// One window of a rate limit: how much of it is used, how long it is, when it resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitWindow {
    pub used_percent: i32,
    /// Minutes; `None` when the server did not say.
    #[serde(default)]
    pub window_duration_mins: Option<i64>,
    /// Unix seconds; `None` when the server did not say.
    #[serde(default)]
    pub resets_at: Option<i64>,
}

/// A rate-limit snapshot (`account/rateLimits/read`'s result or the
/// `account/rateLimits/updated` notification's params: both hold it at `rateLimits`) and the
/// whole JSON it came from.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub primary: Option<RateLimitWindow>,
    pub secondary: Option<RateLimitWindow>,
    pub limit_id: Option<String>,
    pub json: String,
}

impl RateLimits {
    pub fn parse(json: String, what: &str) -> Result<RateLimits> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Snapshot {
            #[serde(default)]
            primary: Option<RateLimitWindow>,
            #[serde(default)]
            secondary: Option<RateLimitWindow>,
            #[serde(default)]
            limit_id: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Holder {
            rate_limits: Snapshot,
        }
        let holder: Holder = serde_json::from_str(&json).map_err(|e| {
            Error::protocol(format!("{what}: no rateLimits snapshot ({e}): {json}"))
        })?;
        let s = holder.rate_limits;
        Ok(RateLimits { primary: s.primary, secondary: s.secondary, limit_id: s.limit_id, json })
    }

    pub fn window(&self, which: Window) -> Option<RateLimitWindow> {
        match which {
            Window::Primary => self.primary,
            Window::Secondary => self.secondary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_params_set_the_id_and_refuse_reserved_keys() {
        let p = thread_params("t1", Some(r#"{"model":"m"}"#), &[], |_| {}).unwrap();
        let v: Value = serde_json::from_str(&p).unwrap();
        assert_eq!(v, serde_json::json!({"threadId": "t1", "model": "m"}));
        let err = thread_params("t1", Some(r#"{"name":"x"}"#), &["name"], |_| {}).unwrap_err();
        assert!(err.message.contains("\"name\""), "{}", err.message);
        assert!(thread_params("", None, &[], |_| {}).is_err());
        assert!(thread_params("t", Some(r#"{"threadId":"u"}"#), &[], |_| {}).is_err());
    }

    #[test]
    fn paging_carries_filters_and_the_cursor_until_the_last_page() {
        let mut paging = Paging::new(Some(r#"{"limit":2,"cursor":"c0"}"#)).unwrap();
        let first: Value = serde_json::from_str(&paging.next_params().unwrap()).unwrap();
        assert_eq!(first, serde_json::json!({"limit": 2, "cursor": "c0"}));
        paging.advance(Some("c1"));
        let second: Value = serde_json::from_str(&paging.next_params().unwrap()).unwrap();
        assert_eq!(second["cursor"], "c1");
        paging.advance(None);
        assert!(paging.next_params().is_none());
        assert!(Paging::new(Some(r#"{"cursor":3}"#)).is_err());
    }

    #[test]
    fn a_page_gives_its_ids_and_cursor() {
        let page =
            ThreadListPage::parse(r#"{"data":[{"id":"a"},{"id":"b"}],"nextCursor":"n"}"#.into())
                .unwrap();
        assert_eq!(page.ids, ["a", "b"]);
        assert_eq!(page.next_cursor.as_deref(), Some("n"));
        let last = ThreadListPage::parse(r#"{"data":[],"nextCursor":null}"#.into()).unwrap();
        assert!(last.ids.is_empty() && last.next_cursor.is_none());
        assert!(ThreadListPage::parse("{}".into()).is_err());
    }

    #[test]
    fn rate_limits_read_as_numbers() {
        let json = r#"{"rateLimits":{"limitId":"codex","primary":{"usedPercent":43,
            "windowDurationMins":300,"resetsAt":1800000000},"secondary":null}}"#;
        let limits = RateLimits::parse(json.into(), "test").unwrap();
        let primary = limits.window(Window::Primary).unwrap();
        assert_eq!(
            (primary.used_percent, primary.window_duration_mins, primary.resets_at),
            (43, Some(300), Some(1800000000))
        );
        assert!(limits.window(Window::Secondary).is_none());
        assert_eq!(limits.limit_id.as_deref(), Some("codex"));
        assert!(RateLimits::parse("{}".into(), "test").is_err());
    }
}
