//! `codex_pending`: a request started without waiting (`codex_client_request_async`,
//! `codex_client_thread_start_async`, `codex_client_thread_resume_async`), its completion
//! reported to an event loop, a callback, or a blocking wait, and its result read as text or
//! as a `codex_json` document.

use super::client::{client_ref, codex_client, request_timeout};
use super::error::codex_error;
use super::json::{codex_json, json_handle};
use super::options::{codex_options, with_options};
use super::{
    c_str, check_timeout, codex_result, free_handle, guard_result, guard_value, handle,
    into_handle, opt_c_str, out_ptr, CText, Handle,
};
use crate::core::client::pending::Pending;
use crate::core::protocol::document::LazyDocument;
use crate::core::routing::queue::Wait;
use crate::core::Error;
use std::ffi::{c_char, c_void};
use std::sync::OnceLock;

/// A request sent without waiting for its answer. Made by the `*_async` start functions;
/// freed with `codex_pending_free`, which cancels it when it is still waiting (its answer,
/// when it comes, is then dropped).
///
/// Its completion is observed in one of three ways, chosen per request: the client's event
/// descriptor (`codex_pending_watch`, then `codex_client_next_ready`), a callback on the
/// client's callback threads (`codex_pending_set_callback`), or a blocking wait
/// (`codex_pending_wait`); `codex_pending_is_done` polls. Once over, its outcome never changes:
/// `codex_pending_result` (text) and `codex_pending_result_json` (a document) read it.
/// `codex_client_close` fails every request still waiting with `CODEX_ERR_CLOSED`, a lost
/// connection with `CODEX_ERR_TRANSPORT`; pending requests may be freed before or after
/// their client.
///
/// Threads: every call but `codex_pending_free` may be made from any thread, at once (a
/// `const codex_pending *` may be shared); `codex_pending_free` is exclusive: after every
/// other call on it has returned.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_pending {
    magic: u64,
    pending: Pending,
    /// The result text, NUL-terminated, made on first read.
    text: OnceLock<CText>,
    json: LazyDocument,
}

handle_type!(codex_pending, 0x636f_6465_7870_6e64);

/// The completion callback of a pending request: `pending` is the program's own handle (read
/// it with `codex_pending_result`; it may be freed inside the callback). Runs once, on one of
/// the client's callback threads, never the reader thread and with no internal lock held.
pub type codex_pending_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, pending: *mut codex_pending)>;

unsafe fn pending_ref<'a>(pending: *const codex_pending) -> Result<&'a codex_pending, Error> {
    handle(pending, "pending")
}

/// Gives a started request to C.
pub(crate) unsafe fn give(pending: Pending, pending_out: *mut *mut codex_pending) {
    *pending_out = into_handle(codex_pending {
        magic: codex_pending::MAGIC,
        pending,
        text: OnceLock::new(),
        json: LazyDocument::default(),
    });
}

/// The outcome of a finished request: its result text, or its error.
fn finished(p: &codex_pending) -> Result<&str, Error> {
    match p.pending.outcome() {
        None => Err(Error::invalid_argument(format!(
            "pending: {} has no answer yet (codex_pending_is_done, codex_pending_wait)",
            p.pending.method()
        ))),
        Some(Ok(result)) => Ok(result),
        Some(Err(err)) => Err(err.clone()),
    }
}

/// Sends any protocol method like `codex_client_request`, without waiting for the answer: on
/// success writes a pending request to `*pending_out` at once. `timeout_ms` bounds the wait
/// for the answer as for `codex_client_request` (0: the client's request timeout, -1: none);
/// when it passes the request completes with `CODEX_ERR_TIMEOUT`.
///
/// Up to `codex_options_set_max_pending_requests` asynchronous starts (these, thread start and
/// resume, asynchronous turn starts) may wait for their answers at once; each costs one table
/// entry, nothing per other request.
///
/// - **Threads:** any thread, many at once.
/// - **Ownership:** `method` and `params_json` are only read during the call; the pending
///   request written to `*pending_out` is the caller's: free it with `codex_pending_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or invalid arguments, `params_json` not a
///   JSON object or array, `method` `turn/start`, `timeout_ms` out of range),
///   `CODEX_ERR_TOO_MANY_PENDING` (the bound is reached; nothing was sent),
///   `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`. The answer's own errors are the pending
///   request's, read with `codex_pending_result`.
///
/// # Safety
/// `client` a live client; `method` a string; `params_json` NULL or a string; `pending_out`
/// writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_request_async(
    client: *const codex_client,
    method: *const c_char,
    params_json: *const c_char,
    timeout_ms: i64,
    pending_out: *mut *mut codex_pending,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let method = c_str(method, "method")?;
        let params = opt_c_str(params_json, "params_json")?;
        let timeout = request_timeout(timeout_ms)?;
        out_ptr(pending_out, "pending_out")?;
        give(client.request_async(method, params, timeout)?, pending_out);
        Ok(())
    })
}

/// Starts a thread (`thread/start`) like `codex_client_thread_start`, without waiting: on
/// success writes a pending request to `*pending_out` at once. Its result is the whole
/// `thread/start` result; the new thread's id is at `/thread/id`
/// (`codex_json_get_string(json, "/thread/id", ...)` on `codex_pending_result_json`). A result
/// without a thread id completes it with `CODEX_ERR_PROTOCOL`.
///
/// - **Threads:** any thread, many at once.
/// - **Ownership:** `params_json` is only read during the call; the pending request is the
///   caller's (`codex_pending_free`).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid client, `params_json` not a JSON
///   object, NULL `pending_out`), `CODEX_ERR_TOO_MANY_PENDING`, `CODEX_ERR_TRANSPORT`,
///   `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `params_json` NULL or a string; `pending_out` writable; `err_out`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_start_async(
    client: *const codex_client,
    params_json: *const c_char,
    pending_out: *mut *mut codex_pending,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let params = opt_c_str(params_json, "params_json")?;
        out_ptr(pending_out, "pending_out")?;
        give(client.thread_start_async(params)?, pending_out);
        Ok(())
    })
}

/// Resumes a thread (`thread/resume`) like `codex_client_thread_resume`, without waiting: on
/// success writes a pending request to `*pending_out` at once; its result is the whole
/// `thread/resume` result.
///
/// - **Threads:** any thread, many at once.
/// - **Ownership:** `thread_id` and `params_json` are only read during the call; the pending
///   request is the caller's (`codex_pending_free`).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid client, NULL or empty `thread_id`,
///   `params_json` not a JSON object or holding `threadId`, NULL `pending_out`),
///   `CODEX_ERR_TOO_MANY_PENDING`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `thread_id` a string; `params_json` NULL or a string;
/// `pending_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_resume_async(
    client: *const codex_client,
    thread_id: *const c_char,
    params_json: *const c_char,
    pending_out: *mut *mut codex_pending,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let thread_id = c_str(thread_id, "thread_id")?;
        let params = opt_c_str(params_json, "params_json")?;
        out_ptr(pending_out, "pending_out")?;
        give(client.thread_resume_async(thread_id, params)?, pending_out);
        Ok(())
    })
}

/// Whether the request is over (answered, failed, timed out, or failed by the client's close
/// or the connection's loss). Never blocks. False for NULL or an invalid handle.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: false for NULL or an invalid handle.
///
/// # Safety
/// `pending` NULL or a live pending request.
#[no_mangle]
pub unsafe extern "C" fn codex_pending_is_done(pending: *const codex_pending) -> bool {
    guard_value(false, || pending_ref(pending).is_ok_and(|p| p.pending.outcome().is_some()))
}

/// Waits until the request is over: `CODEX_OK` then, whatever its outcome (read it with
/// `codex_pending_result`); `CODEX_ERR_TIMEOUT` when it is not over within `timeout_ms`
/// (-1: no limit, 0: just look). For programs that mix styles; an event loop never needs it.
///
/// - **Threads:** any thread, several at once.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_TIMEOUT` (not over in time; the request goes on),
///   `CODEX_ERR_INVALID_ARGUMENT` (invalid `pending`, `timeout_ms` below -1 or above
///   2^31 - 1).
///
/// # Safety
/// `pending` a live pending request; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pending_wait(
    pending: *const codex_pending,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let p = pending_ref(pending)?;
        let wait = Wait::from_millis(check_timeout(timeout_ms)?);
        p.pending.wait(wait).map(drop)
    })
}

/// The outcome of a finished request: `CODEX_OK` with its result JSON in `*result_out`
/// (borrowed: valid until the pending request is freed), or the request's own error
/// (`CODEX_ERR_RPC` with the server's code and data, `CODEX_ERR_TIMEOUT`, `CODEX_ERR_TRANSPORT`,
/// `CODEX_ERR_CLOSED`, `CODEX_ERR_PROTOCOL` ...), the same every time it is asked.
///
/// - **Threads:** any thread.
/// - **Ownership:** the text written to `*result_out` is borrowed from the pending request.
/// - **Errors:** the request's own error; `CODEX_ERR_INVALID_ARGUMENT` for an invalid `pending`,
///   a NULL `result_out`, or a request not over yet (see `codex_pending_is_done`).
///
/// # Safety
/// `pending` a live pending request; `result_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pending_result(
    pending: *const codex_pending,
    result_out: *mut *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let p = pending_ref(pending)?;
        out_ptr(result_out, "result_out")?;
        let result = finished(p)?;
        *result_out = p.text.get_or_init(|| CText::new(result)).ptr();
        Ok(())
    })
}

/// The result of a finished request as a JSON document read by JSON Pointer (`codex_json`),
/// borrowed: valid until the pending request is freed (do not `codex_json_free` it). Fails as
/// `codex_pending_result` does.
///
/// - **Threads:** any thread.
/// - **Ownership:** the document written to `*json_out` is lent by the pending request.
/// - **Errors:** as `codex_pending_result`, with `json_out` for `result_out`.
///
/// # Safety
/// `pending` a live pending request; `json_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pending_result_json(
    pending: *const codex_pending,
    json_out: *mut *const codex_json,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let p = pending_ref(pending)?;
        out_ptr(json_out, "json_out")?;
        let result = finished(p)?;
        // The outcome is set once and lives as long as the handle.
        *json_out = json_handle(p.json.get(result));
        Ok(())
    })
}

/// Reports the request's completion through the client's event descriptor: once it is over,
/// `codex_client_next_ready` hands out `pending` (at once if it is over already). Each pending
/// request is reported once. `codex_client_event_fd` must have been called first.
/// `codex_client_next_ready_turn` never returns pending requests: a loop that watches them
/// takes from the ready list with `codex_client_next_ready`.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing changes hands; the handle stays the caller's.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid `pending`, no event descriptor yet, or
///   a completion already reported to a callback or the event descriptor).
///
/// # Safety
/// `pending` a live pending request; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pending_watch(
    pending: *const codex_pending,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let p = pending_ref(pending)?;
        p.pending.report_ready_as(ready_tag(pending))
    })
}

/// Calls `callback(userdata, pending)` once, on one of the client's callback threads, when
/// the request is over (soon after this call if it is over already). `userdata_free` (may be
/// NULL) runs exactly once: after the call, or when `pending` is freed before it, or at once
/// when this fails. Freeing `pending` cancels the call: none starts after `codex_pending_free`
/// returns, which waits for a running one (unless called from inside it).
///
/// - **Threads:** any thread; the callback runs on a library thread and may call any function
///   of this library, `codex_pending_free(pending)` included.
/// - **Ownership:** the library owns `userdata` until `userdata_free` runs.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid `pending`, NULL `callback`, or a
///   completion already reported to a callback or the event descriptor).
///
/// # Safety
/// `pending` a live pending request; `callback` and `userdata_free` callable from any thread;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pending_set_callback(
    pending: *mut codex_pending,
    callback: codex_pending_callback,
    userdata: *mut c_void,
    userdata_free: super::callback::codex_userdata_free,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let Some(call) = callback else {
            super::callback::release(userdata, userdata_free);
            return Err(Error::invalid_argument("callback: is NULL"));
        };
        let c = PendingCall { call, userdata, userdata_free, pending };
        let p = match pending_ref(pending) {
            Ok(p) => p,
            Err(err) => {
                drop(c);
                return Err(err);
            }
        };
        p.pending.on_complete(Box::new(move || {
            let c = c; // moved whole, dropped (userdata_free) after the call
            unsafe { (c.call)(c.userdata, c.pending) };
        }))
    })
}

struct PendingCall {
    call: unsafe extern "C" fn(*mut c_void, *mut codex_pending),
    userdata: *mut c_void,
    userdata_free: super::callback::codex_userdata_free,
    pending: *mut codex_pending,
}

// The program promises, by handing these to a callback API, that they may be used from a
// library thread; the handle outlives every call (its free waits for a running one).
unsafe impl Send for PendingCall {}

impl Drop for PendingCall {
    fn drop(&mut self) {
        super::callback::release(self.userdata, self.userdata_free);
    }
}

/// Frees a pending request. One still waiting is cancelled: nothing is reported for it any
/// more and its answer, when it comes, is dropped; a finished one's result goes. NULL is
/// ignored.
///
/// - **Threads:** exclusive on `pending` (after every other call on it returned); from inside
///   its own callback too.
/// - **Ownership:** releases `pending`, the strings and document it lent, and a callback's
///   userdata not yet released.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `pending` NULL or a live pending request.
#[no_mangle]
pub unsafe extern "C" fn codex_pending_free(pending: *mut codex_pending) {
    guard_value((), || free_handle(pending))
}

/// How many asynchronous starts (pending requests and asynchronous turn starts) may wait for
/// their answers at once on one client (default 10,000; at least 1, at most
/// `CODEX_MAX_PENDING_REQUESTS`). A start beyond it is refused with
/// `CODEX_ERR_TOO_MANY_PENDING` before anything is sent. Blocking calls are not counted.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** nothing is allocated; the options keep the value.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` for 0, a value above `CODEX_MAX_PENDING_REQUESTS`,
///   or invalid options; the options are unchanged then.
///
/// # Safety
/// `opts` must be live options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_options_set_max_pending_requests(
    opts: *mut codex_options,
    max: usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    with_options(opts, err_out, |o| {
        if max == 0 {
            return Err(Error::invalid_argument("max: must be at least 1"));
        }
        o.max_pending_requests = super::at_most("max", max, CODEX_MAX_PENDING_REQUESTS)?;
        Ok(())
    })
}

/// The largest bound `codex_options_set_max_pending_requests` takes.
pub const CODEX_MAX_PENDING_REQUESTS: usize = 1 << 24;

/// The ready-list tag of a pending request: its address with the low bit set (handles are
/// aligned, so it never equals a turn's tag).
pub(crate) fn ready_tag(pending: *const codex_pending) -> usize {
    pending as usize | PENDING_TAG_BIT
}

pub(crate) const PENDING_TAG_BIT: usize = 1;
