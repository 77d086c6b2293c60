//! Request params from what a program gives (checked JSON, reserved keys, input items), and
//! the ids the server's results carry.

use crate::core::error::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The one check of every JSON text a program gives (params, answers): well-formed, no lone
/// surrogate in a string escape (the server could not parse the line, and the caller would wait
/// out its timeout), nested at most 128 deep (serde_json's limit, the same as parsing into a
/// `Value` has). Nothing is built: strings without escapes are not even copied.
pub fn check_json(json: &str, name: &str) -> Result<()> {
    serde_json::from_str::<Checked>(json)
        .map(drop)
        .map_err(|e| Error::invalid_argument(format!("{name}: invalid JSON: {e}")))
}

/// A JSON value that was read to its end and thrown away.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Checked, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> serde::de::Visitor<'de> for CheckedVisitor {
    type Value = Checked;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Checked, A::Error> {
        while map.next_entry::<Checked, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

/// Params must be valid JSON (`check_json`) and, for JSON-RPC, an object or an array.
pub fn check_params_json(json: &str, name: &str) -> Result<()> {
    check_json(json, name)?;
    match json.trim_start().as_bytes().first() {
        Some(b'{') | Some(b'[') => Ok(()),
        _ => Err(Error::invalid_argument(format!("{name}: must be a JSON object or array"))),
    }
}

/// Optional object params, with keys the library sets itself refused.
pub(crate) fn object_map(
    params: Option<&str>,
    name: &str,
    reserved: &[&str],
) -> Result<Map<String, Value>> {
    let Some(json) = params else {
        return Ok(Map::new());
    };
    check_json(json, name)?;
    let map = match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => map,
        Ok(Value::Null) => Map::new(),
        Ok(_) => return Err(Error::invalid_argument(format!("{name}: must be a JSON object"))),
        Err(e) => return Err(Error::invalid_argument(format!("{name}: invalid JSON: {e}"))),
    };
    if let Some(key) = reserved.iter().find(|k| map.contains_key(**k)) {
        return Err(Error::invalid_argument(format!(
            "{name}: must not contain \"{key}\"; it is set from its own argument"
        )));
    }
    Ok(map)
}

pub(crate) fn object_params(params: Option<&str>, name: &str, reserved: &[&str]) -> Result<String> {
    Ok(Value::Object(object_map(params, name, reserved)?).to_string())
}

/// Text becomes one text item; a JSON array is taken as the items themselves.
pub(crate) fn input_items(input: &str) -> Value {
    if input.trim_start().starts_with('[') {
        if let Ok(items @ Value::Array(_)) = serde_json::from_str::<Value>(input) {
            return items;
        }
    }
    serde_json::json!([{ "type": "text", "text": input }])
}

#[derive(Deserialize)]
struct IdHolder {
    id: String,
}

pub fn thread_id_of(result: &str, method: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct R {
        thread: IdHolder,
    }
    serde_json::from_str::<R>(result)
        .map(|r| r.thread.id)
        .map_err(|_| Error::protocol(format!("{method}: the result has no thread.id: {result}")))
}

pub(crate) fn turn_id_of(result: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct R {
        turn: IdHolder,
    }
    serde_json::from_str::<R>(result).map(|r| r.turn.id).map_err(|_| {
        let id = serde_json::from_str::<serde_json::Value>(result)
            .ok()
            .and_then(|v| v.get("turn").and_then(|t| t.get("id")).cloned());
        match id {
            Some(id) => {
                Error::protocol(format!("turn/start: turn.id is not a string ({id}): {result}"))
            }
            None => Error::protocol(format!("turn/start: the result has no turn.id: {result}")),
        }
    })
}

/// The params of `turn/interrupt` (also sent by the library itself when a turn overflows or
/// goes idle).
pub(crate) fn interrupt_params(thread_id: &str, turn_id: &str) -> String {
    serde_json::json!({ "threadId": thread_id, "turnId": turn_id }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_text_or_items() {
        assert_eq!(input_items("hi"), serde_json::json!([{"type":"text","text":"hi"}]));
        assert_eq!(
            input_items("[1] fix it"),
            serde_json::json!([{"type":"text","text":"[1] fix it"}])
        );
        let items = r#"[{"type":"localImage","path":"/a.png"}]"#;
        assert_eq!(input_items(items), serde_json::from_str::<Value>(items).unwrap());
    }

    #[test]
    fn params_are_checked() {
        assert!(check_params_json("{\"a\":1}", "p").is_ok());
        assert!(check_params_json("[]", "p").is_ok());
        assert_eq!(
            check_params_json("{", "p").unwrap_err().kind,
            crate::core::ErrorKind::InvalidArgument
        );
        assert!(check_params_json("3", "p").unwrap_err().message.contains("object or array"));
        // One rule for every function that takes JSON: lone surrogates and nesting past 128
        // are refused alike, whether the text is passed through or parsed.
        let deep = |n| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let deep_object = |n| format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        for bad in
            [r#"{"a":"\ud800"}"#.to_owned(), r#"["\udc00x"]"#.to_owned(), deep(100_000), deep(129)]
        {
            assert!(check_params_json(&bad, "p").is_err(), "{}", &bad[..bad.len().min(40)]);
        }
        assert!(object_map(Some(r#"{"a":"\ud800"}"#), "p", &[]).is_err());
        assert!(object_map(Some(&deep_object(129)), "p", &[]).is_err());
        // The same depth as a parsed `Value`, to the level.
        for n in [100, 126, 127, 128, 129] {
            let parsed = serde_json::from_str::<Value>(&deep_object(n)).is_ok();
            assert_eq!(check_params_json(&deep_object(n), "p").is_ok(), parsed, "depth {n}");
            assert_eq!(object_map(Some(&deep_object(n)), "p", &[]).is_ok(), parsed, "depth {n}");
        }
        assert!(check_params_json(&deep(127), "p").is_ok());
        assert!(check_params_json(&deep(128), "p").is_err());
        assert!(check_params_json(r#"{"a":"\ud83d\ude00","b":[1,-2,3.5,null,true]}"#, "p").is_ok());
        let err =
            object_map(Some(r#"{"threadId":"x"}"#), "params_json", &["threadId"]).unwrap_err();
        assert!(err.message.contains("threadId"));
        assert!(object_map(Some("[1]"), "params_json", &[]).is_err());
    }
}
