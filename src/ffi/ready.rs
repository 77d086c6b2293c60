//! The event loop's calls on a client: its descriptor, and the ready list that hands back the
//! program's turns (`core::routing::ready`). Apart from `client.rs` because it names both
//! handle types, which `turn.rs` (a turn is started on a client) must not make a circle of.

use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::pending::{codex_pending, PENDING_TAG_BIT};
use super::turn::codex_turn;
use super::{codex_result, guard_result, out_ptr};
use crate::core::routing::ready::CLIENT_STREAM;
use crate::core::{Error, ErrorKind};
use std::ffi::c_int;

/// A file descriptor for an event loop (poll, epoll, libuv, GLib, asyncio's `add_reader`):
/// readable while the client has something to deliver, so one thread can drive many turns with
/// no thread blocked per turn. Writes it to `*fd_out`. The descriptor belongs to the client: do
/// not read, write or close it; it is closed when the client and all its turns are freed. Made
/// on the first call (later calls return the same one); an eventfd on Linux, a pipe elsewhere.
///
/// What it reports: polled turns started (with `codex_turn_start` or `codex_pool_turn_start`)
/// after the first call — callback turns deliver by themselves — and the client stream. The
/// descriptor is level-triggered: readable exactly while at least one of them is ready, that is
/// has events not yet taken (including those that arrived before the `turn/start` response),
/// has ended (`turn/completed`), or has failed (the transport died or the client closed). Each
/// ready stream is reported once per readiness: take it with `codex_client_next_ready_turn`,
/// then drain it without blocking — `codex_turn_next_event(turn, 0, ...)` until it returns
/// `CODEX_ERR_TIMEOUT` (or the stream's end or failure); for the client stream
/// `codex_client_next_event(client, 0, ...)` until `CODEX_ERR_TIMEOUT`. A stream drained that
/// way is reported again when its next event arrives. Programs that never call this pay nothing
/// for it.
///
/// - **Threads:** any thread; the descriptor may be watched from one thread while others use
///   the client.
/// - **Ownership:** the descriptor is the client's: never read, write or close it.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (invalid client, NULL `fd_out`, or on Windows,
///   where it is not available yet); `CODEX_ERR_INTERNAL` if the system refuses a descriptor.
///
/// # Safety
/// `client` a live client; `fd_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_event_fd(
    client: *const codex_client,
    fd_out: *mut c_int,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        out_ptr(fd_out, "fd_out")?;
        *fd_out = client.event_fd()?;
        Ok(())
    })
}

/// The next ready stream of the client's event descriptor (see `codex_client_event_fd`),
/// oldest first. `CODEX_OK` with `*turn_out` a turn (the handle the program holds) that has
/// something, or with `*turn_out` NULL when it is the client stream; `CODEX_ERR_TIMEOUT` (no
/// error object needed: `err_out` is still written) when nothing is ready — the descriptor is
/// then no longer readable (unless pending requests watched with `codex_pending_watch` are
/// ready: this function leaves them for `codex_client_next_ready`). A freed turn is never
/// returned. Never blocks.
///
/// - **Threads:** any thread.
/// - **Ownership:** the turn written to `*turn_out` is the program's own handle (from
///   `codex_turn_start`), not a new one: do not free it twice.
/// - **Errors:** `CODEX_ERR_TIMEOUT` when nothing is ready; `CODEX_ERR_INVALID_ARGUMENT` for an
///   invalid client, a NULL `turn_out`, or before `codex_client_event_fd` was called.
///
/// # Safety
/// `client` a live client; `turn_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_next_ready_turn(
    client: *const codex_client,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        out_ptr(turn_out, "turn_out")?;
        // Pending requests stay in the list for `codex_client_next_ready`.
        match client.next_ready_where(|tag| tag & PENDING_TAG_BIT == 0)? {
            None => Err(Error::new(ErrorKind::Timeout, "nothing is ready")),
            Some(CLIENT_STREAM) => {
                *turn_out = std::ptr::null_mut();
                Ok(())
            }
            Some(tag) => {
                *turn_out = tag as *mut codex_turn;
                Ok(())
            }
        }
    })
}

/// The next ready item of the client's event descriptor, oldest first: a polled turn (as
/// `codex_client_next_ready_turn` reports them), the client stream, or a pending request
/// watched with `codex_pending_watch` that is over. `CODEX_OK` with exactly one of
/// `*turn_out` and `*pending_out` set (the other NULL), or both NULL for the client stream;
/// `CODEX_ERR_TIMEOUT` (no error object needed) when nothing is ready. A freed turn or pending
/// request is never returned. Never blocks. A pending request is reported once: read it with
/// `codex_pending_result` and free it. A turn whose end (`CODEX_STREAM_END`, or the error that
/// ended it) `codex_turn_next_event` has returned is not reported again.
///
/// - **Threads:** any thread.
/// - **Ownership:** the handle written is the program's own (from `codex_turn_start*` or an
///   `*_async` start), not a new one.
/// - **Errors:** `CODEX_ERR_TIMEOUT` when nothing is ready; `CODEX_ERR_INVALID_ARGUMENT` for an
///   invalid client, a NULL `turn_out` or `pending_out`, or before `codex_client_event_fd`.
///
/// # Safety
/// `client` a live client; `turn_out` and `pending_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_next_ready(
    client: *const codex_client,
    turn_out: *mut *mut codex_turn,
    pending_out: *mut *mut codex_pending,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        out_ptr(turn_out, "turn_out")?;
        out_ptr(pending_out, "pending_out")?;
        let Some(tag) = client.next_ready()? else {
            return Err(Error::new(ErrorKind::Timeout, "nothing is ready"));
        };
        let (turn, pending) = match tag {
            CLIENT_STREAM => (std::ptr::null_mut(), std::ptr::null_mut()),
            tag if tag & PENDING_TAG_BIT != 0 => {
                (std::ptr::null_mut(), (tag & !PENDING_TAG_BIT) as *mut codex_pending)
            }
            tag => (tag as *mut codex_turn, std::ptr::null_mut()),
        };
        *turn_out = turn;
        *pending_out = pending;
        Ok(())
    })
}
