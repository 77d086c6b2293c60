//! A message from the client: parsed for the fake's logic, and kept as the client wrote it for
//! what the fake echoes (ids, test/echo params, the answers the approval scenario reports).

use crate::json::{client_value, Json};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;

pub struct Message {
    pub value: Value,
    /// The top-level fields as written.
    fields: HashMap<String, Box<RawValue>>,
    /// The whole line.
    pub text: String,
}

/// Why a line is no message.
pub enum Unusable {
    /// Not JSON at all (or not UTF-8).
    NotJson,
    /// JSON, but not an object.
    NotObject,
}

impl Message {
    pub fn parse(line: &[u8]) -> Result<Message, Unusable> {
        let text = std::str::from_utf8(line).map_err(|_| Unusable::NotJson)?;
        let value: Value = serde_json::from_str(text).map_err(|_| Unusable::NotJson)?;
        let fields = serde_json::from_str(text).map_err(|_| Unusable::NotObject)?;
        Ok(Message { value, fields, text: text.to_owned() })
    }

    /// A field, None when missing or null (Python's `msg.get(key)` is None).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.value.get(key).filter(|v| !v.is_null())
    }

    /// A field as the client wrote it (compact), null when missing.
    pub fn raw(&self, key: &str) -> Json {
        self.fields.get(key).map_or(Json::Null, |raw| client_value(raw))
    }

    /// The params, `{}` when missing or falsy (Python's `msg.get("params") or {}`).
    pub fn params(&self) -> Params {
        match self.fields.get("params") {
            Some(raw) if truthy(&self.value["params"]) => Params {
                value: self.value["params"].clone(),
                fields: serde_json::from_str(raw.get()).unwrap_or_default(),
                raw: client_value(raw),
            },
            _ => Params {
                value: Value::Object(Default::default()),
                fields: HashMap::new(),
                raw: Json::Raw("{}".into()),
            },
        }
    }
}

/// The params of a request.
pub struct Params {
    value: Value,
    fields: HashMap<String, Box<RawValue>>,
    /// The whole params as written.
    pub raw: Json,
}

impl Params {
    /// A field, None when missing or null (or when the params are no object).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.value.get(key).filter(|v| !v.is_null())
    }

    /// A string field.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.value.get(key).and_then(Value::as_str)
    }

    /// A field as the client wrote it, null when missing.
    pub fn raw(&self, key: &str) -> Json {
        self.fields.get(key).map_or(Json::Null, |raw| client_value(raw))
    }
}

/// Python's truth of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `str()` of a value in an error text: strings bare, None, True, False; anything
/// else as JSON.
pub fn py_str(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "None".into(),
        Some(Value::Bool(true)) => "True".into(),
        Some(Value::Bool(false)) => "False".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Whether a JSON id is the number `n` as a Python dict key would be (1, 1.0 and true alike).
pub fn id_is(id: &Value, n: i64) -> bool {
    match id {
        Value::Number(x) => x.as_i64() == Some(n) || x.as_f64() == Some(n as f64),
        Value::Bool(b) => i64::from(*b) == n,
        _ => false,
    }
}
