//! An owned notification or server request, stored in one allocation.
//!
//! Every text field is kept NUL-terminated after the event's head so the C layer can hand out
//! borrowed `const char *` without copying; building an event costs one allocation, and giving
//! it to C none (the allocation is the handle).

mod release;

use super::requests::ServerRequest;
use crate::core::protocol::document::{Document, LazyDocument};
pub(crate) use release::{free_returned, register_reader};
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
    /// Made by this library, in a turn's stream after a reconnect: events were missed.
    Gap = 13,
    /// Made by this library, on the client stream: the connection dropped; reconnecting.
    Disconnected = 14,
    /// Made by this library, on the client stream: connected again, threads resumed.
    Reconnected = 15,
    /// Made by this library, on the client stream: no reconnect within the window.
    ReconnectFailed = 16,
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

/// The head of an event's one allocation; its text follows it.
#[repr(C)]
struct Head {
    /// First, for the C layer: an event handed to C is this allocation itself, and its handle
    /// check reads the magic here (0 while the event is the core's).
    magic: u64,
    /// The text just after this head, in the same allocation.
    text: *const u8,
    len: usize,
    /// The live request behind a `ServerRequest` event, for the program to answer.
    request: Option<Arc<ServerRequest>>,
    /// The params as a document, made only when a program reads them by pointer.
    params_doc: LazyDocument,
    kind: EventKind,
    method: Span,
    thread_id: Span,
    turn_id: Span,
    params: Span,
    delta: Span,
    turn_status: Span,
    request_id: Span,
}

/// An event: a pointer to one allocation holding its head and every text field (each
/// NUL-terminated, so the C layer lends `const char *` without copying). Building one is one
/// allocation; a queue slot or a move is a pointer; handing it to C allocates nothing.
pub struct Event {
    head: std::ptr::NonNull<Head>,
}

// The allocation is owned by the `Event` alone and immutable once built (`set_request` takes
// `&mut self`); its parts are Send and Sync.
unsafe impl Send for Event {}
unsafe impl Sync for Event {}

fn layout(len: usize) -> (std::alloc::Layout, usize) {
    let (layout, offset) = std::alloc::Layout::new::<Head>()
        .extend(std::alloc::Layout::array::<u8>(len).expect("event size"))
        .expect("event size");
    (layout.pad_to_align(), offset)
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
        let len: usize = fields.iter().flatten().map(|s| s.len() + 1).sum();
        assert!(len < u32::MAX as usize, "an event's text must fit in 4 GiB");
        let (layout, offset) = layout(len);
        unsafe {
            let base = std::alloc::alloc(layout);
            if base.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            let text = base.add(offset);
            let mut spans = [ABSENT; 7];
            let mut at = 0usize;
            for (span, field) in spans.iter_mut().zip(fields) {
                if let Some(field) = field {
                    *span = Span { start: at as u32, len: field.len() as u32 };
                    std::ptr::copy_nonoverlapping(field.as_ptr(), text.add(at), field.len());
                    *text.add(at + field.len()) = 0;
                    at += field.len() + 1;
                }
            }
            let [method, thread_id, turn_id, params, delta, turn_status, request_id] = spans;
            let head = base.cast::<Head>();
            head.write(Head {
                magic: 0,
                text,
                len,
                request: None,
                params_doc: LazyDocument::default(),
                kind,
                method,
                thread_id,
                turn_id,
                params,
                delta,
                turn_status,
                request_id,
            });
            Event { head: std::ptr::NonNull::new_unchecked(head) }
        }
    }

    fn head(&self) -> &Head {
        unsafe { self.head.as_ref() }
    }

    fn text(&self, span: Span) -> Option<&str> {
        let bytes = self.with_nul(span)?;
        // Every span was copied from a &str.
        Some(unsafe { std::str::from_utf8_unchecked(&bytes[..bytes.len() - 1]) })
    }

    /// The field with its terminating NUL, for the C layer.
    fn with_nul(&self, span: Span) -> Option<&[u8]> {
        if span.start == u32::MAX {
            return None;
        }
        let head = self.head();
        Some(unsafe {
            std::slice::from_raw_parts(head.text.add(span.start as usize), span.len as usize + 1)
        })
    }

    pub fn kind(&self) -> EventKind {
        self.head().kind
    }
    pub fn request(&self) -> Option<&Arc<ServerRequest>> {
        self.head().request.as_ref()
    }
    pub(crate) fn set_request(&mut self, request: Arc<ServerRequest>) {
        unsafe { self.head.as_mut().request = Some(request) };
    }
    pub fn method(&self) -> &str {
        self.text(self.head().method).unwrap_or("")
    }
    pub fn thread_id(&self) -> Option<&str> {
        self.text(self.head().thread_id)
    }
    pub fn turn_id(&self) -> Option<&str> {
        self.text(self.head().turn_id)
    }
    /// Raw JSON of the params (`null` when there were none).
    pub fn params(&self) -> &str {
        self.text(self.head().params).unwrap_or("null")
    }
    /// The params as a document for JSON Pointer getters (made on the first call).
    pub fn params_document(&self) -> &Document {
        // The params text lives in this event's allocation, as long as the head.
        unsafe { self.head().params_doc.get(self.params()) }
    }
    /// Decoded `delta` text of delta events.
    pub fn delta(&self) -> Option<&str> {
        self.text(self.head().delta)
    }
    /// `turn.status` of `turn/completed`.
    pub fn turn_status(&self) -> Option<&str> {
        self.text(self.head().turn_status)
    }
    /// Raw JSON of a server request's id.
    pub fn request_id(&self) -> Option<&str> {
        self.text(self.head().request_id)
    }

    pub fn method_c(&self) -> &[u8] {
        self.with_nul(self.head().method).unwrap_or(b"\0")
    }
    pub fn thread_id_c(&self) -> Option<&[u8]> {
        self.with_nul(self.head().thread_id)
    }
    pub fn turn_id_c(&self) -> Option<&[u8]> {
        self.with_nul(self.head().turn_id)
    }
    pub fn params_c(&self) -> &[u8] {
        self.with_nul(self.head().params).unwrap_or(b"null\0")
    }
    pub fn delta_c(&self) -> Option<&[u8]> {
        self.with_nul(self.head().delta)
    }
    pub fn turn_status_c(&self) -> Option<&[u8]> {
        self.with_nul(self.head().turn_status)
    }

    /// The event's own allocation, as the C layer's handle, with `magic` in its first word.
    /// The event is then owned by that pointer until `from_raw` takes it back.
    pub(crate) fn into_raw(mut self, magic: u64) -> *mut u64 {
        let head = self.lend(magic);
        std::mem::forget(self);
        head
    }

    /// The event's allocation as a handle lent for a while (a callback's call): `magic` set in
    /// its first word; the event still owns it. Set the magic back to 0 before dropping it, so
    /// a handle kept past its lending fails the C layer's check.
    pub(crate) fn lend(&mut self, magic: u64) -> *mut u64 {
        let head = self.head.as_ptr();
        unsafe { (*head).magic = magic };
        head.cast::<u64>()
    }

    /// Takes back an event given out by `into_raw` (its magic cleared).
    ///
    /// # Safety
    /// `raw` came from `into_raw` and is taken back once.
    pub(crate) unsafe fn from_raw(raw: *mut u64) -> Event {
        let head = raw.cast::<Head>();
        (*head).magic = 0;
        Event { head: std::ptr::NonNull::new_unchecked(head) }
    }

    /// Views an event given out by `into_raw` or `lend` without taking it.
    ///
    /// # Safety
    /// `raw` came from `into_raw` or `lend`, and the event outlives the view.
    pub(crate) unsafe fn view(raw: *const u64) -> std::mem::ManuallyDrop<Event> {
        std::mem::ManuallyDrop::new(Event {
            head: std::ptr::NonNull::new_unchecked(raw.cast::<Head>().cast_mut()),
        })
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        unsafe {
            let head = self.head.as_ptr();
            let (layout, _) = layout((*head).len);
            std::ptr::drop_in_place(head);
            release::release(std::ptr::NonNull::new_unchecked(head.cast::<u8>()), layout);
        }
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind())
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
