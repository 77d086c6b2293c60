//! The thread calls of `codex_client`: fork, read, turns list, archive, unarchive, set name,
//! compact and unsubscribe (letting go). The listing has its own type (`thread_list.rs`).

use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::{c_str, codex_result, guard_result, opt_c_str, out_ptr, owned_c_string};
use crate::core::client::threads::ThreadCall;
use crate::core::{Client, Error};
use std::ffi::c_char;

/// Runs a thread call on `client` and writes its result to `*result_out` when asked.
unsafe fn thread_call(
    client: *const codex_client,
    thread_id: *const c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
    call: impl FnOnce(&Client, &str) -> Result<String, Error>,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let thread_id = c_str(thread_id, "thread_id")?;
        write_result(&call(client, thread_id)?, result_out);
        Ok(())
    })
}

/// Writes a call's result JSON when the caller asked for it.
unsafe fn write_result(result: &str, result_out: *mut *mut c_char) {
    if !result_out.is_null() {
        *result_out = owned_c_string(result);
    }
}

/// Forks `thread_id` (`thread/fork`): a new thread that starts with the original's history,
/// whose later turns leave the original alone. This connection is subscribed to the fork, as
/// after `codex_client_thread_start`: start its turns with `codex_turn_start`.
///
/// `include_turns` false asks the server to leave the history out of the result (the fork
/// still has it; read it later with `codex_client_thread_read`). `params_json` is NULL or a
/// JSON object of further `thread/fork` params (`lastTurnId` to fork only up to a turn,
/// `model`, `cwd`, `ephemeral`, ...; not `threadId` or `excludeTurns`). Writes the fork's id to
/// `*thread_id_out` and, when `result_out` is not NULL, the full result JSON.
///
/// On the server: the fork is a new loaded thread with its own history file, copied from the
/// original's (which is loaded for it if it was not).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** the strings written to `*thread_id_out` and `*result_out` are the caller's:
///   free each with `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or empty `thread_id`, NULL `thread_id_out`,
///   `params_json` not a JSON object or holding a key set here), `CODEX_ERR_RPC` (the server's
///   error, e.g. for an unknown thread), `CODEX_ERR_PROTOCOL` (a result without a thread id),
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `thread_id` a string; `params_json` NULL or a string;
/// `thread_id_out` writable; `result_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_fork(
    client: *const codex_client,
    thread_id: *const c_char,
    include_turns: bool,
    params_json: *const c_char,
    thread_id_out: *mut *mut c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let thread_id = c_str(thread_id, "thread_id")?;
        let params = opt_c_str(params_json, "params_json")?;
        out_ptr(thread_id_out, "thread_id_out")?;
        let (fork, result) = client.thread_fork(thread_id, include_turns, params)?;
        *thread_id_out = owned_c_string(&fork);
        write_result(&result, result_out);
        Ok(())
    })
}

/// Reads a thread (`thread/read`): its metadata (`thread.name`, `status`, `preview`, ...) and,
/// with `include_turns`, every turn with its items (user messages, agent messages with their
/// `phase`, commands, ...). For a long history read it a page at a time with
/// `codex_client_thread_turns_list` instead. Writes the result JSON to `*result_out`.
///
/// On the server: reads the thread's history file; a thread that is not loaded stays unloaded
/// (0.158.0 to 0.171.0 answer "thread not loaded" for an id they do not know).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** the string written to `*result_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL arguments, an empty `thread_id`),
///   `CODEX_ERR_RPC` (the server's error: an unknown or malformed thread id),
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `thread_id` a string; `result_out` writable; `err_out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_read(
    client: *const codex_client,
    thread_id: *const c_char,
    include_turns: bool,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    if result_out.is_null() {
        return guard_result(err_out, || out_ptr(result_out, "result_out"));
    }
    thread_call(client, thread_id, result_out, err_out, |c, t| c.thread_read(t, include_turns))
}

/// One page of a thread's turns (`thread/turns/list`), newest first unless `params_json` says
/// otherwise: NULL or a JSON object with `limit`, `cursor` (the `nextCursor` of the previous
/// page), `sortDirection` (`"asc"`/`"desc"`), `itemsView`. Writes the result JSON (`data`,
/// `nextCursor`) to `*result_out`.
///
/// On the server: reads the thread's history file, one page of it. Ephemeral threads have
/// none (the server refuses).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** the string written to `*result_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL arguments, an empty `thread_id`, bad
///   `params_json`), `CODEX_ERR_RPC` (the server's error: unknown thread, bad cursor),
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `thread_id` a string; `params_json` NULL or a string; `result_out`
/// writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_turns_list(
    client: *const codex_client,
    thread_id: *const c_char,
    params_json: *const c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let params = opt_c_str(params_json, "params_json")?;
        out_ptr(result_out, "result_out")?;
        let client = client_ref(client)?;
        let thread_id = c_str(thread_id, "thread_id")?;
        *result_out = owned_c_string(&client.thread_turns_list(thread_id, params)?);
        Ok(())
    })
}

/// Archives a thread (`thread/archive`): it leaves the default listing
/// (`codex_client_thread_list` without `"archived": true`) until `codex_client_thread_unarchive`.
/// Writes the result JSON to `*result_out` when it is not NULL.
///
/// On the server: moves the thread's history file to the archive folder.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** a string written to `*result_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client` or `thread_id`, an empty one),
///   `CODEX_ERR_RPC` (the server's error, e.g. "no rollout found" for an unknown thread),
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `thread_id` a string; `result_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_archive(
    client: *const codex_client,
    thread_id: *const c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    thread_call(client, thread_id, result_out, err_out, |c, t| {
        c.thread_call(ThreadCall::Archive, t)
    })
}

/// Brings an archived thread back (`thread/unarchive`) into the default listing. Writes the
/// result JSON (the thread) to `*result_out` when it is not NULL.
///
/// On the server: moves the history file back; the thread is not loaded by it.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** as for `codex_client_thread_archive`.
/// - **Errors:** as for `codex_client_thread_archive`.
///
/// # Safety
/// As for `codex_client_thread_archive`.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_unarchive(
    client: *const codex_client,
    thread_id: *const c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    thread_call(client, thread_id, result_out, err_out, |c, t| {
        c.thread_call(ThreadCall::Unarchive, t)
    })
}

/// Names a thread (`thread/name/set`): the name shows in `codex_client_thread_read`
/// (`thread.name`) and in listings, where `searchTerm` finds it. Writes the result JSON to
/// `*result_out` when it is not NULL.
///
/// On the server: stores the name with the thread and notifies every connection
/// (`thread/name/updated`).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** as for `codex_client_thread_archive`.
/// - **Errors:** as for `codex_client_thread_archive`; also `CODEX_ERR_INVALID_ARGUMENT` for a
///   NULL or invalid UTF-8 `name`, `CODEX_ERR_RPC` for an empty one ("thread name must not be
///   empty").
///
/// # Safety
/// As for `codex_client_thread_archive`; `name` a string.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_set_name(
    client: *const codex_client,
    thread_id: *const c_char,
    name: *const c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let thread_id = c_str(thread_id, "thread_id")?;
        let result = client.thread_set_name(thread_id, c_str(name, "name")?)?;
        write_result(&result, result_out);
        Ok(())
    })
}

/// Starts compacting a thread's history (`thread/compact/start`): the server summarises it so
/// later turns send less. It answers at once; the compaction runs as a turn of the thread that
/// no handle holds, so its events (a `contextCompaction` item, then `turn/completed`) arrive on
/// the client stream (`codex_client_next_event`). A `codex_turn_start` on the thread before
/// that `turn/completed` joins the compaction's turn on the server. Writes the result JSON to
/// `*result_out` when it is not NULL.
///
/// On the server: one model request (the summary), then a shorter history in memory.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** as for `codex_client_thread_archive`.
/// - **Errors:** as for `codex_client_thread_archive`.
///
/// # Safety
/// As for `codex_client_thread_archive`.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_compact(
    client: *const codex_client,
    thread_id: *const c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    thread_call(client, thread_id, result_out, err_out, |c, t| {
        c.thread_call(ThreadCall::Compact, t)
    })
}

/// Lets go of a thread on this connection (`thread/unsubscribe`): call it when the program is
/// done with a thread. The connection gets no more of its events, and the server unloads the
/// thread (frees its memory, then notifies `thread/closed`) once no connection is subscribed
/// and it has been idle for the server's `thread_unload_delay_secs` (60 s by default;
/// `codex_options_add_config(o, "thread_unload_delay_secs=0", ...)` unloads at once). A thread
/// nobody lets go of stays loaded for the life of the app-server.
/// `codex_client_thread_resume` takes it up again later.
/// Refused while a turn of this client is running or starting on the thread (its events would
/// stop): wait for its end, or interrupt it. Writes the result JSON (`{"status":
/// "unsubscribed"}`, `"notSubscribed"` the second time, `"notLoaded"`) to `*result_out` when it
/// is not NULL. In a pool: `codex_pool_thread_release`.
///
/// On the server: frees the thread's in-memory state after the unload delay once its last
/// subscriber is gone (`make bench-threads` measures what that saves).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** as for `codex_client_thread_archive`.
/// - **Errors:** as for `codex_client_thread_archive`; also `CODEX_ERR_TURN_ACTIVE` while a
///   turn of this client runs on the thread.
///
/// # Safety
/// As for `codex_client_thread_archive`.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_unsubscribe(
    client: *const codex_client,
    thread_id: *const c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    thread_call(client, thread_id, result_out, err_out, |c, t| c.thread_unsubscribe(t))
}
