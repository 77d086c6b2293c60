//! RFC 6901 JSON Pointers, resolved over JSON text without building a tree: each step walks
//! one object or array with serde_json's borrowed parser, skipping the members it passes.

use crate::core::error::{Error, Result};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Why a pointer named no value. Syntax errors are `Error`s (bad input); these are answers.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// A step named a member or index that is not there.
    Absent,
    /// A step went into a value that is neither an object nor an array.
    NotContainer,
}

/// The reference tokens of `pointer`, unescaped (`~1` is `/`, `~0` is `~`). `""` is the whole
/// document; anything else must start with `/`.
pub fn tokens(pointer: &str) -> Result<Vec<Cow<'_, str>>> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(Error::invalid_argument(format!(
            "pointer: \"{pointer}\" is not a JSON Pointer (it must be empty or start with '/')"
        )));
    };
    rest.split('/').map(|token| unescape(token, pointer)).collect()
}

fn unescape<'a>(token: &'a str, pointer: &str) -> Result<Cow<'a, str>> {
    if !token.contains('~') {
        return Ok(Cow::Borrowed(token));
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => {
                return Err(Error::invalid_argument(format!(
                    "pointer: \"{pointer}\": '~' must be followed by '0' or '1'"
                )))
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// The raw JSON text `pointer` names inside `json` (which must be valid JSON).
pub fn resolve<'a>(json: &'a str, pointer: &str) -> Result<std::result::Result<&'a str, Miss>> {
    let tokens = tokens(pointer)?;
    let mut at: &'a str = json.trim();
    for token in &tokens {
        match step(at, token) {
            Ok(next) => at = next,
            Err(miss) => return Ok(Err(miss)),
        }
    }
    Ok(Ok(at))
}

/// One step down: a member of an object, or an element of an array by its decimal index.
fn step<'a>(json: &'a str, token: &str) -> std::result::Result<&'a str, Miss> {
    let found = match json.as_bytes().first() {
        Some(b'{') => member(json, token),
        Some(b'[') => element(json, token),
        _ => return Err(Miss::NotContainer),
    };
    found.ok_or(Miss::Absent)
}

fn member<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let mut de = serde_json::Deserializer::from_str(json);
    de::Deserializer::deserialize_map(&mut de, Member { key }).ok().flatten()
}

fn element<'a>(json: &'a str, token: &str) -> Option<&'a str> {
    // RFC 6901: an index is "0" or digits without a leading zero ("-" names no element).
    if token.is_empty() || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    let index: usize = token.parse().ok()?;
    let mut de = serde_json::Deserializer::from_str(json);
    de::Deserializer::deserialize_seq(&mut de, Element { index }).ok().flatten()
}

/// Finds one member of an object (the last of duplicates, as serde_json's `Value` does).
struct Member<'k> {
    key: &'k str,
}

impl<'de, 'k> Visitor<'de> for Member<'k> {
    type Value = Option<&'de str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(matches) = map.next_key_seed(KeyIs(self.key))? {
            if matches {
                found = Some(map.next_value::<&'de RawValue>()?.get());
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Reads a member's name and tells whether it is the one sought, without allocating for
/// names that have no escapes.
struct KeyIs<'k>(&'k str);

impl<'de, 'k> DeserializeSeed<'de> for KeyIs<'k> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'k> Visitor<'de> for KeyIs<'k> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> std::result::Result<bool, E> {
        Ok(name == self.0)
    }
}

/// Finds one element of an array.
struct Element {
    index: usize,
}

impl<'de> Visitor<'de> for Element {
    type Value = Option<&'de str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut found = None;
        let mut at = 0usize;
        loop {
            if at == self.index {
                match seq.next_element::<&'de RawValue>()? {
                    Some(raw) => found = Some(raw.get()),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            at += 1;
        }
        Ok(found)
    }
}

/// The number of elements of a JSON array's text.
pub fn array_len(json: &str) -> Option<usize> {
    struct Count;
    impl<'de> Visitor<'de> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<usize, A::Error> {
            let mut n = 0;
            while seq.next_element::<IgnoredAny>()?.is_some() {
                n += 1;
            }
            Ok(n)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de::Deserializer::deserialize_seq(&mut de, Count).ok()
}

/// The text of a JSON string value, unescaped (borrowed when it has no escapes).
pub fn decode_string(json: &str) -> Option<Cow<'_, str>> {
    match serde_json::from_str::<&str>(json) {
        Ok(text) => Some(Cow::Borrowed(text)),
        Err(_) => serde_json::from_str::<String>(json).ok().map(Cow::Owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"foo":["bar","baz"],"":0,"a/b":1,"c%d":2,"e^f":3,"g|h":4,"i\\j":5,
        "k\"l":6," ":7,"m~n":8,"nested":{"x":[10,{"y":true}]},"dup":1,"dup":2}"#;

    fn at(pointer: &str) -> Option<String> {
        resolve(DOC, pointer).unwrap().ok().map(str::to_owned)
    }

    #[test]
    fn rfc6901_examples() {
        assert_eq!(at("").unwrap(), DOC.trim());
        assert_eq!(at("/foo").as_deref(), Some(r#"["bar","baz"]"#));
        assert_eq!(at("/foo/0").as_deref(), Some(r#""bar""#));
        assert_eq!(at("/").as_deref(), Some("0"));
        assert_eq!(at("/a~1b").as_deref(), Some("1"));
        assert_eq!(at("/c%d").as_deref(), Some("2"));
        assert_eq!(at("/e^f").as_deref(), Some("3"));
        assert_eq!(at("/g|h").as_deref(), Some("4"));
        assert_eq!(at("/i\\j").as_deref(), Some("5"));
        assert_eq!(at("/k\"l").as_deref(), Some("6"));
        assert_eq!(at("/ ").as_deref(), Some("7"));
        assert_eq!(at("/m~0n").as_deref(), Some("8"));
        assert_eq!(at("/nested/x/1/y").as_deref(), Some("true"));
        assert_eq!(at("/dup").as_deref(), Some("2"), "the last of duplicate members");
    }

    #[test]
    fn misses_and_syntax_errors_differ() {
        assert_eq!(resolve(DOC, "/nope").unwrap(), Err(Miss::Absent));
        assert_eq!(resolve(DOC, "/foo/2").unwrap(), Err(Miss::Absent));
        assert_eq!(resolve(DOC, "/foo/01").unwrap(), Err(Miss::Absent));
        assert_eq!(resolve(DOC, "/foo/-").unwrap(), Err(Miss::Absent));
        assert_eq!(resolve(DOC, "/foo/0/x").unwrap(), Err(Miss::NotContainer));
        assert!(resolve(DOC, "foo").is_err());
        assert!(resolve(DOC, "/m~2n").is_err());
        assert!(resolve(DOC, "/m~").is_err());
    }

    #[test]
    fn array_lengths_and_strings() {
        assert_eq!(array_len("[]"), Some(0));
        assert_eq!(array_len(r#"[1,[2,3],{"a":[]}]"#), Some(3));
        assert_eq!(array_len("{}"), None);
        assert_eq!(decode_string(r#""a\nb\u00e9""#).as_deref(), Some("a\nbé"));
        assert!(matches!(decode_string(r#""plain""#), Some(Cow::Borrowed("plain"))));
        assert_eq!(decode_string("3"), None);
    }
}
