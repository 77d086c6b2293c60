//! The one pass over each line: a validating JSON scanner that finds what routing needs on the
//! way — the envelope's members (see `wire`) and the routing keys of the params: `threadId`,
//! `turnId`, `delta`, `turn.id`, `turn.status`, `thread.id`. Every byte is checked once (JSON
//! grammar, string escapes, no control characters in strings, a nesting limit); nothing is
//! decoded or allocated unless a wanted string has escapes.

use std::borrow::Cow;

/// Deeper nesting than this is refused (as serde_json does), so the scan never overflows the
/// stack of the reader thread.
const MAX_DEPTH: u32 = 128;

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

/// Not valid JSON (or nested too deeply).
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid;

type Scanned<T> = Result<T, Invalid>;

/// Reads the keys of `params` (valid JSON); anything but an object has none, and a member of an
/// unexpected type counts as absent. Invalid JSON has none either.
#[cfg(any(test, feature = "fuzzing"))]
pub fn read(params: &str) -> Keys<'_> {
    let mut scan = Scanner::new(params);
    let mut keys = Keys::default();
    scan.ws();
    match scan.params(&mut keys).and_then(|()| scan.end()) {
        Ok(()) => keys,
        Err(Invalid) => Keys::default(),
    }
}

/// A JSON string literal with each `\uD800`–`\uDFFF` escape that is not half of a pair
/// replaced by `\uFFFD`.
#[cold]
fn mend_lone_surrogates(raw: &str) -> String {
    let b = raw.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        let hex = raw.get(at + 2..at + 6)?;
        (b.get(at) == Some(&b'\\') && b.get(at + 1) == Some(&b'u'))
            .then(|| u16::from_str_radix(hex, 16).ok())
            .flatten()
    };
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            let next = raw[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&raw[i..i + next]);
            i += next;
            continue;
        }
        match unit(i) {
            Some(high @ 0xD800..=0xDBFF) if matches!(unit(i + 6), Some(0xDC00..=0xDFFF)) => {
                let _ = high;
                out.push_str(&raw[i..i + 12]);
                i += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out.push_str("\\ufffd");
                i += 6;
            }
            Some(_) => {
                out.push_str(&raw[i..i + 6]);
                i += 6;
            }
            // Another escape: two characters.
            None => {
                out.push_str(&raw[i..(i + 2).min(b.len())]);
                i += 2;
            }
        }
    }
    out
}

/// A position in one line of text.
pub struct Scanner<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

/// A JSON string as scanned: its raw text (with quotes) and whether it has escapes.
#[derive(Clone, Copy)]
pub struct Str<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The decoded text: borrowed unless it has escapes.
    #[inline]
    pub fn text(self) -> Option<Cow<'a, str>> {
        if self.escaped {
            // Rare: let serde_json decode the escapes (and refuse lone surrogates).
            serde_json::from_str::<String>(self.raw).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(self.inner()))
        }
    }

    /// `text`, but a lone surrogate escape (half of a pair a proxy split) becomes U+FFFD
    /// instead of failing the whole string: for text shown to the program (deltas).
    pub fn text_lossy(self) -> Option<Cow<'a, str>> {
        self.text().or_else(|| {
            let mended = mend_lone_surrogates(self.raw);
            serde_json::from_str::<String>(&mended).ok().map(Cow::Owned)
        })
    }

    /// Whether it has escapes (then `text` decodes it).
    #[inline]
    pub fn escaped(self) -> bool {
        self.escaped
    }

    /// The text between the quotes, as written.
    #[inline]
    pub fn inner(self) -> &'a str {
        // `raw` starts and ends with an ASCII quote: both cuts are char boundaries.
        unsafe { self.raw.get_unchecked(1..self.raw.len() - 1) }
    }

    /// Whether it is `name` (compared decoded, so `"t\u0068readId"` is `threadId`).
    #[inline]
    pub fn is(self, name: &str) -> bool {
        if self.escaped {
            self.text().is_some_and(|t| t == name)
        } else {
            self.inner() == name
        }
    }
}

/// A bit set in each byte of `w` that is `"` or `\` or a control character (below 0x20); only
/// the lowest set bit is exact (borrows may set bits above it), which is all the scan uses.
#[inline]
fn special_bytes(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = w ^ (ONES * b'"' as u64);
    let backslash = w ^ (ONES * b'\\' as u64);
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_backslash = backslash.wrapping_sub(ONES) & !backslash;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    (zero_quote | zero_backslash | control) & HIGH
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Scanner<'a> {
        Scanner { text, b: text.as_bytes(), i: 0 }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skips whitespace; compact JSON has none, so the first byte decides (every byte of JSON
    /// whitespace is at most a space).
    #[inline]
    pub fn ws(&mut self) {
        if self.peek().is_some_and(|c| c > b' ') {
            return;
        }
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// Consumes `c` (after whitespace) or fails.
    #[inline]
    pub fn expect(&mut self, c: u8) -> Scanned<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// Consumes `c` if it is next (after whitespace).
    #[inline]
    pub fn eat(&mut self, c: u8) -> bool {
        if self.peek() != Some(c) {
            self.ws();
            if self.peek() != Some(c) {
                return false;
            }
        }
        self.i += 1;
        true
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Scanned<()> {
        self.ws();
        if self.i == self.b.len() {
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// The next value starts with `c` (after whitespace; nothing consumed).
    #[inline]
    pub fn starts_with(&mut self, c: u8) -> bool {
        self.ws();
        self.peek() == Some(c)
    }

    /// The raw text from `start` to here.
    #[inline]
    pub fn since(&self, start: usize) -> &'a str {
        // Both ends sit where a value starts or ends: ASCII, so char boundaries.
        debug_assert!(self.text.is_char_boundary(start) && self.text.is_char_boundary(self.i));
        unsafe { self.text.get_unchecked(start..self.i) }
    }

    #[inline]
    pub fn position(&self) -> usize {
        self.i
    }

    /// A string (after whitespace), checked: no control characters, valid escapes.
    #[inline]
    pub fn string(&mut self) -> Scanned<Str<'a>> {
        self.ws();
        let start = self.i;
        if self.peek() != Some(b'"') {
            return Err(Invalid);
        }
        let b = self.b;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            // Eight bytes at a time up to the next quote, backslash or control character.
            while i + 8 <= b.len() {
                let w = u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
                let special = special_bytes(w);
                if special != 0 {
                    i += (special.trailing_zeros() / 8) as usize;
                    break;
                }
                i += 8;
            }
            match b.get(i) {
                None => return Err(Invalid),
                Some(b'"') => {
                    self.i = i + 1;
                    // Both ends are ASCII quotes, so char boundaries of the (valid) text.
                    let raw = unsafe { self.text.get_unchecked(start..i + 1) };
                    return Ok(Str { raw, escaped });
                }
                Some(b'\\') => {
                    escaped = true;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hex = b.get(i + 2..i + 6).ok_or(Invalid)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Invalid);
                            }
                            i += 6;
                        }
                        _ => return Err(Invalid),
                    }
                }
                Some(&c) if c < 0x20 => return Err(Invalid),
                Some(_) => i += 1,
            }
        }
    }

    /// Skips one value of any kind (after whitespace), checking it.
    pub fn value(&mut self, depth: u32) -> Scanned<()> {
        self.ws();
        match self.peek().ok_or(Invalid)? {
            b'"' => self.string().map(drop),
            b'{' => {
                self.enter(depth)?;
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    self.string()?;
                    self.expect(b':')?;
                    self.value(depth + 1)?;
                    if !self.eat(b',') {
                        return self.expect(b'}');
                    }
                }
            }
            b'[' => {
                self.enter(depth)?;
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.value(depth + 1)?;
                    if !self.eat(b',') {
                        return self.expect(b']');
                    }
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    /// Steps into an object or array at `depth`.
    #[inline]
    fn enter(&mut self, depth: u32) -> Scanned<()> {
        if depth >= MAX_DEPTH {
            return Err(Invalid);
        }
        self.i += 1;
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Scanned<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Invalid)
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Scanned<()> {
        let b = self.b;
        let mut i = self.i;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(Invalid),
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(Invalid);
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(Invalid);
            }
        }
        self.i = i;
        Ok(())
    }

    /// A string value's text if the next value is a string; any other value is checked,
    /// skipped and absent.
    #[inline]
    fn string_value(&mut self, depth: u32) -> Scanned<Option<Cow<'a, str>>> {
        if self.starts_with(b'"') {
            Ok(self.string()?.text())
        } else {
            self.value(depth).map(|()| None)
        }
    }

    /// `string_value` for a delta: lone surrogates become U+FFFD (`Str::text_lossy`).
    fn delta_value(&mut self, depth: u32) -> Scanned<Option<Cow<'a, str>>> {
        if self.starts_with(b'"') {
            Ok(self.string()?.text_lossy())
        } else {
            self.value(depth).map(|()| None)
        }
    }

    /// The members of an object (the next value must be one), each handed to `each` with the
    /// scanner placed at its value, which `each` must consume.
    fn members(
        &mut self,
        depth: u32,
        mut each: impl FnMut(&mut Self, Str<'a>) -> Scanned<()>,
    ) -> Scanned<()> {
        self.enter(depth)?;
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            each(self, key)?;
            if !self.eat(b',') {
                return self.expect(b'}');
            }
        }
    }

    /// The params value (at depth 1 of the line), collecting the routing keys into `keys`.
    /// Later members win, and a member of another type than expected counts as absent.
    pub fn params(&mut self, keys: &mut Keys<'a>) -> Scanned<()> {
        if !self.starts_with(b'{') {
            return self.value(1);
        }
        let (mut nested_thread, mut nested_turn) = (None, None);
        self.members(1, |s, key| {
            match (key.escaped, key.inner()) {
                (false, "threadId") => keys.thread_id = s.string_value(2)?,
                (false, "turnId") => keys.turn_id = s.string_value(2)?,
                (false, "delta") => keys.delta = s.delta_value(2)?,
                // A member given twice counts with its last value, as in serde_json: a later
                // `turn` or `thread` replaces what an earlier one said, even when it says nothing.
                (false, "turn") => {
                    (nested_turn, keys.turn_status) = (None, None);
                    if !s.starts_with(b'{') {
                        return s.value(2);
                    }
                    s.members(2, |s, k| {
                        if k.is("id") {
                            nested_turn = s.string_value(3)?;
                        } else if k.is("status") {
                            keys.turn_status = s.string_value(3)?;
                        } else {
                            s.value(3)?;
                        }
                        Ok(())
                    })?
                }
                (false, "thread") => {
                    nested_thread = None;
                    if !s.starts_with(b'{') {
                        return s.value(2);
                    }
                    s.members(2, |s, k| {
                        if k.is("id") {
                            nested_thread = s.string_value(3)?;
                        } else {
                            s.value(3)?;
                        }
                        Ok(())
                    })?
                }
                (true, _) => {
                    // A key with escapes: decoded, then handled like the plain ones.
                    let name = key.text().unwrap_or_default();
                    match &*name {
                        "threadId" => keys.thread_id = s.string_value(2)?,
                        "turnId" => keys.turn_id = s.string_value(2)?,
                        "delta" => keys.delta = s.delta_value(2)?,
                        "turn" | "thread" => {
                            // Rare enough to read the slow way: scan, then look inside.
                            let start = s.position();
                            s.value(2)?;
                            let inner = Scanner::new(s.since(start)).nested_id_status()?;
                            // (Not an object: both None, which also resets, as above.)
                            if &*name == "turn" {
                                (nested_turn, keys.turn_status) = (inner.0, inner.1);
                            } else {
                                nested_thread = inner.0;
                            }
                        }
                        _ => s.value(2)?,
                    }
                }
                _ => s.value(2)?,
            }
            Ok(())
        })?;
        keys.thread_id = keys.thread_id.take().or(nested_thread);
        keys.turn_id = keys.turn_id.take().or(nested_turn);
        Ok(())
    }

    /// `id` and `status` of a value already checked (for `turn` and `thread` behind an escaped
    /// key); both `None` when it is not an object.
    #[allow(clippy::type_complexity)]
    fn nested_id_status(mut self) -> Scanned<(Option<Cow<'a, str>>, Option<Cow<'a, str>>)> {
        let (mut id, mut status) = (None, None);
        if !self.starts_with(b'{') {
            return Ok((None, None));
        }
        self.members(2, |s, k| {
            if k.is("id") {
                id = s.string_value(3)?;
            } else if k.is("status") {
                status = s.string_value(3)?;
            } else {
                s.value(3)?;
            }
            Ok(())
        })?;
        Ok((id, status))
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
        check(r#"{"tu\u0072n":{"id":"t5","st\u0061tus":"done"},"thr\u0065ad":{"id":"h"}}"#);
        check(r#"[1,2]"#);
        check(r#"null"#);
        check(r#"{}"#);
        check(r#"{"delta":""}"#);
        check(r#"{"delta":"12345678\"abcdefgh\\ijklmnopq\u00e9rstuvwxyz0123456789"}"#);
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

    /// The scanner accepts exactly what serde_json accepts, on valid and broken texts alike.
    #[test]
    fn validates_like_serde_json() {
        let samples = [
            r#"{"a":[1,-2.5e+3,0.1,true,false,null,"x\u00e9\n\"",{}]}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":tru}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12G4"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":[1,]}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1} x"#,
            r#"{"a":1}  "#,
            r#"{"a":"12345678901234567890"}"#,
            r#"{"a":"1234567\"#,
            r#"["#,
            r#""#,
            r#"{"#,
            r#"{"a":{"b":[{"c":"d"}]}}"#,
        ];
        for text in samples {
            let ours = {
                let mut s = Scanner::new(text);
                s.value(0).and_then(|()| s.end()).is_ok()
            };
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
            assert_eq!(ours, serde, "{text}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(Scanner::new(&deep).value(0).is_err());
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(Scanner::new(&ok).value(0).is_ok());
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
        use crate::core::routing::wire::{parse_line, Message};
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

    /// Issue 25, case 5: a delta holding half of a surrogate pair keeps its text.
    #[test]
    fn a_lone_surrogate_in_a_delta_becomes_a_replacement_character() {
        let k = read(r#"{"threadId":"a","turnId":"t","delta":"ab\ud83d"}"#);
        assert_eq!(k.delta.as_deref(), Some("ab\u{fffd}"));
        let k = read(r#"{"delta":"\ude00x\ud83d\ude00\\ud83d\n"}"#);
        assert_eq!(k.delta.as_deref(), Some("\u{fffd}x\u{1f600}\\ud83d\n"));
        // Ids are not mended: an id with a lone surrogate is no id.
        assert_eq!(read(r#"{"threadId":"\ud83d"}"#).thread_id, None);
    }
}
