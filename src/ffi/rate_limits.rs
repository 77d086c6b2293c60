//! `codex_rate_limits`: a rate-limit snapshot, read on demand or from the
//! `account/rateLimits/updated` notification, as numbers.

use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::event::{codex_event, event_view};
use super::{
    codex_result, free_handle, guard_result, guard_value, handle, into_handle, invalid, out_ptr,
    CText, Handle,
};
use crate::core::protocol::threads::{RateLimits, Window};
use std::ffi::c_char;

/// The primary window of a rate limit (the shorter one, e.g. 5 hours).
pub const CODEX_RATE_LIMIT_PRIMARY: u32 = 0;
/// The secondary window of a rate limit (the longer one, e.g. a week).
pub const CODEX_RATE_LIMIT_SECONDARY: u32 = 1;

/// The method of the notification `codex_rate_limits_from_event` reads.
const UPDATED: &str = "account/rateLimits/updated";

/// A rate-limit snapshot: up to two windows, each with how much of it is used, its length
/// and when it resets (`codex_rate_limits_window`), and the JSON it was read from. Immutable:
/// it may be read from several threads; free it with `codex_rate_limits_free`.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_rate_limits {
    magic: u64,
    limits: RateLimits,
    json: CText,
}

handle_type!(codex_rate_limits, 0x636f_6465_7872_6c6d);

fn limits_handle(limits: RateLimits) -> *mut codex_rate_limits {
    let json = CText::new(&limits.json);
    into_handle(codex_rate_limits { magic: codex_rate_limits::MAGIC, limits, json })
}

/// Reads the account's rate limits now (`account/rateLimits/read`). Writes a new snapshot to
/// `*limits_out`.
///
/// On the server: one HTTP request to the account service. It needs a ChatGPT login: with an
/// API key or no login the server refuses ("chatgpt authentication required to read rate
/// limits", `CODEX_ERR_RPC`). Every account gets the same numbers after each model response
/// through the `account/rateLimits/updated` notification (see `codex_rate_limits_from_event`).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** the snapshot written to `*limits_out` is the caller's: free it with
///   `codex_rate_limits_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client` or `limits_out`), `CODEX_ERR_RPC`
///   (the server's error), `CODEX_ERR_PROTOCOL` (a result without `rateLimits`),
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `limits_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_account_rate_limits(
    client: *const codex_client,
    limits_out: *mut *mut codex_rate_limits,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        out_ptr(limits_out, "limits_out")?;
        *limits_out = limits_handle(client.rate_limits()?);
        Ok(())
    })
}

/// Reads the snapshot an `account/rateLimits/updated` notification carries (it arrives on the
/// client stream, `codex_client_next_event`, after each model response), so an orchestrator
/// can back off before the server refuses. Writes a new snapshot to `*limits_out`; the event
/// stays the caller's.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** the snapshot written to `*limits_out` is the caller's: free it with
///   `codex_rate_limits_free`; it does not borrow from `ev`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or freed `ev`, NULL `limits_out`, an event
///   of another method), `CODEX_ERR_PROTOCOL` (params without `rateLimits`).
///
/// # Safety
/// `ev` an event from this library not yet freed; `limits_out` writable; `err_out` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn codex_rate_limits_from_event(
    ev: *const codex_event,
    limits_out: *mut *mut codex_rate_limits,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let event = event_view(ev)?;
        out_ptr(limits_out, "limits_out")?;
        if event.method() != UPDATED {
            return Err(invalid(format!("ev: a {} event, not {UPDATED}", event.method())));
        }
        *limits_out = limits_handle(RateLimits::parse(event.params().to_owned(), UPDATED)?);
        Ok(())
    })
}

/// One window of the snapshot: `which` is `CODEX_RATE_LIMIT_PRIMARY` or
/// `CODEX_RATE_LIMIT_SECONDARY`. Returns false when the snapshot has no such window (the
/// outputs are then left alone); else writes, to each output that is not NULL, the percent
/// used (0 to 100), the window's length in minutes and when it resets (Unix seconds) — -1 for
/// the two the server did not say.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: false for a NULL or freed `limits`, or an unknown `which`.
///
/// # Safety
/// `limits` NULL or a live snapshot; each output NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_rate_limits_window(
    limits: *const codex_rate_limits,
    which: u32,
    used_percent_out: *mut i32,
    window_minutes_out: *mut i64,
    resets_at_out: *mut i64,
) -> bool {
    guard_value(false, || {
        let Ok(limits) = handle(limits, "limits") else { return false };
        let which = match which {
            CODEX_RATE_LIMIT_PRIMARY => Window::Primary,
            CODEX_RATE_LIMIT_SECONDARY => Window::Secondary,
            _ => return false,
        };
        let Some(window) = limits.limits.window(which) else { return false };
        if !used_percent_out.is_null() {
            *used_percent_out = window.used_percent;
        }
        if !window_minutes_out.is_null() {
            *window_minutes_out = window.window_duration_mins.unwrap_or(-1);
        }
        if !resets_at_out.is_null() {
            *resets_at_out = window.resets_at.unwrap_or(-1);
        }
        true
    })
}

/// The JSON the snapshot was read from: the `account/rateLimits/read` result or the
/// notification's params (both hold the snapshot at `rateLimits`, with `limitId`, `credits`,
/// `planType`, ...).
///
/// - **Threads:** any thread.
/// - **Ownership:** borrowed: valid until `limits` is freed.
/// - **Errors:** none: NULL for a NULL or freed `limits`.
///
/// # Safety
/// `limits` NULL or a live snapshot.
#[no_mangle]
pub unsafe extern "C" fn codex_rate_limits_json(limits: *const codex_rate_limits) -> *const c_char {
    guard_value(std::ptr::null(), || {
        handle(limits, "limits").map_or(std::ptr::null(), |l| l.json.ptr())
    })
}

/// Frees a snapshot. NULL and freed snapshots are ignored.
///
/// - **Threads:** exclusive: no other call on the snapshot may be running or follow.
/// - **Ownership:** releases the snapshot and its JSON.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `limits` NULL or a snapshot from this library; no other call on it may be running or follow.
#[no_mangle]
pub unsafe extern "C" fn codex_rate_limits_free(limits: *mut codex_rate_limits) {
    guard_value((), || free_handle(limits))
}
