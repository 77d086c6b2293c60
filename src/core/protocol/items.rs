//! Typed reads of the protocol's objects over a `Document`: a thread item, a token usage, a
//! turn's failure, a server request's params. Each read walks the text along one pointer, so
//! nothing is paid for what is never asked. One rule for all: a field that is absent or `null`
//! is `NotFound`, a field of another type is `WrongType`.

use super::document::{Document, JsonType};
use super::kinds::{
    ChangeKind, FailureKind, ItemKind, ItemStatus, MessagePhase, ModerationDisplay,
};
use crate::core::error::{Error, ErrorKind, Result};

/// A getter's error, with `null` at `pointer` counted as absent (checked only on the error
/// path, so a value that is there costs one walk).
fn null_is_absent(doc: &Document, pointer: &str, e: Error) -> Error {
    if e.kind == ErrorKind::WrongType && doc.json_type(pointer).ok() == Some(JsonType::Null) {
        return Error::new(ErrorKind::NotFound, format!("pointer \"{pointer}\": is null"));
    }
    e
}

/// The decoded string at `pointer` (NUL-terminated, kept by the document).
pub fn text<'d>(doc: &'d Document, pointer: &str) -> Result<&'d [u8]> {
    doc.string(pointer).map_err(|e| null_is_absent(doc, pointer, e))
}

/// The integer at `pointer`.
pub fn int(doc: &Document, pointer: &str) -> Result<i64> {
    doc.int(pointer).map_err(|e| null_is_absent(doc, pointer, e))
}

/// The string at `pointer` as a kind of `of`.
fn kind<T>(doc: &Document, pointer: &str, of: fn(&str) -> T) -> Result<T> {
    let bytes = text(doc, pointer)?;
    // Decoded from JSON text, so UTF-8; a name with a NUL is simply not a known one.
    Ok(of(std::str::from_utf8(&bytes[..bytes.len() - 1]).unwrap_or("")))
}

pub fn item_kind(item: &Document) -> Result<ItemKind> {
    kind(item, "/type", ItemKind::of)
}

pub fn item_status(item: &Document) -> Result<ItemStatus> {
    kind(item, "/status", ItemStatus::of)
}

pub fn message_phase(item: &Document) -> Result<MessagePhase> {
    kind(item, "/phase", MessagePhase::of)
}

/// How the app should present an agent message codex moderated: `NotFound` when it was not
/// moderated (or the server predates moderation).
pub fn moderation_display(item: &Document) -> Result<ModerationDisplay> {
    kind(item, "/moderation/display/mode", ModerationDisplay::of)
}

/// The pointer to a member of the `index`th file change of a `fileChange` item.
pub fn change_pointer(index: usize, member: &str) -> String {
    format!("/changes/{index}/{member}")
}

pub fn change_kind(item: &Document, index: usize) -> Result<ChangeKind> {
    kind(item, &(change_pointer(index, "kind") + "/type"), ChangeKind::of)
}

/// Which part of a `ThreadTokenUsage` to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum UsageScope {
    /// The thread's running total.
    Total = 1,
    /// The last model call.
    Last = 2,
}

impl UsageScope {
    pub fn from_u32(scope: u32) -> Option<UsageScope> {
        match scope {
            1 => Some(UsageScope::Total),
            2 => Some(UsageScope::Last),
            _ => None,
        }
    }
}

/// Token counts of one `TokenUsageBreakdown`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub input: i64,
    pub cached_input: i64,
    pub output: i64,
    pub reasoning_output: i64,
    pub total: i64,
}

/// A usage document: a `ThreadTokenUsage`, or a `thread/tokenUsage/updated` event's params
/// (whose `tokenUsage` is read).
fn usage_root(usage: &Document) -> Result<&Document> {
    match usage.json_type("/tokenUsage") {
        Ok(JsonType::Object) => usage.sub("/tokenUsage"),
        _ => Ok(usage),
    }
}

pub fn token_counts(usage: &Document, scope: UsageScope) -> Result<TokenCounts> {
    let usage = usage_root(usage)?;
    // One walk to the breakdown (kept by the document), then five short ones inside it.
    let part = usage.sub(match scope {
        UsageScope::Total => "/total",
        UsageScope::Last => "/last",
    })?;
    let count = |name: &str| int(part, name);
    Ok(TokenCounts {
        input: count("/inputTokens")?,
        cached_input: count("/cachedInputTokens")?,
        output: count("/outputTokens")?,
        reasoning_output: count("/reasoningOutputTokens")?,
        total: count("/totalTokens")?,
    })
}

pub fn context_window(usage: &Document) -> Result<i64> {
    int(usage_root(usage)?, "/modelContextWindow")
}

/// A failure document: a `TurnError` (`{message, codexErrorInfo?}`), an `error` event's
/// params (whose `error` is read) or a `turn/completed` event's (`turn.error`).
pub fn failure_root(failure: &Document) -> Result<&Document> {
    for nested in ["/error", "/turn/error"] {
        if let Ok(JsonType::Object) = failure.json_type(nested) {
            return failure.sub(nested);
        }
    }
    Ok(failure)
}

/// `codexErrorInfo`'s kind name: the string itself, or the one member of its object form.
fn failure_name(failure: &Document) -> Result<(String, Option<&Document>)> {
    let failure = failure_root(failure)?;
    let info = "/codexErrorInfo";
    match failure.json_type(info)? {
        JsonType::String => {
            let name = text(failure, info)?;
            Ok((String::from_utf8_lossy(&name[..name.len() - 1]).into_owned(), None))
        }
        JsonType::Object => {
            let raw = failure.value(info)?;
            let members: serde_json::Map<String, serde_json::Value> = serde_json::from_str(raw)
                .map_err(|e| Error::protocol(format!("codexErrorInfo: {e}")))?;
            let name = members.keys().next().cloned().unwrap_or_default();
            let body = failure.sub(&format!("{info}/{}", escape(&name)))?;
            Ok((name, Some(body)))
        }
        JsonType::Null => Err(Error::new(ErrorKind::NotFound, "codexErrorInfo: is null")),
        other => Err(Error::new(
            ErrorKind::WrongType,
            format!("pointer \"{info}\": is a {other:?}, not a string or object"),
        )),
    }
}

pub fn failure_kind(failure: &Document) -> Result<FailureKind> {
    failure_name(failure).map(|(name, _)| FailureKind::of(&name))
}

/// The upstream HTTP status `codexErrorInfo` carries (`{"kind": {"httpStatusCode": N}}`).
pub fn failure_http_status(failure: &Document) -> Result<i64> {
    match failure_name(failure)? {
        (_, Some(body)) => int(body, "/httpStatusCode"),
        (name, None) => Err(Error::new(
            ErrorKind::NotFound,
            format!("codexErrorInfo \"{name}\" carries no HTTP status"),
        )),
    }
}

pub fn failure_message(failure: &Document) -> Result<&[u8]> {
    text(failure_root(failure)?, "/message")
}

/// A member name as a JSON Pointer token (RFC 6901).
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(text, "t").unwrap()
    }

    #[test]
    fn items() {
        let cmd = doc(r#"{"type":"commandExecution","id":"c1","status":"completed","command":"ls",
                "exitCode":0,"durationMs":null,"aggregatedOutput":"a\n"}"#);
        assert_eq!(item_kind(&cmd).unwrap(), ItemKind::CommandExecution);
        assert_eq!(item_status(&cmd).unwrap(), ItemStatus::Completed);
        assert_eq!(int(&cmd, "/exitCode").unwrap(), 0);
        assert_eq!(int(&cmd, "/durationMs").unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(text(&cmd, "/command").unwrap(), b"ls\0");
        assert_eq!(text(&cmd, "/exitCode").unwrap_err().kind, ErrorKind::WrongType);
        assert_eq!(message_phase(&cmd).unwrap_err().kind, ErrorKind::NotFound);
        let msg = doc(r#"{"type":"agentMessage","text":"hi","phase":"final_answer",
                "moderation":{"moderated":true,"display":{"mode":"hide","version":1}}}"#);
        assert_eq!(message_phase(&msg).unwrap(), MessagePhase::FinalAnswer);
        assert_eq!(moderation_display(&msg).unwrap(), ModerationDisplay::Hide);
        assert_eq!(item_kind(&doc(r#"{"type":"teleport"}"#)).unwrap(), ItemKind::Unknown);
        let change =
            doc(r#"{"type":"fileChange","changes":[{"path":"a","kind":{"type":"add"},"diff":"+x"},
                {"path":"b","kind":{"type":"update","move_path":null},"diff":"-y"}]}"#);
        assert_eq!(change_kind(&change, 1).unwrap(), ChangeKind::Update);
        assert_eq!(text(&change, &change_pointer(0, "path")).unwrap(), b"a\0");
        assert_eq!(change_kind(&change, 2).unwrap_err().kind, ErrorKind::NotFound);
    }

    #[test]
    fn usage() {
        let breakdown = r#"{"inputTokens":5,"cachedInputTokens":1,"outputTokens":3,
            "reasoningOutputTokens":2,"totalTokens":8}"#;
        let usage = format!(r#"{{"total":{breakdown},"last":{breakdown},"modelContextWindow":9}}"#);
        let event = format!(r#"{{"threadId":"t","turnId":"u","tokenUsage":{usage}}}"#);
        for d in [doc(&usage), doc(&event)] {
            let counts = token_counts(&d, UsageScope::Last).unwrap();
            assert_eq!(
                counts,
                TokenCounts { input: 5, cached_input: 1, output: 3, reasoning_output: 2, total: 8 }
            );
            assert_eq!(context_window(&d).unwrap(), 9);
        }
        assert_eq!(
            token_counts(&doc("{}"), UsageScope::Total).unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    #[test]
    fn failures() {
        let named = doc(r#"{"message":"too long","codexErrorInfo":"contextWindowExceeded"}"#);
        assert_eq!(failure_kind(&named).unwrap(), FailureKind::ContextWindowExceeded);
        assert_eq!(failure_http_status(&named).unwrap_err().kind, ErrorKind::NotFound);
        assert_eq!(failure_message(&named).unwrap(), b"too long\0");
        let object =
            doc(r#"{"error":{"message":"m","codexErrorInfo":{"responseStreamDisconnected":
                {"httpStatusCode":502}}},"willRetry":false}"#);
        assert_eq!(failure_kind(&object).unwrap(), FailureKind::ResponseStreamDisconnected);
        assert_eq!(failure_http_status(&object).unwrap(), 502);
        let completed =
            doc(r#"{"threadId":"t","turn":{"id":"u","status":"failed","error":{"message":"q",
                "codexErrorInfo":"usageLimitExceeded"}}}"#);
        assert_eq!(failure_kind(&completed).unwrap(), FailureKind::UsageLimitExceeded);
        assert_eq!(failure_message(&completed).unwrap(), b"q\0");
        let none = doc(r#"{"message":"m","codexErrorInfo":null}"#);
        assert_eq!(failure_kind(&none).unwrap_err().kind, ErrorKind::NotFound);
        let newer = doc(r#"{"message":"m","codexErrorInfo":{"fancyNewKind":{}}}"#);
        assert_eq!(failure_kind(&newer).unwrap(), FailureKind::Unknown);
        assert_eq!(failure_http_status(&newer).unwrap_err().kind, ErrorKind::NotFound);
    }
}
