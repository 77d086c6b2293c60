//! `codex_event`: one notification or server request, owned by the caller.

use super::{guard_value, Handle};
use crate::core::Event;
#[cfg(test)]
use crate::core::EventKind;
use std::ffi::c_char;

/// Any method not listed below (see `codex_event_method`).
pub const CODEX_EVENT_OTHER: u32 = 0;
/// `turn/started`.
pub const CODEX_EVENT_TURN_STARTED: u32 = 1;
/// `turn/completed`: the last event of a turn's stream; see `codex_event_turn_status`.
pub const CODEX_EVENT_TURN_COMPLETED: u32 = 2;
/// `item/started`.
pub const CODEX_EVENT_ITEM_STARTED: u32 = 3;
/// `item/completed`.
pub const CODEX_EVENT_ITEM_COMPLETED: u32 = 4;
/// `item/agentMessage/delta`: streamed reply text in `codex_event_delta`.
pub const CODEX_EVENT_AGENT_MESSAGE_DELTA: u32 = 5;
/// `item/reasoning/textDelta` or `item/reasoning/summaryTextDelta`: text in `codex_event_delta`.
pub const CODEX_EVENT_REASONING_DELTA: u32 = 6;
/// `item/commandExecution/outputDelta`: command output in `codex_event_delta`.
pub const CODEX_EVENT_COMMAND_OUTPUT_DELTA: u32 = 7;
/// `thread/tokenUsage/updated`.
pub const CODEX_EVENT_TOKEN_USAGE: u32 = 8;
/// `error` (a turn-level error; `willRetry` in the params says whether the server retries).
pub const CODEX_EVENT_ERROR: u32 = 9;
/// A server→client request (an approval, a question, a tool call) that waits for an answer:
/// take it with `codex_event_request` and answer with `codex_request_approve` /
/// `codex_request_respond`. Unanswered requests are answered fail-closed (see `codex_request`).
/// It arrives in its turn's stream, or the client stream when it has no turn.
pub const CODEX_EVENT_SERVER_REQUEST: u32 = 10;
/// Made by this library, only for callbacks: the last call of a stream that failed (the
/// app-server died, or the client was closed). Method `"codex/streamError"`, params
/// `{"kind": "Transport" | "Closed" | ..., "message": "..."}`. Polling gets the error from
/// `codex_turn_next_event` instead.
pub const CODEX_EVENT_STREAM_ERROR: u32 = 11;
/// Made by this library, on the client stream: something the server sent was discarded and
/// counted. Method `codex/lineSkipped`: a message longer than the limit
/// (`codex_options_set_max_line_bytes`); params `{"reason", "bytes", "limitBytes"}`.
pub const CODEX_EVENT_SKIPPED: u32 = 12;
/// Made by this library, in a turn's stream: the connection dropped while the turn ran and was
/// made again; the events between were missed. Method `codex/gap`, params `{"threadId",
/// "turnId", "reason", "turn"}` where `turn` is the resumed thread's snapshot of the turn (its
/// status and the items finished so far: re-render from them). A turn still running goes on
/// with its live tail (deltas of an item whose `item/started` was missed included); one that
/// ended meanwhile gets a `turn/completed` made from the snapshot next (`"codexGap": true`).
/// Its result says so: `codex_turn_result_gap`.
pub const CODEX_EVENT_GAP: u32 = 13;
/// Made by this library, on the client stream: the connection to the app-server dropped and
/// is being made again (`codex_options_set_reconnect_window_ms`). Method `codex/disconnected`,
/// params `{"reason", "windowMs"}`. Requests in flight failed with `CODEX_ERR_TRANSPORT`
/// (the server may have acted on them); until `CODEX_EVENT_RECONNECTED`, new requests fail at
/// once with `CODEX_ERR_TRANSPORT` ("not sent"); turns wait.
pub const CODEX_EVENT_DISCONNECTED: u32 = 14;
/// Made by this library, on the client stream: connected again and the client's threads
/// resumed (those it started, resumed or forked, and those with a turn). Method
/// `codex/reconnected`, params `{"attempts", "downMs", "threads": [{"threadId", "turnId"?,
/// "status", "error"?}]}`: for a thread with a turn, `status` is the turn's in the snapshot
/// (`inProgress` goes on, anything else ended the turn); else `idle`, or `notResumed` (with
/// `error`) when the server no longer has the thread.
pub const CODEX_EVENT_RECONNECTED: u32 = 15;
/// Made by this library, on the client stream: the connection could not be made again within
/// the window. Method `codex/reconnectFailed`, params `{"reason"}`; then everything fails with
/// `CODEX_ERR_TRANSPORT` and that reason, as without reconnecting.
pub const CODEX_EVENT_RECONNECT_FAILED: u32 = 16;

/// A notification or server request, owned by the caller and freed with `codex_event_free`.
/// Immutable: it may be read from several threads. Strings returned by its accessors are
/// borrowed, NUL-terminated UTF-8, valid until the event is freed.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_event {
    // The first word of the event's own allocation (core::routing::event): a handle is that allocation,
    // so handing an event to C allocates nothing.
    magic: u64,
}

handle_type!(codex_event, 0x636f_6465_7865_7674);

const _: () = assert!(std::mem::offset_of!(codex_event, magic) == 0);

pub(crate) fn event_handle(event: Event) -> *mut codex_event {
    event.into_raw(codex_event::MAGIC).cast()
}

/// Lends `event` to C while `call` runs (a callback's call); it is dropped after. A handle kept
/// past the call fails the handle check while its memory has not been reused.
pub(crate) fn lend(mut event: Event, call: impl FnOnce(*const codex_event)) {
    call(event.lend(codex_event::MAGIC).cast_const().cast());
    event.lend(0);
}

/// The live event behind a handle (a view: the handle still owns it).
pub(crate) unsafe fn event_view(
    ev: *const codex_event,
) -> Result<std::mem::ManuallyDrop<Event>, crate::core::Error> {
    super::handle(ev, "ev")?;
    Ok(Event::view(ev.cast()))
}

unsafe fn event_ref(ev: *const codex_event) -> Option<std::mem::ManuallyDrop<Event>> {
    event_view(ev).ok()
}

fn ptr_of(bytes: Option<&[u8]>) -> *const c_char {
    bytes.map_or(std::ptr::null(), |b| b.as_ptr().cast())
}

/// One of the `CODEX_EVENT_*` kinds; `CODEX_EVENT_OTHER` when `ev` is NULL or invalid.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: `CODEX_EVENT_OTHER` when `ev` is NULL or not a live handle.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_kind(ev: *const codex_event) -> u32 {
    guard_value(CODEX_EVENT_OTHER, || event_ref(ev).map_or(CODEX_EVENT_OTHER, |e| e.kind() as u32))
}

/// The protocol method, e.g. `"item/agentMessage/delta"`. NULL when `ev` is NULL or invalid.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; do not free it.
/// - **Errors:** none: NULL when `ev` is NULL or not a live handle.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_method(ev: *const codex_event) -> *const c_char {
    guard_value(std::ptr::null(), || {
        event_ref(ev).map_or(std::ptr::null(), |e| e.method_c().as_ptr().cast())
    })
}

/// The thread id (`threadId`, or `thread.id`), or NULL when the event has none.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; do not free it.
/// - **Errors:** none: NULL when `ev` has none, or is NULL or not a live event.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_thread_id(ev: *const codex_event) -> *const c_char {
    guard_value(std::ptr::null(), || {
        event_ref(ev).map_or(std::ptr::null(), |e| ptr_of(e.thread_id_c()))
    })
}

/// The turn id (`turnId`, or `turn.id`), or NULL when the event has none.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; do not free it.
/// - **Errors:** none: NULL when `ev` has none, or is NULL or not a live event.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_turn_id(ev: *const codex_event) -> *const c_char {
    guard_value(std::ptr::null(), || {
        event_ref(ev).map_or(std::ptr::null(), |e| ptr_of(e.turn_id_c()))
    })
}

/// The raw JSON of the params (`"null"` when the message had none), exactly as the server sent
/// it. Writes its length in bytes to `*len_out` when `len_out` is not NULL.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; do not free it. The length goes to
///   `*len_out`.
/// - **Errors:** none: NULL when `ev` is NULL or not a live handle.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed; `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_event_params(
    ev: *const codex_event,
    len_out: *mut usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        let Some(e) = event_ref(ev) else {
            return std::ptr::null();
        };
        if !len_out.is_null() {
            *len_out = e.params().len();
        }
        e.params_c().as_ptr().cast()
    })
}

/// The decoded `delta` text of `CODEX_EVENT_AGENT_MESSAGE_DELTA`, `CODEX_EVENT_REASONING_DELTA`
/// and `CODEX_EVENT_COMMAND_OUTPUT_DELTA` events; NULL for other kinds. Writes its length in
/// bytes to `*len_out` when not NULL (the text may contain NUL characters).
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; do not free it. The length goes to
///   `*len_out`.
/// - **Errors:** none: NULL when `ev` has none, or is NULL or not a live event.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed; `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_event_delta(
    ev: *const codex_event,
    len_out: *mut usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        let Some(e) = event_ref(ev) else {
            return std::ptr::null();
        };
        match (e.delta(), e.delta_c()) {
            (Some(text), Some(with_nul)) => {
                if !len_out.is_null() {
                    *len_out = text.len();
                }
                with_nul.as_ptr().cast()
            }
            _ => std::ptr::null(),
        }
    })
}

/// `turn.status` of `turn/started` and `turn/completed` (`"completed"`, `"interrupted"`,
/// `"failed"`, `"inProgress"`), else NULL.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; do not free it.
/// - **Errors:** none: NULL when `ev` has none, or is NULL or not a live event.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_turn_status(ev: *const codex_event) -> *const c_char {
    guard_value(std::ptr::null(), || {
        event_ref(ev).map_or(std::ptr::null(), |e| ptr_of(e.turn_status_c()))
    })
}

/// Frees an event. NULL is ignored.
///
/// - **Threads:** exclusive on `ev`.
/// - **Ownership:** releases `ev` (a request handle taken from it with `codex_event_request` stays
///   valid).
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_free(ev: *mut codex_event) {
    guard_value((), || {
        if event_view(ev).is_ok() {
            drop(Event::from_raw(ev.cast()));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_kinds_match_the_core() {
        let pairs = [
            (CODEX_EVENT_OTHER, EventKind::Other),
            (CODEX_EVENT_TURN_STARTED, EventKind::TurnStarted),
            (CODEX_EVENT_TURN_COMPLETED, EventKind::TurnCompleted),
            (CODEX_EVENT_ITEM_STARTED, EventKind::ItemStarted),
            (CODEX_EVENT_ITEM_COMPLETED, EventKind::ItemCompleted),
            (CODEX_EVENT_AGENT_MESSAGE_DELTA, EventKind::AgentMessageDelta),
            (CODEX_EVENT_REASONING_DELTA, EventKind::ReasoningDelta),
            (CODEX_EVENT_COMMAND_OUTPUT_DELTA, EventKind::CommandOutputDelta),
            (CODEX_EVENT_TOKEN_USAGE, EventKind::TokenUsage),
            (CODEX_EVENT_ERROR, EventKind::Error),
            (CODEX_EVENT_SERVER_REQUEST, EventKind::ServerRequest),
            (CODEX_EVENT_STREAM_ERROR, EventKind::StreamError),
            (CODEX_EVENT_SKIPPED, EventKind::Skipped),
            (CODEX_EVENT_GAP, EventKind::Gap),
            (CODEX_EVENT_DISCONNECTED, EventKind::Disconnected),
            (CODEX_EVENT_RECONNECTED, EventKind::Reconnected),
            (CODEX_EVENT_RECONNECT_FAILED, EventKind::ReconnectFailed),
        ];
        for (c, kind) in pairs {
            assert_eq!(c, kind as u32, "{kind:?}");
        }
    }
}
