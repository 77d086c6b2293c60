//! Why a turn failed (`codex_failure_*` over a `codex_json` of a `TurnError`): its message,
//! its kind from `codexErrorInfo`, and the upstream HTTP status when there is one.

use super::error::codex_error;
use super::items::{lend_into, read_into};
use super::json::{codex_json, json_handle};
use super::turn::{codex_turn_result, result_error_document};
use super::{codex_result, guard_value};
use crate::core::protocol::items;
use std::ffi::c_char;

/// No `codexErrorInfo` kind this library knows (a newer codex's; its name is in the document).
pub const CODEX_FAILURE_UNKNOWN: u32 = 0;
/// `contextWindowExceeded`: the conversation no longer fits the model's context.
pub const CODEX_FAILURE_CONTEXT_WINDOW_EXCEEDED: u32 = 1;
/// `sessionBudgetExceeded`.
pub const CODEX_FAILURE_SESSION_BUDGET_EXCEEDED: u32 = 2;
/// `usageLimitExceeded`: the account's usage limit.
pub const CODEX_FAILURE_USAGE_LIMIT_EXCEEDED: u32 = 3;
/// `rateLimitExceeded`.
pub const CODEX_FAILURE_RATE_LIMIT_EXCEEDED: u32 = 4;
/// `flexUnavailable`.
pub const CODEX_FAILURE_FLEX_UNAVAILABLE: u32 = 5;
/// `serverOverloaded`.
pub const CODEX_FAILURE_SERVER_OVERLOADED: u32 = 6;
/// `modelNotFound` (codex 0.171.0 and later).
pub const CODEX_FAILURE_MODEL_NOT_FOUND: u32 = 7;
/// `policyCapacityUnavailable` (codex 0.171.0 and later).
pub const CODEX_FAILURE_POLICY_CAPACITY_UNAVAILABLE: u32 = 8;
/// `cyberPolicy`.
pub const CODEX_FAILURE_CYBER_POLICY: u32 = 9;
/// `bioPolicy` (codex 0.171.0 and later).
pub const CODEX_FAILURE_BIO_POLICY: u32 = 10;
/// `misalignmentPolicyViolation`.
pub const CODEX_FAILURE_MISALIGNMENT_POLICY_VIOLATION: u32 = 11;
/// `tooManyDenials`.
pub const CODEX_FAILURE_TOO_MANY_DENIALS: u32 = 12;
/// `internalServerError`.
pub const CODEX_FAILURE_INTERNAL_SERVER_ERROR: u32 = 13;
/// `unauthorized`.
pub const CODEX_FAILURE_UNAUTHORIZED: u32 = 14;
/// `badRequest`.
pub const CODEX_FAILURE_BAD_REQUEST: u32 = 15;
/// `threadRollbackFailed`.
pub const CODEX_FAILURE_THREAD_ROLLBACK_FAILED: u32 = 16;
/// `sandboxError`.
pub const CODEX_FAILURE_SANDBOX_ERROR: u32 = 17;
/// `other`.
pub const CODEX_FAILURE_OTHER: u32 = 18;
/// `inferenceHookDenied` (codex 0.171.0 and later).
pub const CODEX_FAILURE_INFERENCE_HOOK_DENIED: u32 = 19;
/// `httpConnectionFailed` (may carry an HTTP status).
pub const CODEX_FAILURE_HTTP_CONNECTION_FAILED: u32 = 20;
/// `responseStreamConnectionFailed` (may carry an HTTP status).
pub const CODEX_FAILURE_RESPONSE_STREAM_CONNECTION_FAILED: u32 = 21;
/// `responseStreamDisconnected` (may carry an HTTP status).
pub const CODEX_FAILURE_RESPONSE_STREAM_DISCONNECTED: u32 = 22;
/// `responseTooManyFailedAttempts` (may carry an HTTP status).
pub const CODEX_FAILURE_RESPONSE_TOO_MANY_FAILED_ATTEMPTS: u32 = 23;
/// `activeTurnNotSteerable`.
pub const CODEX_FAILURE_ACTIVE_TURN_NOT_STEERABLE: u32 = 24;

/// Why the turn failed, as a document for the `codex_failure_*` readers (`turn.error` of
/// `turn/completed`, else the last `error` notification's `error`); NULL when the turn did not
/// fail. The same readers take the `codex_event_json` of a `CODEX_EVENT_ERROR` or
/// `CODEX_EVENT_TURN_COMPLETED` event.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; never free it.
/// - **Errors:** none: NULL when there was no failure, or `result` is NULL or not a live result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_error(
    result: *const codex_turn_result,
) -> *const codex_json {
    guard_value(std::ptr::null(), || match result_error_document(result) {
        Ok(Some(doc)) => json_handle(doc),
        _ => std::ptr::null(),
    })
}

/// The failure's kind from `codexErrorInfo`: a `CODEX_FAILURE_*`, `CODEX_FAILURE_UNKNOWN` for a
/// kind a newer codex added. `CODEX_ERR_NOT_FOUND` when codex gave no kind.
///
/// - **Threads:** any thread, while the failure's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or
///   dead `failure`, NULL `kind_out`).
///
/// # Safety
/// `failure` a live document; `kind_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_failure_kind(
    failure: *const codex_json,
    kind_out: *mut u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(failure, "failure", kind_out, "kind_out", err_out, |d| {
        items::failure_kind(d).map(|k| k as u32)
    })
}

/// The upstream HTTP status of the failure (`httpStatusCode` of the connection and stream
/// kinds), when codex gave one.
///
/// - **Threads:** any thread, while the failure's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (no kind, or a kind without a status),
///   `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `failure`, NULL
///   `status_out`).
///
/// # Safety
/// `failure` a live document; `status_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_failure_http_status(
    failure: *const codex_json,
    status_out: *mut i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(failure, "failure", status_out, "status_out", err_out, items::failure_http_status)
}

/// The failure's message.
///
/// - **Threads:** any thread, while the failure's document lives.
/// - **Ownership:** the string written to `*value_out` (its length to `*len_out` when not NULL)
///   is borrowed from the failure's document; do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or
///   dead `failure`, NULL `value_out`).
///
/// # Safety
/// `failure` a live document; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_failure_message(
    failure: *const codex_json,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(failure, "failure", value_out, len_out, err_out, items::failure_message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::kinds::FailureKind;

    #[test]
    fn c_kinds_match_the_core() {
        let c = [
            CODEX_FAILURE_CONTEXT_WINDOW_EXCEEDED,
            CODEX_FAILURE_SESSION_BUDGET_EXCEEDED,
            CODEX_FAILURE_USAGE_LIMIT_EXCEEDED,
            CODEX_FAILURE_RATE_LIMIT_EXCEEDED,
            CODEX_FAILURE_FLEX_UNAVAILABLE,
            CODEX_FAILURE_SERVER_OVERLOADED,
            CODEX_FAILURE_MODEL_NOT_FOUND,
            CODEX_FAILURE_POLICY_CAPACITY_UNAVAILABLE,
            CODEX_FAILURE_CYBER_POLICY,
            CODEX_FAILURE_BIO_POLICY,
            CODEX_FAILURE_MISALIGNMENT_POLICY_VIOLATION,
            CODEX_FAILURE_TOO_MANY_DENIALS,
            CODEX_FAILURE_INTERNAL_SERVER_ERROR,
            CODEX_FAILURE_UNAUTHORIZED,
            CODEX_FAILURE_BAD_REQUEST,
            CODEX_FAILURE_THREAD_ROLLBACK_FAILED,
            CODEX_FAILURE_SANDBOX_ERROR,
            CODEX_FAILURE_OTHER,
            CODEX_FAILURE_INFERENCE_HOOK_DENIED,
            CODEX_FAILURE_HTTP_CONNECTION_FAILED,
            CODEX_FAILURE_RESPONSE_STREAM_CONNECTION_FAILED,
            CODEX_FAILURE_RESPONSE_STREAM_DISCONNECTED,
            CODEX_FAILURE_RESPONSE_TOO_MANY_FAILED_ATTEMPTS,
            CODEX_FAILURE_ACTIVE_TURN_NOT_STEERABLE,
        ];
        let core: Vec<u32> = FailureKind::WIRE.iter().map(|(_, k)| *k as u32).collect();
        assert_eq!(c.to_vec(), core);
        assert_eq!(CODEX_FAILURE_UNKNOWN, FailureKind::Unknown as u32);
    }
}
