//! `codex_client_starting`: a client start that returns at once (`codex_client_start_async`).

use super::client::{client_handle, codex_client};
use super::error::codex_error;
use super::options::{codex_options, options_of};
use super::{
    check_timeout, codex_result, free_handle, guard_result, guard_value, handle, into_handle,
    out_ptr, Handle,
};
use crate::core::client::starting::Starting;
use crate::core::routing::queue::Wait;
use crate::core::{Error, Options};
use std::ffi::{c_int, c_void};
use std::sync::Arc;

/// A client being started by `codex_client_start_async`: spawning codex (or connecting) and the
/// `initialize` handshake run on a library thread of their own. Take the client with
/// `codex_client_starting_finish` once it is over — learnt from its descriptor
/// (`codex_client_starting_fd`), its callback (`codex_client_starting_set_callback`), a
/// blocking wait (`codex_client_starting_wait`) or `codex_client_starting_is_done` — then free
/// the handle with `codex_client_starting_free`, which cancels a start still under way.
///
/// Threads: every call but `codex_client_starting_free` may be made from any thread, at once;
/// `codex_client_starting_free` is exclusive.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_client_starting {
    magic: u64,
    starting: Starting,
}

handle_type!(codex_client_starting, 0x636f_6465_7873_7472);

/// Called once when a start is over, on the start's own library thread, with the program's
/// handle (take the client with `codex_client_starting_finish`; the handle may be freed here).
pub type codex_client_starting_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, starting: *mut codex_client_starting)>;

unsafe fn starting_ref<'a>(s: *const codex_client_starting) -> Result<&'a Starting, Error> {
    handle(s, "starting").map(|s| &s.starting)
}

/// Starts a client like `codex_client_start` — spawn codex (or connect to `opts`' URL) and
/// complete `initialize` within the start timeout — without waiting: writes a
/// `codex_client_starting` to `*starting_out` at once. The options are copied; they may be
/// freed right after.
///
/// - **Threads:** any thread.
/// - **Ownership:** the handle written to `*starting_out` is the caller's: free it with
///   `codex_client_starting_free` (after taking the client, or to cancel the start).
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid `opts`, NULL `starting_out`),
///   `CODEX_ERR_INTERNAL` (no thread could be started). The start's own errors
///   (`CODEX_ERR_SPAWN`, `CODEX_ERR_TIMEOUT`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_AUTH`, ...) come
///   from `codex_client_starting_finish`.
///
/// # Safety
/// `opts` NULL (the defaults) or live options; `starting_out` writable; `err_out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_start_async(
    opts: *const codex_options,
    starting_out: *mut *mut codex_client_starting,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        super::log::install();
        out_ptr(starting_out, "starting_out")?;
        let defaults;
        let options = if opts.is_null() {
            defaults = Options::default();
            &defaults
        } else {
            options_of(opts)?
        };
        let starting = Starting::begin(options)?;
        *starting_out =
            into_handle(codex_client_starting { magic: codex_client_starting::MAGIC, starting });
        Ok(())
    })
}

/// Whether the start is over (the client is up, or the start failed). Never blocks. False for
/// NULL or an invalid handle.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: false for NULL or an invalid handle.
///
/// # Safety
/// `starting` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn codex_client_starting_is_done(
    starting: *const codex_client_starting,
) -> bool {
    guard_value(false, || starting_ref(starting).is_ok_and(Starting::is_done))
}

/// A descriptor for an event loop, readable once the start is over (and from then on). Owned
/// by the handle: do not read, write or close it; it is closed by `codex_client_starting_free`.
///
/// - **Threads:** any thread.
/// - **Ownership:** the descriptor is the handle's.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid `starting`, NULL `fd_out`, or on
///   Windows, where it is not available yet); `CODEX_ERR_INTERNAL` if the system refuses one.
///
/// # Safety
/// `starting` a live handle; `fd_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_starting_fd(
    starting: *const codex_client_starting,
    fd_out: *mut c_int,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let s = starting_ref(starting)?;
        out_ptr(fd_out, "fd_out")?;
        *fd_out = s.fd()?;
        Ok(())
    })
}

/// Waits until the start is over: `CODEX_OK` then, whatever its outcome;
/// `CODEX_ERR_TIMEOUT` when it is not over within `timeout_ms` (-1: no limit, 0: just look).
///
/// - **Threads:** any thread, several at once.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_TIMEOUT`; `CODEX_ERR_INVALID_ARGUMENT` (invalid `starting`,
///   `timeout_ms` out of range).
///
/// # Safety
/// `starting` a live handle; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_starting_wait(
    starting: *const codex_client_starting,
    timeout_ms: i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let s = starting_ref(starting)?;
        s.wait(Wait::from_millis(check_timeout(timeout_ms)?))
    })
}

/// Calls `callback(userdata, starting)` once when the start is over, on the start's library
/// thread (at once, on the calling thread, when it is over already). `userdata_free` (may be
/// NULL) runs exactly once: after the call, when the handle is freed first, or at once when
/// this fails.
///
/// - **Threads:** any thread; the callback may call any function of this library, including
///   `codex_client_starting_finish` and `codex_client_starting_free` on its handle.
/// - **Ownership:** the library owns `userdata` until `userdata_free` runs.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid `starting`, NULL `callback`, a callback
///   given already).
///
/// # Safety
/// `starting` a live handle; `callback` and `userdata_free` callable from any thread;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_starting_set_callback(
    starting: *mut codex_client_starting,
    callback: codex_client_starting_callback,
    userdata: *mut c_void,
    userdata_free: super::callback::codex_userdata_free,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let Some(call) = callback else {
            super::callback::release(userdata, userdata_free);
            return Err(Error::invalid_argument("callback: is NULL"));
        };
        let c = StartCall { call, userdata, userdata_free, starting };
        let s = match starting_ref(starting) {
            Ok(s) => s,
            Err(err) => {
                drop(c);
                return Err(err);
            }
        };
        s.on_complete(Box::new(move || {
            let c = c; // moved whole, dropped (userdata_free) after the call
            unsafe { (c.call)(c.userdata, c.starting) };
        }))
    })
}

struct StartCall {
    call: unsafe extern "C" fn(*mut c_void, *mut codex_client_starting),
    userdata: *mut c_void,
    userdata_free: super::callback::codex_userdata_free,
    starting: *mut codex_client_starting,
}

// The program promises, by handing these to a callback API, that they may be used from a
// library thread; the handle outlives every call (its free waits for a running one).
unsafe impl Send for StartCall {}

impl Drop for StartCall {
    fn drop(&mut self) {
        super::callback::release(self.userdata, self.userdata_free);
    }
}

/// Takes the started client: `CODEX_OK` with it in `*client_out` (once; free it with
/// `codex_client_free`), or the start's error (every time it is asked).
///
/// - **Threads:** any thread.
/// - **Ownership:** the client written to `*client_out` is the caller's.
/// - **Errors:** the start's own (`CODEX_ERR_SPAWN`, `CODEX_ERR_TIMEOUT`, `CODEX_ERR_TRANSPORT`,
///   `CODEX_ERR_AUTH`, `CODEX_ERR_CLOSED` when cancelled, ...); `CODEX_ERR_INVALID_ARGUMENT`
///   (invalid `starting`, NULL `client_out`, a start not over yet, a client taken already).
///
/// # Safety
/// `starting` a live handle; `client_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_starting_finish(
    starting: *const codex_client_starting,
    client_out: *mut *mut codex_client,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let s = starting_ref(starting)?;
        out_ptr(client_out, "client_out")?;
        *client_out = client_handle(Arc::new(s.take()?), false);
        Ok(())
    })
}

/// Frees the handle. A start still under way is cancelled (the child killed, the connection
/// shut); a started client not taken with `codex_client_starting_finish` is closed. A running
/// callback is waited for, unless this is called from inside it. NULL is ignored.
///
/// - **Threads:** exclusive on `starting`; from inside its own callback too.
/// - **Ownership:** releases `starting` and its descriptor; a client already taken is not
///   touched.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `starting` NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn codex_client_starting_free(starting: *mut codex_client_starting) {
    guard_value((), || free_handle(starting))
}
