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
        // A member given twice counts with its last value, as in serde_json: a later `turn` or
        // `thread` replaces what an earlier one said, even when it says nothing.
        "turn" => {
            (nested_turn, keys.turn_status) = (None, None);
            members(value, |k, v| match k {
                "id" => nested_turn = string(v),
                "status" => keys.turn_status = string(v),
                _ => {}
            });
        }
        "thread" => {
            nested_thread = None;
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
        // Found by the property test: the last `turn` (or `thread`) member is the one that counts.
        check(r#"{"turn":{"id":""},"turn":null}"#);
        check(
            r#"{"turn":{"id":"a","status":"completed"},"turn":{"items":[]},"thread":{"id":"x"},"thread":5}"#,
        );
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

    /// JSON written by hand, so that it can hold what a `Value` cannot: a member given twice,
    /// escapes serde would not write, any white space.
    #[derive(Clone, Debug)]
    enum Json {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        /// The text, and whether every character is written as a `\u` escape.
        Str(String, bool),
        Array(Vec<Json>),
        /// Members in order; names may repeat.
        Object(Vec<((String, bool), Json)>),
    }

    const SPACES: [&str; 5] = ["", " ", "\n", "\t", "\r\n  "];

    fn write_str(out: &mut String, text: &str, escape_all: bool) {
        if !escape_all {
            out.push_str(&serde_json::to_string(text).unwrap());
            return;
        }
        out.push('"');
        for unit in text.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
    }

    /// Writes `json`, taking white space between tokens from `spaces` in turn.
    fn write(out: &mut String, json: &Json, spaces: &mut impl Iterator<Item = usize>) {
        let space = |out: &mut String, spaces: &mut dyn Iterator<Item = usize>| {
            out.push_str(SPACES[spaces.next().unwrap()])
        };
        match json {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Float(f) => out.push_str(&serde_json::to_string(f).unwrap()),
            Json::Str(text, escape_all) => write_str(out, text, *escape_all),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    space(out, spaces);
                    write(out, item, spaces);
                    space(out, spaces);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, ((name, escape_all), value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    space(out, spaces);
                    write_str(out, name, *escape_all);
                    space(out, spaces);
                    out.push(':');
                    space(out, spaces);
                    write(out, value, spaces);
                    space(out, spaces);
                }
                out.push('}');
            }
        }
    }

    mod property {
        use super::*;
        use crate::core::wire::{parse_line, Message};
        use proptest::prelude::*;
        use proptest::sample::select;

        /// Mostly the names and texts routing looks at, sometimes any text at all.
        fn text(common: &'static [&'static str]) -> impl Strategy<Value = String> {
            prop_oneof![
                3 => select(common).prop_map(str::to_owned),
                1 => proptest::collection::vec(any::<char>(), 0..8)
                    .prop_map(|c| c.into_iter().collect()),
            ]
        }

        fn json() -> impl Strategy<Value = Json> {
            const NAMES: &[&str] =
                &["threadId", "turnId", "delta", "turn", "thread", "id", "status", "items"];
            const TEXTS: &[&str] =
                &["", "thr_1", "t1", "q\"uote", "back\\slash", "}]{[", "é✓", "\u{1}", "\\\""];
            let leaf = prop_oneof![
                Just(Json::Null),
                any::<bool>().prop_map(Json::Bool),
                any::<i64>().prop_map(Json::Int),
                any::<f64>()
                    .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
                    .prop_map(Json::Float),
                (text(TEXTS), any::<bool>()).prop_map(|(t, e)| Json::Str(t, e)),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                    proptest::collection::vec(((text(NAMES), any::<bool>()), inner), 0..6)
                        .prop_map(Json::Object),
                ]
            })
        }

        fn params() -> impl Strategy<Value = (Json, Vec<usize>)> {
            let object = proptest::collection::vec(
                ((text(&["threadId", "turnId", "delta", "turn", "thread"]), any::<bool>()), json()),
                0..8,
            )
            .prop_map(Json::Object);
            // Objects mostly: other values have no keys, but must not confuse the scanner.
            let value = prop_oneof![6 => object, 1 => json()];
            (value, proptest::collection::vec(0..SPACES.len(), 1..16))
        }

        fn owned(k: &Keys<'_>) -> [Option<String>; 4] {
            [&k.thread_id, &k.turn_id, &k.delta, &k.turn_status]
                .map(|v| v.as_deref().map(str::to_owned))
        }

        fn serde_keys(text: &str) -> [Option<String>; 4] {
            let v: Value = serde_json::from_str(text).expect("the generator writes valid JSON");
            let s = |x: Option<&Value>| x.and_then(Value::as_str).map(str::to_owned);
            [
                s(v.get("threadId")).or_else(|| s(v.get("thread").and_then(|t| t.get("id")))),
                s(v.get("turnId")).or_else(|| s(v.get("turn").and_then(|t| t.get("id")))),
                s(v.get("delta")),
                s(v.get("turn").and_then(|t| t.get("status"))),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            /// The scanner reads the keys serde_json reads, from params alone and from a whole
            /// notification line (where a member given twice counts with its last value).
            #[test]
            fn scanner_agrees_with_serde_json((params, spaces) in params()) {
                let mut text = String::new();
                write(&mut text, &params, &mut spaces.iter().copied().cycle());
                let want = serde_keys(&text);
                prop_assert_eq!(owned(&read(&text)), want.clone(), "params {}", text);

                let line = format!(r#"{{"method":"item/agentMessage/delta","params":{text}}}"#);
                let Ok(Message::Notification(n)) = parse_line(&line) else {
                    panic!("not a notification: {line}");
                };
                let got = [n.thread_id, n.turn_id, n.delta, n.turn_status]
                    .map(|v| v.map(Cow::into_owned));
                prop_assert_eq!(got, want, "line {}", line);
            }
        }
    }
}
