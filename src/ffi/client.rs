//! `codex_client`: one `codex app-server` process and its connection.

use super::callback::{self, codex_event_callback, codex_userdata_free};
use super::error::codex_error;
use super::event::{codex_event, event_handle};
use super::options::{codex_options, options_of};
use super::{
    c_str, check_timeout, codex_result, guard, guard_result, guard_value, handle, into_handle,
    invalid, opt_c_str, out_ptr, owned_c_string, CText, Handle, Outcome,
};
use crate::core::client::Timeout;
use crate::core::routing::queue::Wait;
use crate::core::{Client, Error, Options};
use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

/// A running `codex app-server` and its connection: a child process over stdio, or a remote one
/// over a WebSocket (`codex_options_set_url`). Everything on this page behaves the same for
/// both.
///
/// Threads: a `codex_client *` may be used from many threads at once (requests, turn starts,
/// polling the client stream, close). Only `codex_client_free` is exclusive: call it once,
/// after every other call on the client has returned.
///
/// Shutdown order: `codex_client_close` (wakes every blocked call with `CODEX_ERR_CLOSED` and
/// stops the server; idempotent), then free turns, events and the client in any order.
/// `codex_client_free` closes the client first if needed.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_client {
    magic: u64,
    pub(crate) client: Arc<Client>,
    init_result: CText,
    /// Owned by a pool (`codex_pool_client_for_thread`): `codex_client_free` leaves it alone.
    pool_owned: bool,
}

handle_type!(codex_client, 0x636f_6465_7863_6c69);

/// A new handle on `client`; a pool-owned one is freed by its pool only.
pub(crate) fn client_handle(client: Arc<Client>, pool_owned: bool) -> *mut codex_client {
    let init_result = CText::new(client.initialize_result());
    into_handle(codex_client { magic: codex_client::MAGIC, client, init_result, pool_owned })
}

/// Frees a handle made with `pool_owned` (only its pool does).
pub(crate) unsafe fn free_pool_owned(client: *mut codex_client) {
    if handle(client, "client").is_ok_and(|c| c.pool_owned) {
        super::free_handle(client)
    }
}

pub(crate) unsafe fn client_ref<'a>(client: *const codex_client) -> Result<&'a Client, Error> {
    handle(client, "client").map(|c| &*c.client)
}

/// `timeout_ms` of a request: 0 = the client's default, -1 = no limit, else milliseconds.
pub(crate) fn request_timeout(timeout_ms: i64) -> Result<Timeout, Error> {
    Ok(match check_timeout(timeout_ms)? {
        0 => Timeout::Default,
        -1 => Timeout::Forever,
        ms => Timeout::After(Duration::from_millis(ms as u64)),
    })
}

/// Starts `codex app-server --listen stdio://` (or, with a remote URL set by
/// `codex_options_set_url`, connects to the app-server there) and completes the `initialize`
/// handshake.
///
/// `options` may be NULL for the defaults (see `codex_options_new`); it is copied, so it may be
/// freed right after. On success writes a new client to `*client_out` (free it with
/// `codex_client_free`). Errors: `CODEX_ERR_SPAWN` when no binary could be started (the message
/// names what was tried: the options' path, `$CODEX_BIN`, `codex` on PATH),
/// `CODEX_ERR_TRANSPORT` when the process exited during the handshake (with its stderr tail)
/// or a remote app-server could not be reached (refused, unreachable, no TLS or WebSocket
/// upgrade within the connect timeout; the message names the address), `CODEX_ERR_AUTH` when
/// a remote app-server refused the auth token (HTTP 401/403), `CODEX_ERR_INVALID_ARGUMENT`
/// for options that do not go together (see `codex_options_set_url`) or a CA file that cannot
/// be read, `CODEX_ERR_TIMEOUT`, `CODEX_ERR_RPC`.
///
/// - **Threads:** any thread; clients may be started on several threads at once.
/// - **Ownership:** `options` is copied (free it when you like); the client written to
///   `*client_out` is the caller's: close it with `codex_client_close` and free it with
///   `codex_client_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client_out`, options that are not live or do
///   not go together), `CODEX_ERR_SPAWN`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_AUTH`,
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_RPC`.
///
/// # Safety
/// `options` must be NULL or live options; `client_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_start(
    options: *const codex_options,
    client_out: *mut *mut codex_client,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard(err_out, || {
        super::log::install();
        let started = (|| {
            out_ptr(client_out, "client_out")?;
            let defaults;
            let options = if options.is_null() {
                defaults = Options::default();
                &defaults
            } else {
                options_of(options)?
            };
            *client_out = client_handle(Arc::new(Client::start(options)?), false);
            Ok(())
        })();
        Outcome::from(started)
    })
}

/// The raw JSON result of `initialize` (`userAgent`, `codexHome`, `platformFamily`,
/// `platformOs`). Borrowed: valid until the client is freed. NULL for an invalid client.
///
/// - **Threads:** any thread.
/// - **Ownership:** borrowed: valid until `client` is freed; do not free it.
/// - **Errors:** none: NULL when `client` is NULL or not a live handle.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn codex_client_initialize_result(
    client: *const codex_client,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        handle(client, "client").map_or(std::ptr::null(), |c| c.init_result.ptr())
    })
}

/// Sends any protocol method and waits for its response.
///
/// `params_json` is a JSON object or array, or NULL for none. `timeout_ms`: 0 uses the
/// client's default timeout, -1 waits without limit, a positive value waits that long. On
/// success writes the raw JSON of the result to `*result_out` (free with `codex_string_free`).
/// Errors: `CODEX_ERR_INVALID_ARGUMENT` (bad method or params, checked before anything is
/// sent; also `turn/start`, which must go through `codex_turn_start` so that the turn is
/// tracked), `CODEX_ERR_RPC` (the server's error: code, message and data in `*err_out`),
/// `CODEX_ERR_OVERLOADED` (-32001, retryable), `CODEX_ERR_TIMEOUT`, `CODEX_ERR_TRANSPORT`,
/// `CODEX_ERR_CLOSED`. Thread-safe.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** `method` and `params_json` are only read during the call; the result written to
///   `*result_out` is the caller's: free it with `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or invalid arguments, a `params_json` that is
///   not JSON, `turn/start`), `CODEX_ERR_TIMEOUT` (the client's request timeout), `CODEX_ERR_RPC`
///   (the server's error, with its code and data), `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`,
///   `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `method` a string; `params_json` NULL or a string; `result_out`
/// writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_request(
    client: *const codex_client,
    method: *const c_char,
    params_json: *const c_char,
    timeout_ms: i64,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let method = c_str(method, "method")?;
        let params = opt_c_str(params_json, "params_json")?;
        let timeout = request_timeout(timeout_ms)?;
        out_ptr(result_out, "result_out")?;
        let result = client.request(method, params, timeout)?;
        *result_out = owned_c_string(&result);
        Ok(())
    })
}

/// Writes a thread helper's outputs: the id always, the full result when asked.
unsafe fn write_thread_result(
    (thread_id, result): (String, String),
    thread_id_out: *mut *mut c_char,
    result_out: *mut *mut c_char,
) {
    *thread_id_out = owned_c_string(&thread_id);
    if !result_out.is_null() {
        *result_out = owned_c_string(&result);
    }
}

/// `thread/start` with `params_json` (a JSON object such as `{"cwd": "/src", "model": "o3",
/// "approvalPolicy": "never", "sandbox": "read-only"}`, or NULL). Writes the new thread's id to
/// `*thread_id_out` and, when `result_out` is not NULL, the full result JSON to `*result_out`
/// (free both with `codex_string_free`). Uses the client's default timeout. Thread-safe.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** the strings written to `*thread_id_out` and `*result_out` are the caller's:
///   free each with `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client` or `thread_id_out`, `params_json` not
///   a JSON object), `CODEX_ERR_PROTOCOL` (a result without a thread id), `CODEX_ERR_TIMEOUT` (the
///   client's request timeout), `CODEX_ERR_RPC` (the server's error, with its code and data),
///   `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `params_json` NULL or a string; `thread_id_out` writable;
/// `result_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_start(
    client: *const codex_client,
    params_json: *const c_char,
    thread_id_out: *mut *mut c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let params = opt_c_str(params_json, "params_json")?;
        out_ptr(thread_id_out, "thread_id_out")?;
        write_thread_result(client.thread_start(params)?, thread_id_out, result_out);
        Ok(())
    })
}

/// `thread/resume` of `thread_id` with optional extra `params_json` (a JSON object without
/// `threadId`). Outputs as for `codex_client_thread_start`. Thread-safe.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** as for `codex_client_thread_start`.
/// - **Errors:** as for `codex_client_thread_start`; also `CODEX_ERR_INVALID_ARGUMENT` for a NULL
///   `thread_id` or `params_json` holding `threadId`.
///
/// # Safety
/// As for `codex_client_thread_start`; `thread_id` a string.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_resume(
    client: *const codex_client,
    thread_id: *const c_char,
    params_json: *const c_char,
    thread_id_out: *mut *mut c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let thread_id = c_str(thread_id, "thread_id")?;
        if thread_id.is_empty() {
            return Err(invalid("thread_id: must not be empty".into()));
        }
        let params = opt_c_str(params_json, "params_json")?;
        out_ptr(thread_id_out, "thread_id_out")?;
        let resumed = client.thread_resume(thread_id, params)?;
        write_thread_result(resumed, thread_id_out, result_out);
        Ok(())
    })
}

/// The next event of the client stream: notifications without a turn id (thread status,
/// account, MCP, warnings...), events of turns nobody holds a handle for (freed turns, turns
/// started through `codex_client_request`), and events that arrive after their turn's
/// `turn/completed`. The stream is bounded (see `codex_options_set_client_event_capacity`);
/// when full, the oldest events are dropped. It may be polled from any thread, also while
/// turns stream.
///
/// `timeout_ms`: -1 waits without limit, 0 polls, positive waits that long. On success writes a
/// new event to `*event_out` (free with `codex_event_free`). Errors: `CODEX_ERR_TIMEOUT`,
/// `CODEX_ERR_TRANSPORT` or `CODEX_ERR_CLOSED` once the client is gone and the stream drained.
///
/// - **Threads:** any thread; several threads may poll the client stream at once (each event goes
///   to one of them).
/// - **Ownership:** the event written to `*event_out` is the caller's: free it with
///   `codex_event_free`.
/// - **Errors:** `CODEX_ERR_TIMEOUT` (nothing in time), `CODEX_ERR_TRANSPORT` or `CODEX_ERR_CLOSED`
///   (the client is gone and the stream drained), `CODEX_ERR_INVALID_ARGUMENT` (NULL arguments, a
///   `timeout_ms` below -1, or a client-stream callback is set).
///
/// # Safety
/// `client` a live client; `event_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_next_event(
    client: *const codex_client,
    timeout_ms: i64,
    event_out: *mut *mut codex_event,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let wait = Wait::from_millis(check_timeout(timeout_ms)?);
        out_ptr(event_out, "event_out")?;
        *event_out = event_handle(client.next_event(wait)?);
        Ok(())
    })
}

/// Sends the client stream (see `codex_client_next_event`) to `callback`, called on a library
/// thread with each event in order, instead of `codex_client_next_event` (which then returns
/// `CODEX_ERR_INVALID_ARGUMENT`). Server requests that belong to no turn held by a handle arrive
/// here too. `callback` NULL removes the current callback. A callback that is replaced or removed
/// gets no call after this returns (it waits for a running call, unless called from inside it),
/// and its `userdata_free` runs once after its last call. When the client closes or the server
/// dies, the last call is a `CODEX_EVENT_STREAM_ERROR` event. Rules for the callback as for
/// `codex_event_callback`.
///
/// - **Threads:** any thread; the callback runs on a library thread (see `codex_event_callback`).
/// - **Ownership:** the library owns `userdata` from now on and releases it with `userdata_free`
///   exactly once, after the last call (at once when this fails or `callback` is NULL).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `client`), `CODEX_ERR_CLOSED` once the
///   client is closed (`CODEX_ERR_TRANSPORT` when its server had died before).
///
/// # Safety
/// `client` a live client; `callback` and `userdata_free` callable from any thread;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_set_event_callback(
    client: *const codex_client,
    callback: codex_event_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard(err_out, || {
        let callback = callback::wrap(callback, userdata, userdata_free);
        Outcome::from(client_ref(client).and_then(|c| c.set_event_callback(callback)))
    })
}

/// Sets one place to decide every server request: `handler` is called, on a library thread of
/// its own, with the `CODEX_EVENT_SERVER_REQUEST` event of each request of this client — of any
/// turn, polled or with a callback, and of none. Take the request with `codex_event_request` and
/// answer it there (or keep the handle and answer later). The event still appears in its turn's
/// stream or the client stream; a request the handler leaves open is answered fail-closed like
/// any other (answer timeout, turn freed, close). `handler` NULL removes it; the rules of
/// `codex_client_set_event_callback` apply (no call after removal returns, `userdata_free` once).
///
/// - **Threads:** any thread; the handler runs on a library thread (see `codex_event_callback`).
/// - **Ownership:** as for `codex_client_set_event_callback`: `userdata_free` runs exactly once.
/// - **Errors:** as for `codex_client_set_event_callback`.
///
/// # Safety
/// `client` a live client; `handler` and `userdata_free` callable from any thread;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_set_request_handler(
    client: *const codex_client,
    handler: codex_event_callback,
    userdata: *mut c_void,
    userdata_free: codex_userdata_free,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let handler = callback::wrap(handler, userdata, userdata_free);
        client_ref(client).and_then(|c| c.set_request_handler(handler))
    })
}

/// How many events the client stream dropped because it was full. 0 for an invalid client.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 when `client` is NULL or not a live handle.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn codex_client_dropped_events(client: *const codex_client) -> u64 {
    guard_value(0, || client_ref(client).map_or(0, Client::dropped_events))
}

/// How many lines from the server were skipped because they were not JSON-RPC messages, or were
/// messages nobody can use: a response no request waits for (after its timeout, a second one,
/// an id never sent, an id that is not a non-negative integer), and a server request with a null
/// id (answered fail-closed with a null id, never shown to the program). Each is logged at debug
/// level with its first bytes.
/// 0 for an invalid client.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 when `client` is NULL or not a live handle.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn codex_client_skipped_lines(client: *const codex_client) -> u64 {
    guard_value(0, || client_ref(client).map_or(0, Client::skipped_lines))
}

/// How many threads of this client have a turn running or starting (turns whose handle was
/// freed count until they complete). 0 for an invalid client. Thread-safe.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 when `client` is NULL or not a live handle.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn codex_client_active_turns(client: *const codex_client) -> usize {
    guard_value(0, || client_ref(client).map_or(0, Client::active_turns))
}

/// The app-server's process id; 0 for a remote app-server (`codex_options_set_url`), which
/// this process did not start, and for an invalid client.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 when `client` is NULL or not a live handle.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn codex_client_server_pid(client: *const codex_client) -> u32 {
    guard_value(0, || client_ref(client).map_or(0, Client::server_pid))
}

/// Closes the client: every blocked call returns `CODEX_ERR_CLOSED` (requests, turn and client
/// event waits), open turns end, and the server is stopped (stdin closed, killed after 500 ms).
/// A remote connection gets a close frame (code 1000) and 500 ms for the server to answer it
/// and hang up before the socket is shut; the remote server keeps running.
/// Idempotent and thread-safe; NULL is ignored. The handle stays valid until
/// `codex_client_free`.
///
/// - **Threads:** any thread, also while other threads are blocked in calls on the client (they
///   return).
/// - **Ownership:** frees nothing: the handle stays valid until `codex_client_free`.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `client` must be NULL or a live client.
#[no_mangle]
pub unsafe extern "C" fn codex_client_close(client: *const codex_client) {
    guard_value((), || {
        if let Ok(client) = client_ref(client) {
            client.close();
        }
    })
}

/// Closes the client if needed and frees it. NULL is ignored, and so are clients that belong
/// to a pool (from `codex_pool_client_for_thread`; `codex_pool_free` frees them). Turns and
/// events of the client stay valid and may be freed later. Like every close, it returns only
/// once no event callback or request handler of the client runs any more. Freeing a client
/// twice is undefined behaviour (see the rules at the top).
///
/// - **Threads:** exclusive: no other call on the client may be running or follow.
/// - **Ownership:** releases the client; its turns and events stay the caller's, valid until freed.
/// - **Errors:** none; NULL and pool-owned clients are ignored.
///
/// # Safety
/// `client` must be NULL or a client from `codex_client_start`; no other call on it may be
/// running or follow.
#[no_mangle]
pub unsafe extern "C" fn codex_client_free(client: *mut codex_client) {
    guard_value((), || {
        if handle(client, "client").is_ok_and(|c| !c.pool_owned) {
            super::free_handle(client)
        }
    })
}
