//! The fake's JSON text. Its own objects keep the key order they are written in, as the real
//! server's do (serde_json's Map sorts keys unless its preserve_order feature is on, and turning
//! that on would change the library too); text is escaped to ASCII as Python's json.dumps did;
//! values the client sent are re-emitted in the client's own key order.

use serde_json::value::RawValue;
use std::fmt::Write;

/// A JSON value to write.
#[derive(Clone)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
    /// Compact JSON text, written as it is (a value the client sent, see `client_value`).
    Raw(String),
}

/// An object with its keys in the order given: `obj! { "id" => 1, "result" => inner }`.
macro_rules! obj {
    ($($key:literal => $value:expr),* $(,)?) => {
        $crate::json::Json::Obj(vec![$(($key, $crate::json::Json::from($value))),*])
    };
}
pub(crate) use obj;

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<&String> for Json {
    fn from(s: &String) -> Json {
        Json::Str(s.clone())
    }
}

impl From<i64> for Json {
    fn from(n: i64) -> Json {
        Json::Int(n)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Json {
        Json::Arr(items)
    }
}

impl Json {
    /// The compact text of the value followed by a newline: one message on the wire.
    pub fn line(&self) -> String {
        let mut out = String::with_capacity(256);
        self.write(&mut out);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_str(out, key);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
            Json::Raw(text) => out.push_str(text),
        }
    }
}

/// A string literal as Python's json.dumps writes it (ensure_ascii): printable ASCII as it is,
/// the usual short escapes, everything else as \u escapes (UTF-16 pairs above the BMP).
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0; // start of the run of characters that need no escape
    for (i, c) in s.char_indices() {
        if (' '..='~').contains(&c) && c != '"' && c != '\\' {
            continue;
        }
        out.push_str(&s[plain..i]);
        plain = i + c.len_utf8();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            _ => {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push_str(&s[plain..]);
    out.push('"');
}

/// A value the client sent, compact, in its own key order.
pub fn client_value(raw: &RawValue) -> Json {
    Json::Raw(reformat(raw.get(), false))
}

/// The text Python's `json.dumps(value)` gives (", " and ": " between items) of JSON text the
/// client sent, in its key order.
pub fn python_dumps(text: &str) -> String {
    reformat(text.trim(), true)
}

/// Valid JSON text without its whitespace, with Python's separators when `spaced`, and its
/// strings escaped as `write_str` does. Numbers stay as the client wrote them.
fn reformat(text: &str, spaced: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b',' => {
                out.push_str(if spaced { ", " } else { "," });
                i += 1;
            }
            b':' => {
                out.push_str(if spaced { ": " } else { ":" });
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                // The text was parsed already, so the literal is valid.
                let s: String = serde_json::from_str(&text[start..i]).unwrap_or_default();
                write_str(&mut out, &s);
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                python_number(&text[start..i], &mut out);
            }
            b => {
                // Outside strings and numbers valid JSON is ASCII: brackets, true, false, null.
                out.push(b as char);
                i += 1;
            }
        }
    }
    out
}

/// A JSON number as Python writes it back: an integer as it is (Python's are unbounded), any
/// other as the repr of a float.
fn python_number(literal: &str, out: &mut String) {
    if !literal.contains(['.', 'e', 'E']) {
        let zero = literal.trim_start_matches('-').bytes().all(|b| b == b'0');
        out.push_str(if zero { "0" } else { literal });
        return;
    }
    let x: f64 = literal.parse().unwrap_or(f64::NAN);
    if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if x == 0.0 {
        out.push_str(if x.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // Rust's {:e} has the shortest digits that read back the same, as Python's repr; only the
    // layout differs: Python goes to exponent form below 1e-4 and from 1e16.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if x < 0.0 {
        out.push('-');
    }
    if !(-4..16).contains(&exp) {
        let _ = write!(out, "{mantissa}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    } else if exp < 0 {
        let _ = write!(out, "0.{}{digits}", "0".repeat((-exp - 1) as usize));
    } else {
        let point = exp as usize + 1;
        if digits.len() > point {
            let _ = write!(out, "{}.{}", &digits[..point], &digits[point..]);
        } else {
            let _ = write!(out, "{digits}{}.0", "0".repeat(point - digits.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_keep_their_order_and_strings_are_ascii() {
        let v = obj! { "b" => 1, "a" => "é\u{1F600}\"\n/", "c" => Json::Null };
        assert_eq!(v.line(), "{\"b\":1,\"a\":\"\\u00e9\\ud83d\\ude00\\\"\\n/\",\"c\":null}\n");
    }

    #[test]
    fn client_text_keeps_its_order() {
        let text = r#" {"z": [1, 2.50, {"y": "\u00e9\/"}], "a": true} "#;
        assert_eq!(python_dumps(text), r#"{"z": [1, 2.5, {"y": "\u00e9/"}], "a": true}"#);
        let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
        assert_eq!(client_value(&raw).line(), "{\"z\":[1,2.5,{\"y\":\"\\u00e9/\"}],\"a\":true}\n");
    }

    #[test]
    fn numbers_read_back_as_python_writes_them() {
        let cases = [
            ("-0", "0"),
            ("12345678901234567890123", "12345678901234567890123"),
            ("1e5", "100000.0"),
            ("1.0", "1.0"),
            ("-2.50", "-2.5"),
            ("1e16", "1e+16"),
            ("1.5e16", "1.5e+16"),
            ("123456789012345.6", "123456789012345.6"),
            ("0.0001", "0.0001"),
            ("0.00001", "1e-05"),
            ("-1.25e-7", "-1.25e-07"),
            ("1e400", "Infinity"),
            ("-0.0", "-0.0"),
            ("0.1", "0.1"),
        ];
        for (literal, python) in cases {
            let mut out = String::new();
            python_number(literal, &mut out);
            assert_eq!(out, python, "{literal}");
        }
    }
}
