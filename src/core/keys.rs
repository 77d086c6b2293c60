//! The routing keys of a message's params — `threadId`, `turnId`, `delta`, `turn.id`,
//! `turn.status`, `thread.id` — read in one quick pass over text the envelope parse has already
//! validated as JSON. Only top-level members (and the members of `turn` and `thread`) are looked
//! at; every other value is skipped by matching brackets and quotes, without decoding it.

use std::borrow::Cow;

#[derive(Default, Debug, PartialEq)]
pub struct Keys<'a> {
    /// `threadId`, else `thread.id`.
    pub thread_id: Option<Cow<'a, str>>,
    /// `turnId`, else `turn.id`.
    pub turn_id: Option<Cow<'a, str>>,
    pub delta: Option<Cow<'a, str>>,
    /// `turn.status`.
    pub turn_status: Option<Cow<'a, str>>,
}

/// Reads the keys of `params` (valid JSON). Anything but an object has none; a member of an
/// unexpected type counts as absent.
pub fn read(params: &str) -> Keys<'_> {
    let mut keys = Keys::default();
    let (mut nested_thread, mut nested_turn) = (None, None);
    members(params, |key, value| match key {
        "threadId" => keys.thread_id = string(value),
        "turnId" => keys.turn_id = string(value),
        "delta" => keys.delta = string(value),
        "turn" => {
            members(value, |k, v| match k {
                "id" => nested_turn = string(v),
                "status" => keys.turn_status = string(v),
                _ => {}
            });
        }
        "thread" => {
            members(value, |k, v| {
                if k == "id" {
                    nested_thread = string(v);
                }
            });
        }
        _ => {}
    });
    keys.thread_id = keys.thread_id.or(nested_thread);
    keys.turn_id = keys.turn_id.or(nested_turn);
    keys
}

/// Calls `each(key, raw value)` for every member of the object `text`; does nothing for other
/// values. Keys with escapes are passed decoded.
fn members<'a>(text: &'a str, mut each: impl FnMut(&str, &'a str)) {
    let b = text.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return;
    }
    i += 1;
    loop {
        i = skip_ws(b, i);
        if b.get(i) != Some(&b'"') {
            return; // `}` of an empty object
        }
        let Some(key_end) = string_end(b, i) else { return };
        let key = string(&text[i..key_end]);
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return;
        }
        i = skip_ws(b, i + 1);
        let Some(value_end) = value_end(b, i) else { return };
        if let Some(key) = key {
            each(&key, &text[i..value_end]);
        }
        i = skip_ws(b, value_end);
        if b.get(i) != Some(&b',') {
            return;
        }
        i += 1;
    }
}

/// The text of a JSON string value, borrowed when it has no escapes; `None` for other values.
fn string(raw: &str) -> Option<Cow<'_, str>> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// Index just past the string that starts (with its quote) at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        i += b.get(i..)?.iter().position(|&c| c == b'"' || c == b'\\')?;
        if b[i] == b'"' {
            return Some(i + 1);
        }
        i += 2; // an escape: skip the backslash and the escaped character
    }
}

/// Index just past the value that starts at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let rest = b.get(i..)?;
            let len = rest
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(rest.len());
            Some(i + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// What `read` must find, computed the slow way.
    fn expected(v: &Value) -> (Option<String>, Option<String>, Option<String>, Option<String>) {
        let s = |x: Option<&Value>| x.and_then(Value::as_str).map(str::to_owned);
        (
            s(v.get("threadId")).or_else(|| s(v.get("thread").and_then(|t| t.get("id")))),
            s(v.get("turnId")).or_else(|| s(v.get("turn").and_then(|t| t.get("id")))),
            s(v.get("delta")),
            s(v.get("turn").and_then(|t| t.get("status"))),
        )
    }

    fn check(text: &str) {
        let v: Value = serde_json::from_str(text).unwrap();
        let k = read(text);
        let got = (
            k.thread_id.map(Cow::into_owned),
            k.turn_id.map(Cow::into_owned),
            k.delta.map(Cow::into_owned),
            k.turn_status.map(Cow::into_owned),
        );
        assert_eq!(got, expected(&v), "{text}");
    }

    #[test]
    fn reads_the_keys_of_real_shapes() {
        check(r#"{"threadId":"thr_1","turnId":"t1","itemId":"m","delta":"a\"b\u00e9\\"}"#);
        check(
            r#"{"threadId":"thr_1","turn":{"id":"t9","items":[{"id":"x","text":"}]\"{"}],"status":"failed","error":{"message":"x"}}}"#,
        );
        check(r#"{"thread":{"id":"thr_2","turns":[]},"turnId":5,"delta":{"x":[1,2]}}"#);
        check(r#" { "threadId" : "a" , "turnId" : null , "delta" : true, "n": -1.5e3 } "#);
        check(r#"{"t\u0068readId":"escaped-key","x":[[],{}],"turnId":"t"}"#);
        check(r#"[1,2]"#);
        check(r#"null"#);
        check(r#"{}"#);
        check(r#"{"delta":""}"#);
    }

    #[test]
    fn agrees_with_serde_on_generated_objects() {
        // A small deterministic generator of nested JSON, with and without the keys.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        fn value(next: &mut dyn FnMut(u64) -> u64, depth: u32) -> Value {
            let texts = ["", "plain", "q\"uote", "back\\slash", "nl\n", "é✓", "}]{[", "\u{1}"];
            match next(if depth > 2 { 5 } else { 7 }) {
                0 => Value::Null,
                1 => Value::Bool(next(2) == 0),
                2 => json!(next(1000) as f64 / 7.0),
                3 | 4 => Value::String(texts[next(texts.len() as u64) as usize].to_owned()),
                5 => Value::Array((0..next(3)).map(|_| value(next, depth + 1)).collect()),
                _ => Value::Object(object(next, depth + 1)),
            }
        }
        fn object(next: &mut dyn FnMut(u64) -> u64, depth: u32) -> serde_json::Map<String, Value> {
            let names = ["threadId", "turnId", "delta", "turn", "thread", "id", "status", "itemId"];
            (0..next(5))
                .map(|_| (names[next(names.len() as u64) as usize].to_owned(), value(next, depth)))
                .collect()
        }
        for _ in 0..5000 {
            let v = Value::Object(object(&mut next, 0));
            check(&v.to_string());
            check(&serde_json::to_string_pretty(&v).unwrap());
        }
    }
}
