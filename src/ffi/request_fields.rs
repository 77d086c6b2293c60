//! Typed reads of a server request: which kind it is, and an approval's command, cwd, reason
//! and item id.

use super::error::codex_error;
use super::items::lend_into;
use super::json::{codex_json, json_handle};
use super::request::{codex_request, codex_request_method, params_document};
use super::{codex_result, guard_value};
use crate::core::protocol::items;
use crate::core::protocol::kinds::RequestKind;
use std::ffi::{c_char, CStr};

/// A request method this library does not know (a newer codex's; see `codex_request_method`).
pub const CODEX_REQUEST_KIND_UNKNOWN: u32 = 0;
/// `item/commandExecution/requestApproval`: run this command? (`codex_request_command`,
/// `codex_request_cwd`, `codex_request_reason`).
pub const CODEX_REQUEST_KIND_COMMAND_APPROVAL: u32 = 1;
/// `item/fileChange/requestApproval`: apply this change? (the paths are in the `fileChange`
/// item of the same `codex_request_item_id`, from its `item/started` event).
pub const CODEX_REQUEST_KIND_FILE_CHANGE_APPROVAL: u32 = 2;
/// `item/permissions/requestApproval`: grant these permissions?
pub const CODEX_REQUEST_KIND_PERMISSIONS_APPROVAL: u32 = 3;
/// `item/tool/requestUserInput`: questions for the user.
pub const CODEX_REQUEST_KIND_USER_INPUT: u32 = 4;
/// `mcpServer/elicitation/request`: an MCP server asks the user.
pub const CODEX_REQUEST_KIND_MCP_ELICITATION: u32 = 5;
/// `item/tool/call`: a dynamic tool call for the program to run.
pub const CODEX_REQUEST_KIND_DYNAMIC_TOOL_CALL: u32 = 6;
/// `account/chatgptAuthTokens/refresh`.
pub const CODEX_REQUEST_KIND_AUTH_TOKENS_REFRESH: u32 = 7;
/// `attestation/generate`.
pub const CODEX_REQUEST_KIND_ATTESTATION: u32 = 8;
/// `applyPatchApproval` (the older protocol).
pub const CODEX_REQUEST_KIND_LEGACY_PATCH_APPROVAL: u32 = 9;
/// `execCommandApproval` (the older protocol).
pub const CODEX_REQUEST_KIND_LEGACY_EXEC_APPROVAL: u32 = 10;

/// The request's kind, from its method: a `CODEX_REQUEST_KIND_*`.
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: `CODEX_REQUEST_KIND_UNKNOWN` for a method a newer codex added, or when
///   `req` is NULL or not a live request.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_kind(req: *const codex_request) -> u32 {
    guard_value(CODEX_REQUEST_KIND_UNKNOWN, || {
        let method = codex_request_method(req);
        if method.is_null() {
            return CODEX_REQUEST_KIND_UNKNOWN;
        }
        RequestKind::of(CStr::from_ptr(method).to_str().unwrap_or("")) as u32
    })
}

/// The request's params as a document, or NULL: `codex_request_json` under the name the
/// readers below use.
unsafe fn params(req: *const codex_request) -> *const codex_json {
    params_document(req).map_or(std::ptr::null(), json_handle)
}

/// Lends the string at `pointer` of the request's params.
unsafe fn lend_param(
    req: *const codex_request,
    pointer: &'static str,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    if let Err(e) = params_document(req) {
        return super::guard_result(err_out, || Err(e));
    }
    lend_into(params(req), "req", value_out, len_out, err_out, |d| items::text(d, pointer))
}

/// The command an approval asks to run (`command`, as one shell string).
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** the string written to `*value_out` (its length to `*len_out` when not NULL)
///   is borrowed from `req`: valid until it is freed; do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (absent or null: not a command approval),
///   `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, NULL `value_out`).
///
/// # Safety
/// `req` a live request; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_command(
    req: *const codex_request,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_param(req, "/command", value_out, len_out, err_out)
}

/// The directory an approval's command would run in, or a permissions request's (`cwd`).
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** as for `codex_request_command`.
/// - **Errors:** as for `codex_request_command`.
///
/// # Safety
/// As for `codex_request_command`.
#[no_mangle]
pub unsafe extern "C" fn codex_request_cwd(
    req: *const codex_request,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_param(req, "/cwd", value_out, len_out, err_out)
}

/// Why the agent asks (`reason`; optional in every approval).
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** as for `codex_request_command`.
/// - **Errors:** as for `codex_request_command`.
///
/// # Safety
/// As for `codex_request_command`.
#[no_mangle]
pub unsafe extern "C" fn codex_request_reason(
    req: *const codex_request,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_param(req, "/reason", value_out, len_out, err_out)
}

/// The id of the item an approval is about (`itemId`): the `commandExecution` or `fileChange`
/// item whose `item/started` event came before (a file change's paths are in it).
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** as for `codex_request_command`.
/// - **Errors:** as for `codex_request_command`.
///
/// # Safety
/// As for `codex_request_command`.
#[no_mangle]
pub unsafe extern "C" fn codex_request_item_id(
    req: *const codex_request,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_param(req, "/itemId", value_out, len_out, err_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_kinds_match_the_core() {
        let c = [
            CODEX_REQUEST_KIND_COMMAND_APPROVAL,
            CODEX_REQUEST_KIND_FILE_CHANGE_APPROVAL,
            CODEX_REQUEST_KIND_PERMISSIONS_APPROVAL,
            CODEX_REQUEST_KIND_USER_INPUT,
            CODEX_REQUEST_KIND_MCP_ELICITATION,
            CODEX_REQUEST_KIND_DYNAMIC_TOOL_CALL,
            CODEX_REQUEST_KIND_AUTH_TOKENS_REFRESH,
            CODEX_REQUEST_KIND_ATTESTATION,
            CODEX_REQUEST_KIND_LEGACY_PATCH_APPROVAL,
            CODEX_REQUEST_KIND_LEGACY_EXEC_APPROVAL,
        ];
        let core: Vec<u32> = RequestKind::WIRE.iter().map(|(_, k)| *k as u32).collect();
        assert_eq!(c.to_vec(), core);
        assert_eq!(unsafe { codex_request_kind(std::ptr::null()) }, CODEX_REQUEST_KIND_UNKNOWN);
    }
}
