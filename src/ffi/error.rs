//! `codex_error`: the detail of a failed call.

use super::{code_of, codex_result, guard_value, CText};
use crate::core::Error;
use std::ffi::c_char;

/// The detail of a failed call: its code, a message, and for JSON-RPC errors the server's
/// code and `data`. Returned through the optional `codex_error **err_out` argument of every
/// fallible function, which is written only when the call fails (initialize it to NULL).
/// Owned by the caller: free it with `codex_error_free`. Immutable, so it may be read from
/// any thread.
pub struct codex_error {
    code: codex_result,
    message: CText,
    rpc_code: Option<i64>,
    data: Option<CText>,
}

impl From<Error> for codex_error {
    fn from(e: Error) -> codex_error {
        codex_error {
            code: code_of(e.kind),
            message: CText::new(&e.message),
            rpc_code: e.rpc_code,
            data: e.rpc_data.as_deref().map(CText::new),
        }
    }
}

/// The result code of the failed call. `CODEX_ERR_INVALID_ARGUMENT` when `err` is NULL.
///
/// - **Threads:** any thread, while no `*_free` of `err` runs.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: `CODEX_ERR_INVALID_ARGUMENT` when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_error_code(err: *const codex_error) -> codex_result {
    guard_value(super::CODEX_ERR_INVALID_ARGUMENT, || {
        err.as_ref().map_or(super::CODEX_ERR_INVALID_ARGUMENT, |e| e.code)
    })
}

/// A human-readable message (UTF-8, NUL-terminated). Borrowed: valid until `err` is freed.
/// For `CODEX_ERR_TRANSPORT` it holds the exit status and the last lines of the server's
/// stderr. NULL when `err` is NULL.
///
/// - **Threads:** any thread, while no `*_free` of `err` runs.
/// - **Ownership:** borrowed: valid until `err` is freed; do not free it.
/// - **Errors:** none: NULL when `err` is NULL.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_error_message(err: *const codex_error) -> *const c_char {
    guard_value(std::ptr::null(), || err.as_ref().map_or(std::ptr::null(), |e| e.message.ptr()))
}

/// The JSON-RPC error code of `CODEX_ERR_RPC` / `CODEX_ERR_OVERLOADED` errors. Returns true
/// and writes `*code_out` when there is one; false (and leaves `*code_out` alone) otherwise.
///
/// - **Threads:** any thread, while no `*_free` of `err` runs.
/// - **Ownership:** writes a number to `*code_out`; nothing to free.
/// - **Errors:** none: false when `err` is NULL or has no JSON-RPC code.
///
/// # Safety
/// `err` must be NULL or a live error; `code_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_error_rpc_code(err: *const codex_error, code_out: *mut i64) -> bool {
    guard_value(false, || match (err.as_ref(), code_out.is_null()) {
        (Some(codex_error { rpc_code: Some(code), .. }), false) => {
            *code_out = *code;
            true
        }
        _ => false,
    })
}

/// The JSON-RPC error's `data` as JSON text, or NULL when the server gave none. Borrowed:
/// valid until `err` is freed.
///
/// - **Threads:** any thread, while no `*_free` of `err` runs.
/// - **Ownership:** borrowed: valid until `err` is freed; do not free it.
/// - **Errors:** none: NULL when `err` is NULL or has no data.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_error_data(err: *const codex_error) -> *const c_char {
    guard_value(std::ptr::null(), || {
        err.as_ref().and_then(|e| e.data.as_ref()).map_or(std::ptr::null(), CText::ptr)
    })
}

/// Frees an error. NULL is ignored.
///
/// - **Threads:** exclusive on `err`.
/// - **Ownership:** releases `err`.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `err` must be NULL or an error returned by this library and not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_error_free(err: *mut codex_error) {
    guard_value((), || {
        if !err.is_null() {
            drop(Box::from_raw(err));
        }
    })
}
