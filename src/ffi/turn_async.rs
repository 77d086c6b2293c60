//! Turn starts that return at once: `codex_turn_start_async` and its callback form. Apart from
//! `turn.rs`, which holds the blocking starts and the turn's own calls.

use super::callback::{self, codex_event_callback, codex_userdata_free};
use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::turn::{codex_turn, start_turn_on};
use super::{codex_result, guard_result};
use crate::core::routing::dispatch::Callback;
use crate::core::Error;
use std::ffi::{c_char, c_void};

unsafe fn start_async(
    client: *const codex_client,
    thread_id: *const c_char,
    input: *const c_char,
    params_json: *const c_char,
    callback: Option<Callback>,
    turn_out: *mut *mut codex_turn,
) -> Result<(), Error> {
    let client = client_ref(client)?;
    let start = |thread: &str, input: &str, params: Option<&str>, callback| {
        client.turn_start_async(thread, input, params, callback)
    };
    start_turn_on(start, thread_id, input, params_json, callback, turn_out)
}

/// Starts a turn like `codex_turn_start`, without waiting for the `turn/start` answer: the
/// turn is written to `*turn_out` at once and its events (also those that arrive before the
/// answer) are read as usual — `codex_turn_next_event`, or the event descriptor's ready list.
/// If the start fails (the server's error, no answer within the request timeout, the
/// connection lost), the turn's stream ends with that error: `codex_turn_next_event` returns
/// it, and the ready list reports the turn. `codex_turn_id` is `""` until the answer (or the
/// turn's first event) names the turn; steer and interrupt need that id.
///
/// Counts against `codex_options_set_max_pending_requests` until its answer arrives.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** as `codex_turn_start`: the turn is the caller's (`codex_turn_free`; freeing
///   it before the answer leaves the turn to the server, its events to the client stream).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or invalid arguments, `params_json` not a
///   JSON object or holding `threadId`/`input`), `CODEX_ERR_TURN_ACTIVE` (the thread has a
///   turn running or starting), `CODEX_ERR_TOO_MANY_PENDING` (the bound is reached; nothing
///   was sent), `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`. Errors of the answer arrive in the
///   turn's stream.
///
/// # Safety
/// `client` a live client; `thread_id` and `input` strings; `params_json` NULL or a string;
/// `turn_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_start_async(
    client: *const codex_client,
    thread_id: *const c_char,
    input: *const c_char,
    params_json: *const c_char,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || start_async(client, thread_id, input, params_json, None, turn_out))
}

/// `codex_turn_start_with_callback` without waiting for the `turn/start` answer: the turn is
/// written to `*turn_out` at once; a failed start reaches `callback` as a
/// `CODEX_EVENT_STREAM_ERROR` event, its last call. `userdata_free` runs exactly once, after the
/// last call (at once when this fails).
///
/// - **Threads:** any thread; the callback runs on a library thread (see `codex_event_callback`).
/// - **Ownership:** as `codex_turn_start_with_callback`.
/// - **Errors:** those of `codex_turn_start_async`, and `CODEX_ERR_INVALID_ARGUMENT` for a NULL
///   `callback`.
///
/// # Safety
/// As for `codex_turn_start_async`; `callback` and `userdata_free` must be callable from any
/// thread.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_start_async_with_callback(
    client: *const codex_client,
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
        start_async(client, thread_id, input, params_json, Some(callback), turn_out)
    })
}

/// Steers the running turn like `codex_turn_steer`, without waiting: writes a pending request
/// to `*pending_out` at once; its result is the `turn/steer` answer, or its error
/// (`CODEX_ERR_RPC` when the turn is no longer running, `CODEX_ERR_TIMEOUT` after the control
/// timeout). The turn's id must be known (`codex_turn_id` not empty).
///
/// - **Threads:** any thread, also while another thread reads the turn.
/// - **Ownership:** `input` is only read during the call; the pending request is the caller's
///   (`codex_pending_free`).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid `turn`, NULL or non-UTF-8 `input`, NULL
///   `pending_out`, a turn whose id is not known yet), `CODEX_ERR_TOO_MANY_PENDING`,
///   `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `turn` a live turn; `input` a string; `pending_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_steer_async(
    turn: *const codex_turn,
    input: *const c_char,
    pending_out: *mut *mut super::pending::codex_pending,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let turn = super::turn::turn_ref(turn)?;
        let input = super::c_str(input, "input")?;
        super::out_ptr(pending_out, "pending_out")?;
        super::pending::give(turn.steer_async(input)?, pending_out);
        Ok(())
    })
}

/// Interrupts the turn like `codex_turn_interrupt`, without waiting: writes a pending request
/// to `*pending_out` at once; the turn then completes with status `interrupted` in its stream.
/// The turn's id must be known (`codex_turn_id` not empty).
///
/// - **Threads:** any thread, also while another thread reads the turn.
/// - **Ownership:** the pending request is the caller's (`codex_pending_free`).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid `turn`, NULL `pending_out`, a turn whose
///   id is not known yet), `CODEX_ERR_TOO_MANY_PENDING`, `CODEX_ERR_TRANSPORT`,
///   `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `turn` a live turn; `pending_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_interrupt_async(
    turn: *const codex_turn,
    pending_out: *mut *mut super::pending::codex_pending,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let turn = super::turn::turn_ref(turn)?;
        super::out_ptr(pending_out, "pending_out")?;
        super::pending::give(turn.interrupt_async()?, pending_out);
        Ok(())
    })
}
