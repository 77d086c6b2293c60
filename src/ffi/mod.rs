//! The C ABI. Every `extern "C"` function lives here, one file per C type. Each checks its
//! arguments, runs inside a panic boundary, and maps core errors to `codex_result` codes.
//! No protocol or JSON logic lives in this layer.

#![allow(non_camel_case_types)]

/// Implements `Handle` for a C handle type with a `magic: u64` field. The tag must be the first
/// word of every handle type (`#[repr(C)]`, `magic` first; checked when compiling): a handle
/// of the wrong type is then refused after reading 8 bytes inside its own block, never past it.
macro_rules! handle_type {
    ($name:ident, $magic:expr) => {
        const _: () = assert!(
            std::mem::offset_of!($name, magic) == 0,
            concat!(
                stringify!($name),
                ": the tag must be the first word (#[repr(C)], magic first)"
            )
        );
        const _: () = assert!(std::mem::size_of::<$name>() >= 8);
        impl $crate::ffi::Handle for $name {
            const TYPE_NAME: &'static str = stringify!($name);
            const MAGIC: u64 = $magic;
            fn magic(&self) -> u64 {
                self.magic
            }
            fn clear_magic(&mut self) {
                self.magic = 0;
            }
        }
    };
}

pub mod account;
pub mod answers;
pub mod attach;
pub mod callback;
pub mod client;
pub mod error;
pub mod event;
pub mod failure;
pub mod input;
pub mod items;
pub mod json;
pub mod log;
pub mod options;
pub mod pending;
pub mod pool;
pub mod rate_limits;
pub mod ready;
pub mod request;
pub mod request_fields;
pub mod starting;
pub mod thread_list;
pub mod thread_options;
pub mod threads;
pub mod turn;
pub mod turn_async;
pub mod turn_options;
pub mod usage;
pub mod version;

use crate::core::{Error, ErrorKind};
use error::codex_error;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The result of every fallible function: `CODEX_OK` (0) or one of the `CODEX_ERR_*` codes
/// (and `CODEX_STREAM_END`). Values are explicit and never reused.
pub type codex_result = u32;

/// Success.
pub const CODEX_OK: codex_result = 0;
/// An argument was NULL, not valid UTF-8, not valid JSON, or out of range (a freed or
/// wrong-type handle may be caught too, but that is undefined behaviour: see the rules at the
/// top). The message names the argument.
pub const CODEX_ERR_INVALID_ARGUMENT: codex_result = 1;
/// The app-server could not be started (no binary found, not executable, ...).
pub const CODEX_ERR_SPAWN: codex_result = 2;
/// Nothing arrived within the timeout. The operation may be retried.
pub const CODEX_ERR_TIMEOUT: codex_result = 3;
/// The server answered with a JSON-RPC error: see `codex_error_rpc_code` and `codex_error_data`.
pub const CODEX_ERR_RPC: codex_result = 4;
/// The server answered -32001 "Server overloaded; retry later.": retry with backoff.
pub const CODEX_ERR_OVERLOADED: codex_result = 5;
/// The app-server exited or closed its stdout (the message has the exit status and the last
/// lines of its stderr), or the connection to a remote one (`codex_options_set_url`) could not
/// be made or was lost: refused, unreachable, no answer within the connect timeout, dropped,
/// closed by the server (the message has the close code and reason), silent past the
/// keepalive, or a message over the size limit. The message names the address. Every later
/// call on the client fails the same way.
pub const CODEX_ERR_TRANSPORT: codex_result = 6;
/// The client was closed with `codex_client_close`.
pub const CODEX_ERR_CLOSED: codex_result = 7;
/// The thread already has a turn running or starting on this client. Steer it
/// (`codex_turn_steer`) or interrupt it (`codex_turn_interrupt`) and start the next turn after
/// it completed.
pub const CODEX_ERR_TURN_ACTIVE: codex_result = 8;
/// Not an error: the turn's stream has ended after its `turn/completed` event.
pub const CODEX_STREAM_END: codex_result = 9;
/// The server sent something this library could not use (e.g. a result without an id).
pub const CODEX_ERR_PROTOCOL: codex_result = 10;
/// A bug in this library (a caught panic). The message says where.
pub const CODEX_ERR_INTERNAL: codex_result = 11;
/// The server request is no longer open: already answered, resolved by the server
/// (`serverRequest/resolved`), its turn completed or was freed, the answer timeout declined
/// it, or the client closed.
pub const CODEX_ERR_STALE_REQUEST: codex_result = 12;
/// The turn's unconsumed events reached the limit (`codex_options_set_turn_buffer_events`):
/// its buffered events were freed, the library sent `turn/interrupt` for it, and its later
/// events are discarded and counted (`codex_turn_dropped_events`). Other turns go on.
pub const CODEX_ERR_OVERFLOW: codex_result = 13;
/// A remote app-server refused the credentials at the WebSocket upgrade (HTTP 401 or 403): the
/// auth token (`codex_options_set_auth_token`) is missing or wrong. The message never holds
/// the token.
pub const CODEX_ERR_AUTH: codex_result = 14;
/// A JSON Pointer getter (`codex_json_get_*`) found no value at the pointer: a member or index
/// that is not there, or a step into a string, number, boolean or null. Not a failure of the
/// document; the message names the pointer.
pub const CODEX_ERR_NOT_FOUND: codex_result = 15;
/// A JSON Pointer getter found a value of another JSON type than it reads (a string read as an
/// integer, a fraction or a number beyond int64 read with `codex_json_get_int`, ...). The
/// message names the pointer and both types; `codex_json_get_type` tells the type.
pub const CODEX_ERR_WRONG_TYPE: codex_result = 16;
/// An asynchronous start (`codex_client_request_async`, `codex_client_thread_start_async`,
/// `codex_turn_start_async`, ...) was refused before anything was sent: the client already
/// has as many of them waiting for their answer as `codex_options_set_max_pending_requests`
/// allows (default 10,000). Nothing was queued; retry once some have completed or been freed.
pub const CODEX_ERR_TOO_MANY_PENDING: codex_result = 17;

pub(crate) fn code_of(kind: ErrorKind) -> codex_result {
    match kind {
        ErrorKind::InvalidArgument => CODEX_ERR_INVALID_ARGUMENT,
        ErrorKind::Spawn => CODEX_ERR_SPAWN,
        ErrorKind::Timeout => CODEX_ERR_TIMEOUT,
        ErrorKind::Rpc => CODEX_ERR_RPC,
        ErrorKind::Overloaded => CODEX_ERR_OVERLOADED,
        ErrorKind::Transport => CODEX_ERR_TRANSPORT,
        ErrorKind::Closed => CODEX_ERR_CLOSED,
        ErrorKind::TurnActive => CODEX_ERR_TURN_ACTIVE,
        ErrorKind::Protocol => CODEX_ERR_PROTOCOL,
        ErrorKind::Internal => CODEX_ERR_INTERNAL,
        ErrorKind::StaleRequest => CODEX_ERR_STALE_REQUEST,
        ErrorKind::Overflow => CODEX_ERR_OVERFLOW,
        ErrorKind::Auth => CODEX_ERR_AUTH,
        ErrorKind::NotFound => CODEX_ERR_NOT_FOUND,
        ErrorKind::WrongType => CODEX_ERR_WRONG_TYPE,
        ErrorKind::TooManyPending => CODEX_ERR_TOO_MANY_PENDING,
    }
}

/// What a guarded body returns: success, a plain result code with no error object
/// (`CODEX_STREAM_END`), or an error.
pub(crate) enum Outcome {
    Ok,
    Code(codex_result),
    Err(Error),
}

impl From<Result<(), Error>> for Outcome {
    fn from(r: Result<(), Error>) -> Outcome {
        match r {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::Err(e),
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    format!(
        "internal error in libcodex_app_server (a panic was caught): {}",
        crate::core::panic::panic_text(payload.as_ref())
    )
}

/// Runs `body` inside a panic boundary; writes an error object to `err_out` (if not NULL)
/// on failure.
pub(crate) fn guard(
    err_out: *mut *mut codex_error,
    body: impl FnOnce() -> Outcome,
) -> codex_result {
    let outcome = catch_unwind(AssertUnwindSafe(body))
        .unwrap_or_else(|p| Outcome::Err(Error::new(ErrorKind::Internal, panic_message(p))));
    match outcome {
        Outcome::Ok => CODEX_OK,
        Outcome::Code(code) => code,
        Outcome::Err(err) => {
            let code = code_of(err.kind);
            if !err_out.is_null() {
                unsafe { *err_out = Box::into_raw(Box::new(codex_error::from(err))) };
            }
            code
        }
    }
}

/// `guard` for the common body that returns `Ok(())` or an error.
pub(crate) fn guard_result(
    err_out: *mut *mut codex_error,
    body: impl FnOnce() -> Result<(), Error>,
) -> codex_result {
    guard(err_out, || Outcome::from(body()))
}

/// A panic boundary for functions that return a value instead of a result code.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// A handle type: boxed, tagged so a wrong or freed pointer is often caught (a debugging aid:
/// the tag is read from memory that may be freed or belong to something else).
pub(crate) trait Handle: Sized {
    const TYPE_NAME: &'static str;
    const MAGIC: u64;
    fn magic(&self) -> u64;
    fn clear_magic(&mut self);
}

pub(crate) fn invalid(message: String) -> Error {
    Error::invalid_argument(message)
}

/// A borrowed handle, or `CODEX_ERR_INVALID_ARGUMENT` naming the argument.
pub(crate) unsafe fn handle<'a, T: Handle>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    if ptr.is_null() {
        return Err(invalid(format!("{name}: is NULL")));
    }
    let h = &*ptr;
    if h.magic() != T::MAGIC {
        return Err(invalid(format!(
            "{name}: not a live {} (freed, or another type)",
            T::TYPE_NAME
        )));
    }
    Ok(h)
}

/// Frees a handle made by `into_handle`; NULL is ignored. The tag is cleared first, so a second
/// free is often caught while the memory is not reused: a debugging aid, not a promise (the
/// header calls a second free undefined behaviour).
pub(crate) unsafe fn free_handle<T: Handle>(ptr: *mut T) {
    if ptr.is_null() || (*ptr).magic() != T::MAGIC {
        return;
    }
    (*ptr).clear_magic();
    drop(Box::from_raw(ptr));
}

/// Gives a handle to C.
pub(crate) fn into_handle<T: Handle>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// A required string argument.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(invalid(format!("{name}: is NULL")));
    }
    CStr::from_ptr(ptr).to_str().map_err(|e| invalid(format!("{name}: not valid UTF-8 ({e})")))
}

/// An optional string argument (NULL means absent).
pub(crate) unsafe fn opt_c_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        Ok(None)
    } else {
        c_str(ptr, name).map(Some)
    }
}

/// Checks that an out-parameter can be written.
pub(crate) fn out_ptr<T>(ptr: *mut T, name: &str) -> Result<(), Error> {
    if ptr.is_null() {
        Err(invalid(format!("{name}: is NULL")))
    } else {
        Ok(())
    }
}

/// The longest timeout any function or option takes, in milliseconds (2^31 - 1, about 24.8
/// days): a deadline beyond it could overflow the clock; -1 is the way to wait without limit.
pub(crate) const MAX_TIMEOUT_MS: i64 = i32::MAX as i64;

/// `timeout_ms`: -1 waits without limit, 0 polls, positive waits that long (at most
/// `MAX_TIMEOUT_MS`).
pub(crate) fn check_timeout(timeout_ms: i64) -> Result<i64, Error> {
    if timeout_ms < -1 {
        Err(invalid(format!(
            "timeout_ms: {timeout_ms} is not -1 (no limit), 0 or a positive number"
        )))
    } else {
        at_most("timeout_ms", timeout_ms, MAX_TIMEOUT_MS)
    }
}

/// `value`, or `CODEX_ERR_INVALID_ARGUMENT` naming `name` and the bound when above `max`.
pub(crate) fn at_most<T: PartialOrd + std::fmt::Display>(
    name: &str,
    value: T,
    max: T,
) -> Result<T, Error> {
    if value > max {
        Err(invalid(format!("{name}: {value} is above the limit of {max}")))
    } else {
        Ok(value)
    }
}

/// Text owned by a handle and lent to C: NUL-terminated, with its length (it may hold NULs).
pub(crate) struct CText(Box<[u8]>);

impl CText {
    pub(crate) fn new(text: &str) -> CText {
        let mut bytes = Vec::with_capacity(text.len() + 1);
        bytes.extend_from_slice(text.as_bytes());
        bytes.push(0);
        CText(bytes.into_boxed_slice())
    }
    pub(crate) fn ptr(&self) -> *const c_char {
        self.0.as_ptr().cast()
    }
    pub(crate) fn len(&self) -> usize {
        self.0.len() - 1
    }
    pub(crate) fn as_str(&self) -> &str {
        // Built from a &str in `new`.
        unsafe { std::str::from_utf8_unchecked(&self.0[..self.len()]) }
    }
}

/// Gives an owned string to C (freed with `codex_string_free`).
pub(crate) fn owned_c_string(text: &str) -> *mut c_char {
    let bytes: Vec<u8> = text.bytes().filter(|b| *b != 0).collect();
    std::ffi::CString::new(bytes).expect("NULs removed").into_raw()
}

/// Frees a string this library returned through an out-parameter (`char **..._out`).
/// NULL is ignored. Never pass it to libc `free`.
///
/// - **Threads:** any thread; exclusive on `s`.
/// - **Ownership:** releases `s`, a string this library handed out through an out-parameter.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `s` must be NULL or a string returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_string_free(s: *mut c_char) {
    guard_value((), || {
        if !s.is_null() {
            drop(std::ffi::CString::from_raw(s));
        }
    })
}

/// The name of a result code, e.g. `"CODEX_ERR_TIMEOUT"`; `"CODEX_UNKNOWN"` for other values.
/// The string is static.
///
/// - **Threads:** any thread.
/// - **Ownership:** a static string: never free it.
/// - **Errors:** none; `"CODEX_UNKNOWN"` for a value that is no result code.
#[no_mangle]
pub extern "C" fn codex_result_name(code: codex_result) -> *const c_char {
    let name: &'static [u8] = match code {
        CODEX_OK => b"CODEX_OK\0",
        CODEX_ERR_INVALID_ARGUMENT => b"CODEX_ERR_INVALID_ARGUMENT\0",
        CODEX_ERR_SPAWN => b"CODEX_ERR_SPAWN\0",
        CODEX_ERR_TIMEOUT => b"CODEX_ERR_TIMEOUT\0",
        CODEX_ERR_RPC => b"CODEX_ERR_RPC\0",
        CODEX_ERR_OVERLOADED => b"CODEX_ERR_OVERLOADED\0",
        CODEX_ERR_TRANSPORT => b"CODEX_ERR_TRANSPORT\0",
        CODEX_ERR_CLOSED => b"CODEX_ERR_CLOSED\0",
        CODEX_ERR_TURN_ACTIVE => b"CODEX_ERR_TURN_ACTIVE\0",
        CODEX_STREAM_END => b"CODEX_STREAM_END\0",
        CODEX_ERR_PROTOCOL => b"CODEX_ERR_PROTOCOL\0",
        CODEX_ERR_INTERNAL => b"CODEX_ERR_INTERNAL\0",
        CODEX_ERR_STALE_REQUEST => b"CODEX_ERR_STALE_REQUEST\0",
        CODEX_ERR_OVERFLOW => b"CODEX_ERR_OVERFLOW\0",
        CODEX_ERR_AUTH => b"CODEX_ERR_AUTH\0",
        CODEX_ERR_NOT_FOUND => b"CODEX_ERR_NOT_FOUND\0",
        CODEX_ERR_WRONG_TYPE => b"CODEX_ERR_WRONG_TYPE\0",
        CODEX_ERR_TOO_MANY_PENDING => b"CODEX_ERR_TOO_MANY_PENDING\0",
        _ => b"CODEX_UNKNOWN\0",
    };
    name.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_result_code_has_its_name() {
        for code in 0..=17 {
            let name = unsafe { CStr::from_ptr(codex_result_name(code)) }.to_str().unwrap();
            assert!(name.starts_with("CODEX_") && name != "CODEX_UNKNOWN", "{code}: {name}");
        }
        let unknown = unsafe { CStr::from_ptr(codex_result_name(99)) };
        assert_eq!(unknown.to_str().unwrap(), "CODEX_UNKNOWN");
    }
}
