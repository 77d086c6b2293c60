//! `codex_turn` and `codex_turn_result`: a running turn's stream, and its summary.

use super::callback::{self, codex_event_callback, codex_userdata_free};
use super::client::client_ref;
use super::error::codex_error;
use super::event::{codex_event, event_handle};
use super::{
    c_str, check_timeout, codex_result, guard, guard_result, guard_value, handle, into_handle,
    invalid, opt_c_str, out_ptr, CText, Handle, Outcome, CODEX_STREAM_END,
};
use crate::core::client::turn::Next;
use crate::core::client::turn_summary::TurnOutcome;
use crate::core::protocol::document::{Document, LazyDocument};
use crate::core::routing::dispatch::Callback;
use crate::core::routing::queue::Wait;
use crate::core::{Error, Turn};
use std::ffi::{c_char, c_void};

/// A turn started with `codex_turn_start`: its own stream of events, in arrival order,
/// including those that arrived before the `turn/start` response.
///
/// Threads: `codex_turn_next_event` and `codex_turn_run` are meant for one consumer at a time
/// (concurrent calls are safe but share the one stream). `codex_turn_steer`,
/// `codex_turn_interrupt`, `codex_turn_id` may be called from any thread, also while another
/// thread waits in `codex_turn_next_event`. `codex_turn_free` is exclusive: call it after every
/// other call on the turn has returned.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_turn {
    magic: u64,
    turn: Turn,
    /// The id the handle started with (the `turn/start` answer's, or its events' when they came
    /// first); `drifted` holds the events' id when it turned out to differ.
    turn_id: CText,
    drifted: std::sync::OnceLock<CText>,
    thread_id: CText,
}

handle_type!(codex_turn, 0x636f_6465_7874_726e);

pub(crate) unsafe fn turn_ref<'a>(turn: *const codex_turn) -> Result<&'a Turn, Error> {
    handle(turn, "turn").map(|t| &t.turn)
}

/// Starts a turn: the body shared by `codex_turn_start` and `codex_turn_start_with_callback`.
unsafe fn start_turn(
    client: *const super::client::codex_client,
    thread_id: *const c_char,
    input: *const c_char,
    params_json: *const c_char,
    callback: Option<Callback>,
    turn_out: *mut *mut codex_turn,
) -> Result<(), Error> {
    let client = client_ref(client)?;
    let start = |thread: &str, input: &str, params: Option<&str>, callback| {
        client.turn_start(thread, input, params, callback)
    };
    start_turn_on(start, thread_id, input, params_json, callback, turn_out)
}

/// Checks the arguments every turn start shares, starts the turn with `start`, and writes its
/// handle to `turn_out`.
pub(crate) unsafe fn start_turn_on(
    start: impl Fn(&str, &str, Option<&str>, Option<Callback>) -> Result<Turn, Error>,
    thread_id: *const c_char,
    input: *const c_char,
    params_json: *const c_char,
    callback: Option<Callback>,
    turn_out: *mut *mut codex_turn,
) -> Result<(), Error> {
    let thread_id = c_str(thread_id, "thread_id")?;
    let input = c_str(input, "input")?;
    let params = opt_c_str(params_json, "params_json")?;
    out_ptr(turn_out, "turn_out")?;
    let polled = callback.is_none();
    let turn = start(thread_id, input, params, callback)?;
    write_turn(turn, polled, turn_out);
    Ok(())
}

/// Makes the handle of `turn` and writes it to `turn_out` (checked by the caller); a polled
/// turn is reported to the client's event loop.
pub(crate) unsafe fn write_turn(turn: Turn, polled: bool, turn_out: *mut *mut codex_turn) {
    let handle = into_handle(codex_turn {
        magic: codex_turn::MAGIC,
        turn_id: CText::new(turn.id()),
        drifted: std::sync::OnceLock::new(),
        thread_id: CText::new(turn.thread_id()),
        turn,
    });
    // An event loop of the client learns of this turn by its handle (its callback, if any,
    // delivers instead).
    if polled {
        (*handle).turn.report_ready_as(handle as usize);
    }
    *turn_out = handle;
}

/// Starts a turn on `thread_id` (`turn/start`), its events read with `codex_turn_next_event`.
///
/// `input` is plain text, or, when it is a JSON array, the input items themselves
/// (`[{"type":"text","text":"..."},{"type":"localImage","path":"/a.png"}]`). To send text that
/// is itself a JSON array, wrap it in a text item. `params_json` is NULL or a JSON object of
/// further `turn/start` params (`model`, `effort`, `cwd`, `approvalPolicy`, `sandboxPolicy`,
/// `outputSchema`, ...) without `threadId` and `input`.
///
/// Only one turn per thread may be active on a client: while a turn on `thread_id` is running
/// or starting, this returns `CODEX_ERR_TURN_ACTIVE` (steer or interrupt that turn instead).
/// Turns on different threads run concurrently and never wait for each other.
///
/// On success writes the turn to `*turn_out` (free with `codex_turn_free`). Thread-safe.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** `input` and `params_json` are only read during the call; the turn written to
///   `*turn_out` is the caller's: free it with `codex_turn_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or invalid arguments, `params_json` not a JSON
///   object or holding `threadId`/`input`), `CODEX_ERR_TURN_ACTIVE` (the thread already has a turn
///   running or starting), `CODEX_ERR_PROTOCOL` (a result without a turn id), `CODEX_ERR_TIMEOUT`
///   (the client's request timeout), `CODEX_ERR_RPC` (the server's error, with its code and data),
///   `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `thread_id` and `input` strings; `params_json` NULL or a string;
/// `turn_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_start(
    client: *const super::client::codex_client,
    thread_id: *const c_char,
    input: *const c_char,
    params_json: *const c_char,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || start_turn(client, thread_id, input, params_json, None, turn_out))
}

/// Starts a turn like `codex_turn_start`, with every event of the turn — from the first,
/// including those that arrive before the `turn/start` response — passed to `callback` on one
/// of the client's callback threads (`codex_options_set_callback_threads`), in order and one
/// call at a time, instead of `codex_turn_next_event` (which then returns
/// `CODEX_ERR_INVALID_ARGUMENT`). The last call is `turn/completed`, or a
/// `CODEX_EVENT_STREAM_ERROR` event if the app-server dies or the client closes first.
///
/// `codex_turn_run` waits for the callback's last call and returns the summary (not from inside
/// the callback itself: that returns `CODEX_ERR_INVALID_ARGUMENT`); steer and interrupt work as
/// usual. `codex_turn_free` stops delivery: no call starts after it returns
/// (it waits for a running call, unless called from inside that call).
///
/// `userdata` is passed to every call; `userdata_free` (may be NULL) runs exactly once, after
/// the last call — also when this function fails, before it returns. `callback` must not be NULL.
///
/// - **Threads:** any thread; the callback runs on a library thread (see `codex_event_callback`).
/// - **Ownership:** the library owns `userdata` and releases it with `userdata_free` exactly once,
///   after the last call (at once when this fails); the turn written to `*turn_out` is the caller's
///   (`codex_turn_free`).
/// - **Errors:** those of `codex_turn_start`, and `CODEX_ERR_INVALID_ARGUMENT` for a NULL
///   `callback`.
///
/// # Safety
/// As for `codex_turn_start`; `callback` and `userdata_free` must be callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_start_with_callback(
    client: *const super::client::codex_client,
    thread_id: *const c_char,
    input: *const c_char,
    params_json: *const c_char,
    callback: codex_event_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let callback = callback::required(callback, userdata, userdata_free)?;
        // On failure the callback is dropped here, which runs userdata_free.
        start_turn(client, thread_id, input, params_json, Some(callback), turn_out)
    })
}

/// The turn's id. Borrowed: valid until the turn is freed. NULL for an invalid turn.
///
/// This is the id the turn's events carry (`codex_event_turn_id`), the one steer and interrupt
/// use. It differs from the `turn/start` answer's id only when the server steered the input into
/// a turn already running on the thread (openai/codex#36866): then, until the first event
/// arrives, this is the answer's id, and afterwards the events' (a second string, also valid
/// until the turn is freed). The turn's stream holds the events of both ids.
///
/// - **Threads:** any thread, while no `*_free` of `turn` runs.
/// - **Ownership:** borrowed: valid until `turn` is freed; do not free it.
/// - **Errors:** none: NULL when `turn` is NULL or not a live handle.
///
/// # Safety
/// `turn` must be NULL or a live turn.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_id(turn: *const codex_turn) -> *const c_char {
    guard_value(std::ptr::null(), || {
        handle(turn, "turn").map_or(std::ptr::null(), |t| {
            let now = t.turn.id();
            if now.as_bytes() == &t.turn_id.0[..t.turn_id.len()] {
                t.turn_id.ptr()
            } else {
                t.drifted.get_or_init(|| CText::new(now)).ptr()
            }
        })
    })
}

/// The id of the turn's thread. Borrowed: valid until the turn is freed.
///
/// - **Threads:** any thread, while no `*_free` of `turn` runs.
/// - **Ownership:** borrowed: valid until `turn` is freed; do not free it.
/// - **Errors:** none: NULL when `turn` is NULL or not a live handle.
///
/// # Safety
/// `turn` must be NULL or a live turn.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_thread_id(turn: *const codex_turn) -> *const c_char {
    guard_value(std::ptr::null(), || {
        handle(turn, "turn").map_or(std::ptr::null(), |t| t.thread_id.ptr())
    })
}

/// The turn's next event, in arrival order.
///
/// `timeout_ms`: -1 waits without limit, 0 polls, positive waits that long. Returns `CODEX_OK`
/// and writes a new event to `*event_out` (free with `codex_event_free`); `CODEX_ERR_TIMEOUT`
/// when nothing came in time (call again); `CODEX_STREAM_END` after the `turn/completed` event
/// has been returned (no error object; every later call returns it too); `CODEX_ERR_TRANSPORT`
/// when the server died (exit status and stderr tail in the message) or `CODEX_ERR_CLOSED`
/// after `codex_client_close`, once the events that came before are consumed.
///
/// Limits (see `codex_options`): a turn whose unconsumed events reach the turn buffer
/// (`codex_options_set_turn_buffer_events`, default 65536) fails with `CODEX_ERR_OVERFLOW`:
/// its buffered events are freed, the library sends `turn/interrupt` for it, and its later
/// events are discarded and counted (`codex_turn_dropped_events`); the events taken before
/// stay valid. With an idle timeout (`codex_options_set_turn_idle_timeout_ms`), a wait that
/// sees no event of the turn for that long ends the turn with `CODEX_ERR_TIMEOUT` (with an
/// error object saying so) and interrupts it; every later call gives the same error.
///
/// A thread blocked here per turn suits up to about a thousand turns. For thousands, poll
/// them from one event loop (`codex_client_event_fd`) or give them callbacks: each blocked
/// thread costs a wake-up and a context switch per batch of its events (at 10,000 turns on 2
/// cores, a quarter to a third of the events per second of the other two ways; README,
/// Benchmarks).
///
/// - **Threads:** one consumer at a time per turn (other threads may steer or interrupt it
///   meanwhile).
/// - **Ownership:** the event written to `*event_out` is the caller's: free it with
///   `codex_event_free`.
/// - **Errors:** `CODEX_STREAM_END` (not an error: after `turn/completed`), `CODEX_ERR_TIMEOUT`,
///   `CODEX_ERR_OVERFLOW`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`, `CODEX_ERR_INVALID_ARGUMENT`
///   (NULL arguments, a `timeout_ms` below -1, a turn with a callback).
///
/// # Safety
/// `turn` a live turn; `event_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_next_event(
    turn: *const codex_turn,
    timeout_ms: i64,
    event_out: *mut *mut codex_event,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard(err_out, || {
        let next = (|| {
            let turn = turn_ref(turn)?;
            let wait = Wait::from_millis(check_timeout(timeout_ms)?);
            out_ptr(event_out, "event_out")?;
            turn.next_event(wait)
        })();
        match next {
            Ok(Next::Event(event)) => {
                *event_out = event_handle(event);
                Outcome::Ok
            }
            Ok(Next::End) => Outcome::Code(CODEX_STREAM_END),
            Err(err) => Outcome::Err(err),
        }
    })
}

/// Adds input to the running turn (`turn/steer`); `input` as in `codex_turn_start`. Fails with
/// `CODEX_ERR_RPC` when the turn is no longer active, `CODEX_ERR_TIMEOUT` when the server does
/// not answer within the control timeout (`codex_options_set_control_timeout_ms`, default
/// 10000). Thread-safe.
///
/// - **Threads:** any thread, also while another thread consumes the turn.
/// - **Ownership:** `input` is only read during the call; nothing to free.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or invalid arguments), `CODEX_ERR_RPC` (the
///   turn is no longer active), `CODEX_ERR_TIMEOUT` (the control timeout), `CODEX_ERR_TRANSPORT`,
///   `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `turn` a live turn; `input` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_steer(
    turn: *const codex_turn,
    input: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let turn = turn_ref(turn)?;
        let input = c_str(input, "input")?;
        if input.is_empty() {
            return Err(invalid("input: must not be empty".into()));
        }
        turn.steer(input)
    })
}

/// Asks the server to stop the turn (`turn/interrupt`); the stream then ends with a
/// `turn/completed` whose status is `"interrupted"`. `CODEX_ERR_TIMEOUT` when the server does
/// not answer within the control timeout (`codex_options_set_control_timeout_ms`, default
/// 10000). Thread-safe.
///
/// - **Threads:** any thread, also while another thread consumes the turn.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `turn`), `CODEX_ERR_RPC`,
///   `CODEX_ERR_TIMEOUT` (the control timeout), `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `turn` a live turn; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_interrupt(
    turn: *const codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || turn_ref(turn).and_then(Turn::interrupt))
}

/// How many events of this turn were dropped: after `CODEX_ERR_OVERFLOW`, the buffered ones and
/// every one that arrived later; otherwise 0. 0 for an invalid turn. Thread-safe.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 when `turn` is NULL or not a live handle.
///
/// # Safety
/// `turn` must be NULL or a live turn.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_dropped_events(turn: *const codex_turn) -> u64 {
    guard_value(0, || turn_ref(turn).map_or(0, Turn::dropped_events))
}

/// The summary of a finished turn, from `codex_turn_run`. Owned by the caller, freed with
/// `codex_turn_result_free`; immutable. Strings are borrowed until it is freed.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_turn_result {
    magic: u64,
    status: CText,
    error_message: Option<CText>,
    final_answer: Option<CText>,
    items_json: CText,
    usage_json: Option<CText>,
    /// The failure as a `TurnError` object (`codex_turn_result_error`).
    error_json: Option<CText>,
    gap: bool,
    review: Option<CText>,
    /// `items_json`, `usage_json` and `error_json` read by JSON Pointer, made on first use.
    items_doc: LazyDocument,
    usage_doc: LazyDocument,
    error_doc: LazyDocument,
}

handle_type!(codex_turn_result, 0x636f_6465_7872_736c);

impl From<TurnOutcome> for codex_turn_result {
    fn from(o: TurnOutcome) -> Self {
        codex_turn_result {
            magic: Self::MAGIC,
            status: CText::new(&o.status),
            error_message: o.error_message.as_deref().map(CText::new),
            final_answer: o.final_answer.as_deref().map(CText::new),
            items_json: CText::new(&o.items_json),
            usage_json: o.usage_json.as_deref().map(CText::new),
            error_json: o.error_json.as_deref().map(CText::new),
            gap: o.gap,
            review: o.review.as_deref().map(CText::new),
            items_doc: LazyDocument::default(),
            usage_doc: LazyDocument::default(),
            error_doc: LazyDocument::default(),
        }
    }
}

/// Runs the turn to completion: consumes the events not yet taken with
/// `codex_turn_next_event` (freeing them) until `turn/completed`, and writes a summary of the
/// whole turn — including events already returned by `codex_turn_next_event` — to
/// `*result_out` (free with `codex_turn_result_free`). Also works after the stream has ended.
/// `timeout_ms` (-1: no limit) bounds each wait for the next event. Errors as for
/// `codex_turn_next_event`; after `CODEX_ERR_TIMEOUT` it may be called again and loses nothing.
///
/// - **Threads:** one consumer at a time per turn (not from inside the turn's own callback).
/// - **Ownership:** the result written to `*result_out` is the caller's: free it with
///   `codex_turn_result_free`; events it consumes are freed.
/// - **Errors:** those of `codex_turn_next_event` (`CODEX_STREAM_END` excepted: the end is success
///   here); after `CODEX_ERR_TIMEOUT` it may be called again and loses nothing.
///
/// # Safety
/// `turn` a live turn; `result_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_run(
    turn: *const codex_turn,
    timeout_ms: i64,
    result_out: *mut *mut codex_turn_result,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let turn = turn_ref(turn)?;
        let wait_ms = check_timeout(timeout_ms)?;
        out_ptr(result_out, "result_out")?;
        let outcome = turn.run(|| Wait::from_millis(wait_ms))?;
        *result_out = into_handle(codex_turn_result::from(outcome));
        Ok(())
    })
}

/// The result's items, and its usage when there is one, as documents (lent until the handle is
/// freed).
pub(crate) unsafe fn result_documents<'a>(
    result: *const codex_turn_result,
) -> Result<(&'a Document, Option<&'a Document>), Error> {
    let r = handle(result, "result")?;
    // Both texts are the handle's own, as long-lived as the documents.
    let items = r.items_doc.get(r.items_json.as_str());
    let usage = r.usage_json.as_ref().map(|u| r.usage_doc.get(u.as_str()));
    Ok((items, usage))
}

/// The result's failure as a document (lent until the handle is freed), when it failed.
pub(crate) unsafe fn result_error_document<'a>(
    result: *const codex_turn_result,
) -> Result<Option<&'a Document>, Error> {
    let r = handle(result, "result")?;
    Ok(r.error_json.as_ref().map(|e| r.error_doc.get(e.as_str())))
}

unsafe fn result_field(
    result: *const codex_turn_result,
    field: impl FnOnce(&codex_turn_result) -> Option<&CText>,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        handle(result, "result").ok().and_then(field).map_or(std::ptr::null(), CText::ptr)
    })
}

/// Whether the turn's stream had a gap: the connection to the app-server dropped while the
/// turn ran and was made again (`codex_options_set_reconnect_window_ms`), so some of its events
/// were missed (its `CODEX_EVENT_GAP` event says so in the stream). The status, final answer
/// and items are then those of the resumed thread's snapshot and the events after it: the
/// items finished while the connection was down are in `codex_turn_result_items_json`, the
/// deltas streamed meanwhile are lost.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: false when `result` is NULL or not a live result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_gap(result: *const codex_turn_result) -> bool {
    guard_value(false, || handle(result, "result").is_ok_and(|r| r.gap))
}

/// `"completed"`, `"interrupted"` or `"failed"` (from `turn/completed`).
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; do not free it.
/// - **Errors:** none: NULL when `result` is NULL or not a live handle.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_status(
    result: *const codex_turn_result,
) -> *const c_char {
    result_field(result, |r| Some(&r.status))
}

/// The turn's error message (`turn.error.message`, else the last `error` notification's), or
/// NULL.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; do not free it.
/// - **Errors:** none: NULL when there is none, or `result` is NULL or not a live result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_error_message(
    result: *const codex_turn_result,
) -> *const c_char {
    result_field(result, |r| r.error_message.as_ref())
}

/// The final answer: the text of the last completed agent message whose phase is
/// `final_answer`, else of the last one without a phase; NULL when the turn had only
/// commentary or no message.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; do not free it.
/// - **Errors:** none: NULL when there is none, or `result` is NULL or not a live result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_final_answer(
    result: *const codex_turn_result,
) -> *const c_char {
    result_field(result, |r| r.final_answer.as_ref())
}

/// A JSON array of the turn's completed items (`item` of each `item/completed`), in order.
/// Writes its length to `*len_out` when not NULL.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; do not free it. The length goes to
///   `*len_out`.
/// - **Errors:** none: NULL when `result` is NULL or not a live handle.
///
/// # Safety
/// `result` must be NULL or a live turn result; `len_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_items_json(
    result: *const codex_turn_result,
    len_out: *mut usize,
) -> *const c_char {
    result_field(result, |r| {
        if !len_out.is_null() {
            *len_out = r.items_json.len();
        }
        Some(&r.items_json)
    })
}

/// The turn's last token usage (`tokenUsage` of `thread/tokenUsage/updated`: `total`, `last`,
/// `modelContextWindow`) as JSON, or NULL when none came.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; do not free it.
/// - **Errors:** none: NULL when there is none, or `result` is NULL or not a live result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_usage_json(
    result: *const codex_turn_result,
) -> *const c_char {
    result_field(result, |r| r.usage_json.as_ref())
}

/// The review's text, for a turn started with `codex_review_start`: the `review` of the turn's
/// last `exitedReviewMode` item (the review the model wrote, as codex renders it); NULL for other
/// turns, and for a review that produced none (interrupted, failed).
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; do not free it.
/// - **Errors:** none: NULL when there is none, or `result` is NULL or not a live result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_review(
    result: *const codex_turn_result,
) -> *const c_char {
    result_field(result, |r| r.review.as_ref())
}

/// Frees a turn result. NULL is ignored.
///
/// - **Threads:** exclusive on `result`.
/// - **Ownership:** releases `result`.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `result` must be NULL or a turn result not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_free(result: *mut codex_turn_result) {
    guard_value((), || super::free_handle(result))
}

/// Frees a turn handle. A turn still running goes on in the server; its later events go to
/// the client stream, and the thread accepts a new turn once it has completed. NULL is ignored.
/// Its callback gets no call after this returns, with one exception that avoids a deadlock:
/// called from inside another callback of the same client, it does not wait for this turn's
/// callback if that is running right now on another library thread (it may be waiting for the
/// caller); that running call is then its last, and `userdata_free` runs after it.
///
/// - **Threads:** exclusive: no other call on the turn may be running or follow (steer or interrupt
///   from other threads must have returned).
/// - **Ownership:** releases the handle; a turn still running goes on in the server, its later
///   events reach the client stream; its callback gets no call after this returns (except as
///   said above, from inside another callback).
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `turn` must be NULL or a turn not yet freed, with no other call on it running.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_free(turn: *mut codex_turn) {
    guard_value((), || super::free_handle(turn))
}
