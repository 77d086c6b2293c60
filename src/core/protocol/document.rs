//! A JSON document read by JSON Pointer: the params of an event or a server request, a turn's
//! items, a request's result. Nothing is parsed until a getter asks; each getter walks the text
//! along its pointer only. Decoded strings and sub-documents are kept in the document, so what
//! a getter lends lives as long as the document.

use super::pointer::{self, Miss};
use crate::core::error::{Error, ErrorKind, Result};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The first word of every live document: the C layer's handle check (`codex_json`).
pub(crate) const DOCUMENT_TAG: u64 = 0x636f_6465_786a_736e;

/// The JSON types a getter reports; 0 is never a type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum JsonType {
    Null = 1,
    Bool = 2,
    Number = 3,
    String = 4,
    Array = 5,
    Object = 6,
}

impl JsonType {
    /// The type of valid JSON text, from its first character.
    pub fn of(json: &str) -> JsonType {
        match json.as_bytes().first() {
            Some(b'{') => JsonType::Object,
            Some(b'[') => JsonType::Array,
            Some(b'"') => JsonType::String,
            Some(b't' | b'f') => JsonType::Bool,
            Some(b'n') => JsonType::Null,
            _ => JsonType::Number,
        }
    }

    fn name(self) -> &'static str {
        match self {
            JsonType::Null => "null",
            JsonType::Bool => "boolean",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        }
    }
}

/// Where a document's text lives.
enum Text {
    Owned(Box<str>),
    /// In memory that outlives the document (an event's or a parent document's text).
    Borrowed(*const u8, usize),
}

/// What getters lent, kept until the document is dropped, by pointer (looked up without
/// allocating). Boxed, so each address holds while the maps grow.
#[derive(Default)]
struct Kept {
    /// Decoded strings, NUL-terminated for C.
    strings: HashMap<Box<str>, Box<[u8]>>,
    /// Raw JSON texts of sub-values, NUL-terminated for C.
    raws: HashMap<Box<str>, Box<[u8]>>,
    documents: HashMap<Box<str>, Box<Document>>,
}

/// A JSON document. `#[repr(C)]` with the tag first, so a pointer to it is a `codex_json`.
#[repr(C)]
pub struct Document {
    tag: u64,
    text: Text,
    /// Whether the program owns it (parsed or returned to it) and may free it.
    owned: bool,
    /// Lent values by getter and pointer. A document may be read from several threads at once.
    kept: Mutex<Kept>,
}

// The borrowed text is immutable and outlives the document (see `borrowing`); the rest is
// Send and Sync.
unsafe impl Send for Document {}
unsafe impl Sync for Document {}

impl Document {
    fn with(text: Text, owned: bool) -> Document {
        Document { tag: DOCUMENT_TAG, text, owned, kept: Mutex::default() }
    }

    /// A document of text from a program, checked to be JSON.
    pub fn parse(json: &str, name: &str) -> Result<Document> {
        serde_json::from_str::<serde::de::IgnoredAny>(json)
            .map_err(|e| Error::invalid_argument(format!("{name}: invalid JSON: {e}")))?;
        Ok(Self::with(Text::Owned(json.trim().into()), true))
    }

    /// A document of JSON the server sent (already known to be valid).
    pub fn from_valid(json: String) -> Document {
        Self::with(Text::Owned(json.into_boxed_str()), true)
    }

    /// A view of valid JSON text owned elsewhere.
    ///
    /// # Safety
    /// `json` must stay valid and unchanged for as long as the document lives.
    pub unsafe fn borrowing(json: &str) -> Document {
        let json = json.trim();
        Self::with(Text::Borrowed(json.as_ptr(), json.len()), false)
    }

    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// Whether the program owns this document (else it is lent by another handle).
    pub fn is_owned(&self) -> bool {
        self.owned
    }

    pub fn text(&self) -> &str {
        match &self.text {
            Text::Owned(text) => text,
            Text::Borrowed(ptr, len) => unsafe {
                std::str::from_utf8_unchecked(std::slice::from_raw_parts(*ptr, *len))
            },
        }
    }

    /// The raw JSON text of the value at `pointer`.
    pub fn value(&self, pointer: &str) -> Result<&str> {
        match pointer::resolve(self.text(), pointer)? {
            Ok(raw) => Ok(raw),
            Err(Miss::Absent) => Err(Error::new(
                ErrorKind::NotFound,
                format!("pointer \"{pointer}\": no value there"),
            )),
            Err(Miss::NotContainer) => Err(Error::new(
                ErrorKind::NotFound,
                format!("pointer \"{pointer}\": goes into a value that is no object or array"),
            )),
        }
    }

    fn typed(&self, pointer: &str, wanted: JsonType) -> Result<&str> {
        let raw = self.value(pointer)?;
        let found = JsonType::of(raw);
        if found != wanted {
            return Err(wrong_type(pointer, found, wanted.name()));
        }
        Ok(raw)
    }

    pub fn json_type(&self, pointer: &str) -> Result<JsonType> {
        self.value(pointer).map(JsonType::of)
    }

    pub fn int(&self, pointer: &str) -> Result<i64> {
        let raw = self.typed(pointer, JsonType::Number)?;
        raw.parse::<i64>().map_err(|_| {
            Error::new(
                ErrorKind::WrongType,
                format!("pointer \"{pointer}\": the number {raw} is not an integer within int64"),
            )
        })
    }

    pub fn double(&self, pointer: &str) -> Result<f64> {
        let raw = self.typed(pointer, JsonType::Number)?;
        serde_json::from_str::<f64>(raw).map_err(|e| Error::protocol(format!("{pointer}: {e}")))
    }

    pub fn bool(&self, pointer: &str) -> Result<bool> {
        Ok(self.typed(pointer, JsonType::Bool)? == "true")
    }

    pub fn array_len(&self, pointer: &str) -> Result<usize> {
        let raw = self.typed(pointer, JsonType::Array)?;
        pointer::array_len(raw).ok_or_else(|| Error::protocol(format!("{pointer}: bad array")))
    }

    /// The decoded string at `pointer`, NUL-terminated (its length excludes the NUL; it may
    /// contain NULs).
    pub fn string(&self, pointer: &str) -> Result<&[u8]> {
        self.keep_text(
            |k| &mut k.strings,
            pointer,
            |raw| {
                if JsonType::of(raw) != JsonType::String {
                    return Err(wrong_type(pointer, JsonType::of(raw), "string"));
                }
                let text = pointer::decode_string(raw)
                    .ok_or_else(|| Error::protocol(format!("{pointer}: bad string")))?;
                Ok(with_nul(&text))
            },
        )
    }

    /// The raw JSON text of the value at `pointer`, NUL-terminated.
    pub fn raw(&self, pointer: &str) -> Result<&[u8]> {
        self.keep_text(|k| &mut k.raws, pointer, |raw| Ok(with_nul(raw)))
    }

    /// The value at `pointer` as a document of its own, lent for as long as this one lives.
    pub fn sub(&self, pointer: &str) -> Result<&Document> {
        if let Some(doc) = self.kept().documents.get(pointer) {
            return Ok(unsafe { extend(&**doc) });
        }
        let raw = self.value(pointer)?;
        // The sub-document borrows this document's text, which outlives it.
        let doc = Box::new(unsafe { Document::borrowing(raw) });
        let mut kept = self.kept();
        let doc = kept.documents.entry(pointer.into()).or_insert(doc);
        Ok(unsafe { extend(&**doc) })
    }

    fn keep_text(
        &self,
        map: impl Fn(&mut Kept) -> &mut HashMap<Box<str>, Box<[u8]>>,
        pointer: &str,
        make: impl FnOnce(&str) -> Result<Box<[u8]>>,
    ) -> Result<&[u8]> {
        if let Some(text) = map(&mut self.kept()).get(pointer) {
            return Ok(unsafe { extend(&**text) });
        }
        let text = make(self.value(pointer)?)?;
        let mut kept = self.kept();
        let text = map(&mut kept).entry(pointer.into()).or_insert(text);
        Ok(unsafe { extend(&**text) })
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic while the maps are held leaves them whole (inserts are single calls).
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Document").field(&self.text()).finish()
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        // A handle kept past its document's life then fails the C layer's check (while the
        // memory is not reused).
        self.tag = 0;
    }
}

/// Lends a kept value for the document's life.
///
/// # Safety
/// Kept values are boxed, never replaced or removed before the document drops.
unsafe fn extend<'a, T: ?Sized>(value: &T) -> &'a T {
    &*(value as *const T)
}

fn with_nul(text: &str) -> Box<[u8]> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes.into_boxed_slice()
}

fn wrong_type(pointer: &str, found: JsonType, wanted: &str) -> Error {
    Error::new(
        ErrorKind::WrongType,
        format!("pointer \"{pointer}\": is a {}, not a {wanted}", found.name()),
    )
}

/// A document made on first use over text its owner keeps (an event's params, a turn's
/// items): nothing is done for it until a program asks.
#[derive(Default)]
pub struct LazyDocument(OnceLock<Box<Document>>);

impl LazyDocument {
    /// The document over `json`, made the first time.
    ///
    /// # Safety
    /// `json` is the same text on every call and outlives `self`.
    pub unsafe fn get(&self, json: &str) -> &Document {
        self.0.get_or_init(|| Box::new(Document::borrowing(json)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        Document::parse(
            r#" {"s":"a\"b\u0000c","n":-42,"f":1.5,"big":1e400,"t":true,"z":null,
                "a":[1,{"k":"v"}],"o":{"x/y":"slash"}} "#,
            "json",
        )
        .unwrap()
    }

    #[test]
    fn typed_reads() {
        let d = doc();
        assert_eq!(d.string("/s").unwrap(), b"a\"b\0c\0");
        assert_eq!(d.int("/n").unwrap(), -42);
        assert_eq!(d.double("/f").unwrap(), 1.5);
        assert_eq!(d.double("/n").unwrap(), -42.0);
        assert!(d.bool("/t").unwrap());
        assert_eq!(d.json_type("/z").unwrap(), JsonType::Null);
        assert_eq!(d.array_len("/a").unwrap(), 2);
        assert_eq!(d.raw("/a/1").unwrap(), b"{\"k\":\"v\"}\0");
        assert_eq!(d.string("/o/x~1y").unwrap(), b"slash\0");
        let sub = d.sub("/a/1").unwrap();
        assert_eq!(sub.string("/k").unwrap(), b"v\0");
        assert!(!sub.is_owned() && d.is_owned());
    }

    #[test]
    fn lent_values_stay_put() {
        let d = doc();
        let first = d.string("/s").unwrap().as_ptr();
        for i in 0..100 {
            d.raw(&format!("/a/{}", i % 2)).unwrap();
            d.string("/a/1/k").unwrap();
        }
        assert_eq!(d.string("/s").unwrap().as_ptr(), first);
        let kept = d.kept();
        assert_eq!((kept.strings.len(), kept.raws.len()), (2, 2));
    }

    #[test]
    fn misses_and_wrong_types_are_told_apart() {
        let d = doc();
        let kind = |r: Result<i64>| r.unwrap_err().kind;
        assert_eq!(kind(d.int("/missing")), ErrorKind::NotFound);
        assert_eq!(kind(d.int("/s/x")), ErrorKind::NotFound);
        assert_eq!(kind(d.int("/s")), ErrorKind::WrongType);
        assert_eq!(kind(d.int("/f")), ErrorKind::WrongType);
        assert_eq!(kind(d.int("/big")), ErrorKind::WrongType);
        assert_eq!(kind(d.int("bad")), ErrorKind::InvalidArgument);
        assert_eq!(kind(d.int("/~2")), ErrorKind::InvalidArgument);
        assert_eq!(d.string("/n").unwrap_err().kind, ErrorKind::WrongType);
        assert_eq!(d.bool("/z").unwrap_err().kind, ErrorKind::WrongType);
        assert_eq!(d.array_len("/o").unwrap_err().kind, ErrorKind::WrongType);
        assert!(Document::parse("{", "json").unwrap_err().message.starts_with("json: invalid"));
    }

    #[test]
    fn getters_agree_with_serde_json() {
        let text = r#"{"item":{"type":"commandExecution","id":"c1","command":"ls \"a b\"",
            "exitCode":0,"durationMs":12,"aggregatedOutput":"x\ny\n"},"threadId":"t"}"#;
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        let d = Document::parse(text, "json").unwrap();
        for p in ["/item/type", "/item/command", "/item/aggregatedOutput", "/threadId"] {
            let s = d.string(p).unwrap();
            assert_eq!(&s[..s.len() - 1], value.pointer(p).unwrap().as_str().unwrap().as_bytes());
        }
        assert_eq!(d.int("/item/durationMs").unwrap(), 12);
    }
}
