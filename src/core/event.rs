//! An owned notification or server request, stored in one allocation.
//!
//! Every text field is kept NUL-terminated inside one buffer so the C layer can hand out
//! borrowed `const char *` without copying, and building an event costs one allocation.

use super::requests::ServerRequest;
use std::sync::Arc;

/// The well-known methods a program usually switches on; everything else is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum EventKind {
    Other = 0,
    TurnStarted = 1,
    TurnCompleted = 2,
    ItemStarted = 3,
    ItemCompleted = 4,
    AgentMessageDelta = 5,
    ReasoningDelta = 6,
    CommandOutputDelta = 7,
    TokenUsage = 8,
    Error = 9,
    ServerRequest = 10,
    /// Made by this library for callbacks: the stream failed (transport died, client closed).
    StreamError = 11,
    /// Made by this library: something the server sent was discarded (see the method).
    Skipped = 12,
}

impl EventKind {
    /// The kind of a notification method (server requests are classified by the caller).
    pub fn of_notification(method: &str) -> EventKind {
        match method {
            "item/agentMessage/delta" => EventKind::AgentMessageDelta,
            "item/started" => EventKind::ItemStarted,
            "item/completed" => EventKind::ItemCompleted,
            "turn/started" => EventKind::TurnStarted,
            "turn/completed" => EventKind::TurnCompleted,
            "item/reasoning/textDelta" | "item/reasoning/summaryTextDelta" => {
                EventKind::ReasoningDelta
            }
            "item/commandExecution/outputDelta" => EventKind::CommandOutputDelta,
            "thread/tokenUsage/updated" => EventKind::TokenUsage,
            "error" => EventKind::Error,
            _ => EventKind::Other,
        }
    }

    /// Whether the `delta` field of this kind is text a program shows as it streams.
    pub fn carries_delta(self) -> bool {
        matches!(
            self,
            EventKind::AgentMessageDelta
                | EventKind::ReasoningDelta
                | EventKind::CommandOutputDelta
        )
    }
}

#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    len: u32,
}

const ABSENT: Span = Span { start: u32::MAX, len: 0 };

/// The parts an event is built from (borrowed from the line being routed).
#[derive(Default)]
pub struct EventParts<'a> {
    pub method: &'a str,
    pub thread_id: Option<&'a str>,
    pub turn_id: Option<&'a str>,
    /// Raw JSON of `params` (`null` when the message had none).
    pub params: &'a str,
    pub delta: Option<&'a str>,
    pub turn_status: Option<&'a str>,
    /// Raw JSON of a server request's id.
    pub request_id: Option<&'a str>,
}

pub struct Event {
    kind: EventKind,
    /// The live request behind a `ServerRequest` event, for the program to answer.
    request: Option<Arc<ServerRequest>>,
    buf: Box<[u8]>,
    method: Span,
    thread_id: Span,
    turn_id: Span,
    params: Span,
    delta: Span,
    turn_status: Span,
    request_id: Span,
}

impl Event {
    pub fn new(kind: EventKind, parts: &EventParts<'_>) -> Event {
        let fields = [
            Some(parts.method),
            parts.thread_id,
            parts.turn_id,
            Some(parts.params),
            parts.delta,
            parts.turn_status,
            parts.request_id,
        ];
        let total: usize = fields.iter().flatten().map(|s| s.len() + 1).sum();
        let mut buf = Vec::with_capacity(total);
        let mut spans = [ABSENT; 7];
        for (span, field) in spans.iter_mut().zip(fields) {
            if let Some(text) = field {
                *span = Span { start: buf.len() as u32, len: text.len() as u32 };
                buf.extend_from_slice(text.as_bytes());
                buf.push(0);
            }
        }
        let [method, thread_id, turn_id, params, delta, turn_status, request_id] = spans;
        Event {
            kind,
            request: None,
            buf: buf.into_boxed_slice(),
            method,
            thread_id,
            turn_id,
            params,
            delta,
            turn_status,
            request_id,
        }
    }

    fn text(&self, span: Span) -> Option<&str> {
        if span.start == u32::MAX {
            return None;
        }
        let bytes = &self.buf[span.start as usize..(span.start + span.len) as usize];
        // Every span was copied from a &str.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// The field with its terminating NUL, for the C layer.
    fn with_nul(&self, span: Span) -> Option<&[u8]> {
        if span.start == u32::MAX {
            return None;
        }
        Some(&self.buf[span.start as usize..=(span.start + span.len) as usize])
    }

    pub fn kind(&self) -> EventKind {
        self.kind
    }
    pub fn request(&self) -> Option<&Arc<ServerRequest>> {
        self.request.as_ref()
    }
    pub(crate) fn set_request(&mut self, request: Arc<ServerRequest>) {
        self.request = Some(request);
    }
    pub fn method(&self) -> &str {
        self.text(self.method).unwrap_or("")
    }
    pub fn thread_id(&self) -> Option<&str> {
        self.text(self.thread_id)
    }
    pub fn turn_id(&self) -> Option<&str> {
        self.text(self.turn_id)
    }
    /// Raw JSON of the params (`null` when there were none).
    pub fn params(&self) -> &str {
        self.text(self.params).unwrap_or("null")
    }
    /// Decoded `delta` text of delta events.
    pub fn delta(&self) -> Option<&str> {
        self.text(self.delta)
    }
    /// `turn.status` of `turn/completed`.
    pub fn turn_status(&self) -> Option<&str> {
        self.text(self.turn_status)
    }
    /// Raw JSON of a server request's id.
    pub fn request_id(&self) -> Option<&str> {
        self.text(self.request_id)
    }

    pub fn method_c(&self) -> &[u8] {
        self.with_nul(self.method).unwrap_or(b"\0")
    }
    pub fn thread_id_c(&self) -> Option<&[u8]> {
        self.with_nul(self.thread_id)
    }
    pub fn turn_id_c(&self) -> Option<&[u8]> {
        self.with_nul(self.turn_id)
    }
    pub fn params_c(&self) -> &[u8] {
        self.with_nul(self.params).unwrap_or(b"null\0")
    }
    pub fn delta_c(&self) -> Option<&[u8]> {
        self.with_nul(self.delta)
    }
    pub fn turn_status_c(&self) -> Option<&[u8]> {
        self.with_nul(self.turn_status)
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind)
            .field("method", &self.method())
            .field("thread_id", &self.thread_id())
            .field("turn_id", &self.turn_id())
            .field("params", &self.params())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_with_nul_terminators() {
        let ev = Event::new(
            EventKind::AgentMessageDelta,
            &EventParts {
                method: "item/agentMessage/delta",
                thread_id: Some("thr_1"),
                turn_id: Some("turn_1"),
                params: r#"{"delta":"hé"}"#,
                delta: Some("hé"),
                ..Default::default()
            },
        );
        assert_eq!(ev.method(), "item/agentMessage/delta");
        assert_eq!(ev.thread_id(), Some("thr_1"));
        assert_eq!(ev.turn_id(), Some("turn_1"));
        assert_eq!(ev.delta(), Some("hé"));
        assert_eq!(ev.turn_status(), None);
        assert_eq!(ev.params_c(), "{\"delta\":\"hé\"}\0".as_bytes());
        assert_eq!(ev.turn_id_c(), Some(&b"turn_1\0"[..]));
        assert!(ev.turn_status_c().is_none());
    }
}
