//! `codex_pool`: many app-servers (spawned or remote) behind one placement rule.

use super::callback::{self, codex_event_callback, codex_userdata_free};
use super::client::{client_handle, codex_client};
use super::error::codex_error;
use super::options::{codex_options, options_of};
use super::turn::{codex_turn, start_turn_on};
use super::{
    c_str, codex_result, free_handle, guard_result, guard_value, handle, into_handle, invalid,
    opt_c_str, out_ptr, owned_c_string, Handle,
};
use crate::core::{Client, Error, Pool};
use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex};

/// A pool of app-servers: each member is a client of its own (a spawned `codex app-server`, or
/// a remote one), started from its own `codex_options`.
///
/// Placement: `codex_pool_thread_start` puts a new Codex thread on the healthy member with the
/// fewest active turns; its turns (`codex_pool_turn_start`) go to that member. A member whose
/// app-server dies or whose connection drops fails only its own turns and waiters
/// (`CODEX_ERR_TRANSPORT`); new threads go to the others; the member's own library thread
/// restarts or reconnects it in the background (capped exponential backoff: 100 ms doubling to
/// 10 s) and it takes new threads again once healthy. Members start and restart independently:
/// one whose start hangs (a server that never answers `initialize`, a WebSocket upgrade never
/// answered) delays no other member, nor the pool's start or close; its start fails after
/// `codex_options_set_start_timeout_ms` and is retried. Threads of a failed member are not moved: a turn start
/// on one fails with `CODEX_ERR_TRANSPORT` naming the failure, and the program may start a new
/// thread or `thread/resume` it where its storage is reachable.
///
/// Threads: every function may be called from many threads at once, except `codex_pool_free`
/// (exclusive: call it once, after every other call has returned). Shutdown order:
/// `codex_pool_close` (closes every member at once; blocked calls return `CODEX_ERR_CLOSED`),
/// then free turns, events and the pool in any order.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_pool {
    magic: u64,
    pool: Pool,
    /// Handles given out by `codex_pool_client_for_thread`, one per member client, kept until
    /// the pool is freed so that borrowed pointers stay valid.
    clients: Mutex<Vec<*mut codex_client>>,
}

// The raw client handles are owned by the pool and only freed in `codex_pool_free`.
unsafe impl Send for codex_pool {}
unsafe impl Sync for codex_pool {}

handle_type!(codex_pool, 0x636f_6465_7870_6f6c);

unsafe fn pool_ref<'a>(pool: *const codex_pool) -> Result<&'a codex_pool, Error> {
    handle(pool, "pool")
}

/// Starts (or connects) every member at once, each from its options (copied: they may be freed
/// right after) on a library thread of its own. Returns as soon as one member is up — the
/// others go on starting in the background, and are retried when they fail — and writes the
/// pool to `*pool_out` (free with `codex_pool_free`); `codex_pool_member_healthy` tells which
/// are up. Fails with `CODEX_ERR_TRANSPORT` naming every member's error when each member's
/// first start failed, and with
/// `CODEX_ERR_INVALID_ARGUMENT` when `members` is NULL, `n` is 0 or an entry is not live
/// options.
///
/// - **Threads:** any thread.
/// - **Ownership:** each member's options are copied; the pool written to `*pool_out` is the
///   caller's: close it with `codex_pool_close` and free it with `codex_pool_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `members` or `pool_out`, `n` 0, an entry that
///   is not live options), `CODEX_ERR_TRANSPORT` (no member could be started; the message names
///   each one's error).
///
/// # Safety
/// `members` must point to `n` options pointers; `pool_out` writable; `err_out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_start(
    members: *const *const codex_options,
    n: usize,
    pool_out: *mut *mut codex_pool,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        super::log::install();
        out_ptr(pool_out, "pool_out")?;
        if members.is_null() || n == 0 {
            return Err(invalid("members: NULL or empty; a pool needs at least one".into()));
        }
        let options = std::slice::from_raw_parts(members, n)
            .iter()
            .enumerate()
            .map(|(i, &o)| {
                options_of(o).cloned().map_err(|e| invalid(format!("members[{i}]: {}", e.message)))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let pool = Pool::start(options)?;
        *pool_out = into_handle(codex_pool {
            magic: codex_pool::MAGIC,
            pool,
            clients: Mutex::new(Vec::new()),
        });
        Ok(())
    })
}

/// `thread/start` on the healthy member with the fewest active turns. `params_json` as in
/// `codex_client_thread_start` (NULL or a JSON object). Writes the new thread's id to
/// `*thread_id_out` (free with `codex_string_free`) and, when `result_json_out` is not NULL,
/// the full result. `CODEX_ERR_TRANSPORT` when no member is healthy. Thread-safe.
///
/// - **Threads:** any thread, many at once on one pool.
/// - **Ownership:** the strings written to `*thread_id_out` and `*result_json_out` are the
///   caller's: free each with `codex_string_free`.
/// - **Errors:** `CODEX_ERR_TRANSPORT` (no member is healthy), `CODEX_ERR_CLOSED` (the pool is
///   closed), and those of `codex_client_thread_start`.
///
/// # Safety
/// `pool` a live pool; `params_json` NULL or a string; `thread_id_out` writable;
/// `result_json_out` NULL or writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_thread_start(
    pool: *const codex_pool,
    params_json: *const c_char,
    thread_id_out: *mut *mut c_char,
    result_json_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let pool = pool_ref(pool)?;
        let params = opt_c_str(params_json, "params_json")?;
        out_ptr(thread_id_out, "thread_id_out")?;
        let (thread, result) = pool.pool.thread_start(params)?;
        *thread_id_out = owned_c_string(&thread);
        if !result_json_out.is_null() {
            *result_json_out = owned_c_string(&result);
        }
        Ok(())
    })
}

/// Starts a turn on the member that owns `thread_id` (a thread from `codex_pool_thread_start`);
/// arguments, result and errors as in `codex_turn_start`, plus `CODEX_ERR_TRANSPORT` when that
/// member's app-server failed since the thread was placed there, and
/// `CODEX_ERR_INVALID_ARGUMENT` for a thread this pool did not start. The turn is an ordinary
/// `codex_turn` (free with `codex_turn_free`). Thread-safe.
///
/// - **Threads:** any thread, many at once on one pool.
/// - **Ownership:** as for `codex_turn_start`: the turn is the caller's (`codex_turn_free`).
/// - **Errors:** those of `codex_turn_start`, and `CODEX_ERR_TRANSPORT` (the thread's member
///   failed), `CODEX_ERR_INVALID_ARGUMENT` (a thread this pool did not start).
///
/// # Safety
/// As for `codex_turn_start`, with a live pool.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_turn_start(
    pool: *const codex_pool,
    thread_id: *const c_char,
    input: *const c_char,
    params_json: *const c_char,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let pool = &pool_ref(pool)?.pool;
        let start = |t: &str, i: &str, p: Option<&str>, c| pool.turn_start(t, i, p, c);
        start_turn_on(start, thread_id, input, params_json, None, turn_out)
    })
}

/// `codex_pool_turn_start` with a callback, as `codex_turn_start_with_callback` (same rules
/// for `callback`, `userdata` and `userdata_free`, which runs once also when this fails).
///
/// - **Threads:** as for `codex_pool_turn_start`; the callback runs on a library thread.
/// - **Ownership:** as for `codex_turn_start_with_callback`: `userdata_free` runs exactly once,
///   also when this fails.
/// - **Errors:** as for `codex_pool_turn_start`.
///
/// # Safety
/// As for `codex_turn_start_with_callback`, with a live pool.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_turn_start_with_callback(
    pool: *const codex_pool,
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
        let pool = &pool_ref(pool)?.pool;
        let start = |t: &str, i: &str, p: Option<&str>, c| pool.turn_start(t, i, p, c);
        start_turn_on(start, thread_id, input, params_json, Some(callback), turn_out)
    })
}

/// The client of the member that owns `thread_id`, for any other request about that thread
/// (`codex_client_request`, `codex_client_thread_resume`, ...). Writes a borrowed pointer to
/// `*client_out`: valid until `codex_pool_free`; do not free it (`codex_client_free` ignores
/// it). When the member that owns the thread has failed (restarted since or not), it fails with
/// `CODEX_ERR_TRANSPORT` naming that failure, as `codex_pool_turn_start` does: the thread's
/// connection is gone. Errors as for `codex_pool_turn_start`. Thread-safe.
///
/// - **Threads:** any thread.
/// - **Ownership:** the client written to `*client_out` is borrowed from the pool: valid until
///   `codex_pool_free`; do not free it.
/// - **Errors:** as for `codex_pool_turn_start`.
///
/// # Safety
/// `pool` a live pool; `thread_id` a string; `client_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_client_for_thread(
    pool: *const codex_pool,
    thread_id: *const c_char,
    client_out: *mut *const codex_client,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let pool = pool_ref(pool)?;
        let thread_id = c_str(thread_id, "thread_id")?;
        out_ptr(client_out, "client_out")?;
        let (_, client) = pool.pool.client_for_thread(thread_id)?;
        *client_out = pool.client_handle(client);
        Ok(())
    })
}

impl codex_pool {
    /// The one handle of this client, made on first use.
    fn client_handle(&self, client: Arc<Client>) -> *const codex_client {
        let mut handles = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let known = handles.iter().find(|&&h| Arc::ptr_eq(unsafe { &(*h).client }, &client));
        if let Some(&h) = known {
            return h;
        }
        let h = client_handle(client, true);
        handles.push(h);
        h
    }
}

/// How many members the pool has (healthy or not). 0 for an invalid pool.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 when `pool` is NULL or not a live handle.
///
/// # Safety
/// `pool` must be NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_member_count(pool: *const codex_pool) -> usize {
    guard_value(0, || pool_ref(pool).map_or(0, |p| p.pool.member_count()))
}

/// Whether member `index` (0 ≤ index < `codex_pool_member_count`) is up and its connection
/// works. False for an invalid pool or index. Thread-safe.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: false for a NULL or dead pool or an index out of range.
///
/// # Safety
/// `pool` must be NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_member_healthy(pool: *const codex_pool, index: usize) -> bool {
    guard_value(false, || {
        pool_ref(pool).and_then(|p| p.pool.member_status(index)).is_ok_and(|s| s.healthy)
    })
}

/// Why member `index` is (or last was) down: writes the message of its last failure — the
/// connection's failure, or why its last start failed — to `*message_out` (free with
/// `codex_string_free`), or NULL when it never failed.
///
/// - **Threads:** any thread.
/// - **Ownership:** the string written to `*message_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` for an invalid pool, an index out of range, or a
///   NULL `message_out`.
///
/// # Safety
/// `pool` a live pool; `message_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_member_last_error(
    pool: *const codex_pool,
    index: usize,
    message_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let pool = pool_ref(pool)?;
        out_ptr(message_out, "message_out")?;
        let status = pool.pool.member_status(index)?;
        *message_out =
            status.last_error.map_or(std::ptr::null_mut(), |e| owned_c_string(&e.message));
        Ok(())
    })
}

/// Active turns on member `index` (0 when it is down, or for an invalid pool or index).
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: 0 for a NULL or dead pool or an index out of range.
///
/// # Safety
/// `pool` must be NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_member_active_turns(
    pool: *const codex_pool,
    index: usize,
) -> usize {
    guard_value(0, || {
        pool_ref(pool).and_then(|p| p.pool.member_status(index)).map_or(0, |s| s.active_turns)
    })
}

/// Closes every member at once (in parallel): blocked calls return `CODEX_ERR_CLOSED`, open
/// turns end, spawned servers are stopped, and nothing is restarted any more. Starts in flight
/// are cancelled at once (the spawned server killed, the socket shut, a connect in progress
/// abandoned), so a member whose start hangs does not hold the close. Returns once every member's thread has ended. Idempotent and thread-safe; NULL
/// is ignored. The handle stays valid until `codex_pool_free`.
///
/// - **Threads:** any thread, also while other threads are blocked in calls on the pool (they
///   return).
/// - **Ownership:** frees nothing: the handle stays valid until `codex_pool_free`.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `pool` must be NULL or a live pool.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_close(pool: *const codex_pool) {
    guard_value((), || {
        if let Ok(pool) = pool_ref(pool) {
            pool.pool.close();
        }
    })
}

/// Closes the pool if needed (as `codex_pool_close`: starts in flight are cancelled) and frees
/// it with the client handles it gave out. NULL is ignored; freeing a pool twice is undefined
/// behaviour (see the rules at the top). Turns and events stay valid and may be freed later.
///
/// - **Threads:** exclusive: no other call on the pool may be running or follow.
/// - **Ownership:** releases the pool and the client handles it gave out; turns and events stay the
///   caller's.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `pool` must be NULL or a pool from `codex_pool_start`; no other call on it may be running
/// or follow.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_free(pool: *mut codex_pool) {
    guard_value((), || {
        let Ok(p) = pool_ref(pool) else { return };
        p.pool.close();
        for h in p.clients.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            super::client::free_pool_owned(h);
        }
        free_handle(pool)
    })
}

/// Lets go of a thread of the pool: unsubscribes it on the member that owns it (see
/// `codex_client_thread_unsubscribe`) and forgets it, so placement no longer counts it and
/// `codex_pool_turn_start` no longer knows it. A thread whose member's app-server died since
/// is only forgotten (that server holds nothing of it any more).
///
/// On the server: as for `codex_client_thread_unsubscribe` (the thread is unloaded once no
/// connection is subscribed).
///
/// - **Threads:** any thread, many at once on one pool.
/// - **Ownership:** `thread_id` is only read during the call.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `pool` or `thread_id`, a thread this pool
///   did not start or already let go), `CODEX_ERR_TURN_ACTIVE` (a turn runs on it), and those
///   of `codex_client_thread_unsubscribe`.
///
/// # Safety
/// `pool` a live pool; `thread_id` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_pool_thread_release(
    pool: *const codex_pool,
    thread_id: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || pool_ref(pool)?.pool.thread_release(c_str(thread_id, "thread_id")?))
}
