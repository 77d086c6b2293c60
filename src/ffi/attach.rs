//! Turn handles for turns this client did not start with `codex_turn_start`: attached to a
//! turn running on a thread (or the next one there), and review turns (`review/start`).

use super::callback::{self, codex_event_callback, codex_userdata_free};
use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::turn::{codex_turn, write_turn};
use super::{c_str, codex_result, guard_result, opt_c_str, out_ptr};
use crate::core::routing::dispatch::Callback;
use crate::core::Error;
use std::ffi::{c_char, c_void};

unsafe fn attach(
    client: *const codex_client,
    thread_id: *const c_char,
    turn_id: *const c_char,
    callback: Option<Callback>,
    turn_out: *mut *mut codex_turn,
) -> Result<(), Error> {
    let client = client_ref(client)?;
    let thread_id = c_str(thread_id, "thread_id")?;
    let turn_id = opt_c_str(turn_id, "turn_id")?;
    out_ptr(turn_out, "turn_out")?;
    let polled = callback.is_none();
    write_turn(client.turn_attach(thread_id, turn_id, callback)?, polled, turn_out);
    Ok(())
}

/// A handle for a turn this client did not start: one running on `thread_id` now, or the next
/// one that starts there — another client's turn on a shared app-server, a goal continuation,
/// a turn `codex_client_thread_resume` showed `inProgress`. Nothing is sent to the server.
///
/// With `turn_id` NULL the handle takes the turn whose event comes first on the thread (an
/// event of a turn that ended on this client is never taken); when that first event is a
/// `turn/completed`, the turn running when it attached has ended, and the handle gets just that
/// completion. With `turn_id` given (from `thread/resume`'s `turns`, or from an event on the
/// client stream) it takes that turn's events only. Events that came before the call are
/// where they were delivered (usually the client stream); the handle has those that come after.
///
/// The handle is an ordinary turn handle: `codex_turn_next_event`, `codex_turn_run` (its result
/// summarizes what the handle received), steer, interrupt, the event descriptor
/// (`codex_client_event_fd`), `codex_turn_free`. One handle per turn: while the thread has a
/// turn handle on this client, started or attached, `codex_turn_start` there returns
/// `CODEX_ERR_TURN_ACTIVE`, and so does this with a `turn_id`. With `turn_id` NULL the new
/// handle waits behind that one instead: it becomes the thread's handle when that handle's turn
/// completes, in the same step, and takes the turn after it from its first event — the way to
/// follow goal continuations one after another without missing an event: attach the next
/// while consuming the current. One waiting handle per thread (a second gets
/// `CODEX_ERR_TURN_ACTIVE`). A handle freed before any turn named it holds nothing: the thread
/// is free again at once. `codex_turn_id` is "" until the first event names the turn.
///
/// - **Threads:** any thread.
/// - **Ownership:** `thread_id` and `turn_id` are only read during the call; the turn written to
///   `*turn_out` is the caller's: free it with `codex_turn_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid client, NULL or invalid UTF-8
///   `thread_id`, empty `thread_id` or `turn_id`, invalid UTF-8 `turn_id`, NULL `turn_out`),
///   `CODEX_ERR_TURN_ACTIVE` (a `turn_id` while the thread has a turn handle, or a handle waits
///   behind it already), `CODEX_ERR_NOT_FOUND`
///   (`turn_id` completed already, as this client saw), `CODEX_ERR_TRANSPORT` or
///   `CODEX_ERR_CLOSED` (the client no longer works).
///
/// # Safety
/// `client` a live client; `thread_id` a string; `turn_id` NULL or a string; `turn_out`
/// writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_turn_attach(
    client: *const codex_client,
    thread_id: *const c_char,
    turn_id: *const c_char,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || attach(client, thread_id, turn_id, None, turn_out))
}

/// `codex_client_turn_attach`, with the turn's events passed to `callback` as for
/// `codex_turn_start_with_callback` (on a callback thread, in order, one call at a time; the
/// last is `turn/completed` or a `CODEX_EVENT_STREAM_ERROR` event).
///
/// - **Threads:** any thread; the callback runs on a library thread (see `codex_event_callback`).
/// - **Ownership:** the library owns `userdata` and releases it with `userdata_free` exactly once,
///   after the last call (at once when this fails); the turn written to `*turn_out` is the
///   caller's (`codex_turn_free`).
/// - **Errors:** those of `codex_client_turn_attach`, and `CODEX_ERR_INVALID_ARGUMENT` for a NULL
///   `callback`.
///
/// # Safety
/// As for `codex_client_turn_attach`; `callback` and `userdata_free` must be callable from any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn codex_client_turn_attach_with_callback(
    client: *const codex_client,
    thread_id: *const c_char,
    turn_id: *const c_char,
    callback: codex_event_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let callback = callback::required(callback, userdata, userdata_free)?;
        attach(client, thread_id, turn_id, Some(callback), turn_out)
    })
}

unsafe fn review(
    client: *const codex_client,
    thread_id: *const c_char,
    params_json: *const c_char,
    callback: Option<Callback>,
    turn_out: *mut *mut codex_turn,
) -> Result<(), Error> {
    let client = client_ref(client)?;
    let thread_id = c_str(thread_id, "thread_id")?;
    let params = c_str(params_json, "params_json")?;
    out_ptr(turn_out, "turn_out")?;
    let polled = callback.is_none();
    write_turn(client.review_start(thread_id, params, callback)?, polled, turn_out);
    Ok(())
}

/// Starts a code review on `thread_id` (`review/start`): the review runs as a turn of that
/// thread, and its handle is an ordinary turn handle. `params_json` is a JSON object of
/// `review/start` params without `threadId`: `target` is required
/// (`{"type":"uncommittedChanges"}`, `{"type":"baseBranch","branch":"main"}`,
/// `{"type":"commit","sha":"..."}`, `{"type":"custom","instructions":"..."}`); `delivery`, if
/// given, must be `"inline"` (a detached review runs on a new thread; upstream deprecates it).
/// The review's text is in the turn's result: `codex_turn_result_review` after `codex_turn_run`
/// (the `review` of its `exitedReviewMode` item). The one-turn-per-thread rule of
/// `codex_turn_start` applies.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** `params_json` is only read during the call; the turn written to `*turn_out` is
///   the caller's: free it with `codex_turn_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or invalid arguments, `params_json` not a JSON
///   object, without `target`, holding `threadId` or a `delivery` other than `"inline"`), and
///   those of `codex_turn_start`.
///
/// # Safety
/// `client` a live client; `thread_id` and `params_json` strings; `turn_out` writable; `err_out`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_review_start(
    client: *const codex_client,
    thread_id: *const c_char,
    params_json: *const c_char,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || review(client, thread_id, params_json, None, turn_out))
}

/// `codex_review_start`, with the turn's events passed to `callback` as for
/// `codex_turn_start_with_callback`.
///
/// - **Threads:** any thread; the callback runs on a library thread (see `codex_event_callback`).
/// - **Ownership:** the library owns `userdata` and releases it with `userdata_free` exactly once,
///   after the last call (at once when this fails); the turn written to `*turn_out` is the
///   caller's (`codex_turn_free`).
/// - **Errors:** those of `codex_review_start`, and `CODEX_ERR_INVALID_ARGUMENT` for a NULL
///   `callback`.
///
/// # Safety
/// As for `codex_review_start`; `callback` and `userdata_free` must be callable from any thread.
#[no_mangle]
pub unsafe extern "C" fn codex_review_start_with_callback(
    client: *const codex_client,
    thread_id: *const c_char,
    params_json: *const c_char,
    callback: codex_event_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let callback = callback::required(callback, userdata, userdata_free)?;
        review(client, thread_id, params_json, Some(callback), turn_out)
    })
}
