//! Request params from what a program gives (checked JSON, reserved keys, input items), and
//! the ids the server's results carry.

use crate::core::error::{Error, Result};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Params must be valid JSON and, for JSON-RPC, an object or an array.
pub fn check_params_json(json: &str, name: &str) -> Result<()> {
    let raw: Box<RawValue> = serde_json::from_str(json)
        .map_err(|e| Error::invalid_argument(format!("{name}: invalid JSON: {e}")))?;
    match raw.get().trim_start().as_bytes().first() {
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
        let err =
            object_map(Some(r#"{"threadId":"x"}"#), "params_json", &["threadId"]).unwrap_err();
        assert!(err.message.contains("threadId"));
        assert!(object_map(Some("[1]"), "params_json", &[]).is_err());
    }
}
