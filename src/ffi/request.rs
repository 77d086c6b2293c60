//! `codex_request`: a server→client request (approval, question, tool call) for the program
//! to answer.

use super::error::codex_error;
use super::event::codex_event;
use super::{
    c_str, codex_result, guard_result, guard_value, handle, into_handle, invalid, out_ptr, CText,
    Handle,
};
use crate::core::protocol::document::{Document, LazyDocument};
use crate::core::protocol::params::check_json;
use crate::core::routing::requests::{approval_answer, Answer, Decision, ServerRequest};
use crate::core::Error;
use std::ffi::c_char;
use std::sync::Arc;

/// Accept the command, file change, permissions or elicitation, this once.
pub const CODEX_DECISION_ACCEPT: u32 = 1;
/// Accept, and the same for the rest of the session.
pub const CODEX_DECISION_ACCEPT_FOR_SESSION: u32 = 2;
/// Decline: the turn goes on without it.
pub const CODEX_DECISION_DECLINE: u32 = 3;
/// Decline and interrupt the turn.
pub const CODEX_DECISION_CANCEL: u32 = 4;

/// A request from the server that waits for the program's answer. Taken from a
/// `CODEX_EVENT_SERVER_REQUEST` event with `codex_event_request`; owned by the caller and freed
/// with `codex_request_free` (freeing does not answer). May be used from any thread; it stays
/// valid after its event and turn are freed. Answer it once with `codex_request_approve`
/// (approvals), the typed answer of its kind (`codex_request_respond_tool_call`,
/// `_tool_text`, `_user_input`, `_elicitation`, `_auth_tokens`), or `codex_request_respond` /
/// `codex_request_respond_error` (any kind, raw). Requests nobody answers are answered
/// fail-closed: approvals and elicitations declined, a dynamic tool call failed
/// (`success: false`), other requests — unknown future kinds included — a JSON-RPC error — when the answer
/// timeout passes (`codex_options_set_server_request_timeout_ms`), when their turn handle is
/// freed, or when the client closes.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_request {
    magic: u64,
    request: Arc<ServerRequest>,
    id: CText,
    method: CText,
    params: CText,
    thread_id: Option<CText>,
    turn_id: Option<CText>,
    /// `params` read by JSON Pointer (`codex_request_json`), made on first use.
    params_doc: LazyDocument,
}

handle_type!(codex_request, 0x636f_6465_7872_6571);

/// The request's params as a document (lent until the handle is freed).
pub(crate) unsafe fn params_document<'a>(req: *const codex_request) -> Result<&'a Document, Error> {
    let req = handle(req, "req")?;
    // The params text is the handle's own, as long-lived as the document.
    Ok(req.params_doc.get(&req.request.params))
}

pub(crate) unsafe fn request_ref<'a>(
    req: *const codex_request,
) -> Result<&'a Arc<ServerRequest>, Error> {
    handle(req, "req").map(|r| &r.request)
}

/// Writes a new handle on the server request behind `ev` to `*req_out` (free with
/// `codex_request_free`). `CODEX_ERR_INVALID_ARGUMENT` when `ev` is not a
/// `CODEX_EVENT_SERVER_REQUEST` event, or the request was already answered fail-closed on arrival
/// (server request timeout 0). Works inside a callback too: the handle outlives the event.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs. Also inside a callback.
/// - **Ownership:** the handle written to `*req_out` is the caller's, independent of `ev`: free it
///   with `codex_request_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL arguments, not a `CODEX_EVENT_SERVER_REQUEST`
///   event, or a request answered fail-closed on arrival).
///
/// # Safety
/// `ev` a live event; `req_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_event_request(
    ev: *const codex_event,
    req_out: *mut *mut codex_request,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let event = super::event::event_view(ev)?;
        out_ptr(req_out, "req_out")?;
        let Some(request) = event.request() else {
            return Err(invalid(format!(
                "ev: a {} event carries no request to answer",
                event.method()
            )));
        };
        *req_out = into_handle(codex_request {
            magic: codex_request::MAGIC,
            id: CText::new(&request.id),
            method: CText::new(&request.method),
            params: CText::new(&request.params),
            thread_id: request.thread_id.as_deref().map(CText::new),
            turn_id: request.turn_id.as_deref().map(CText::new),
            params_doc: LazyDocument::default(),
            request: request.clone(),
        });
        Ok(())
    })
}

unsafe fn text_of(
    req: *const codex_request,
    field: impl FnOnce(&codex_request) -> Option<&CText>,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        handle(req, "req").ok().and_then(field).map_or(std::ptr::null(), CText::ptr)
    })
}

/// The request's method, e.g. `"item/commandExecution/requestApproval"`. Borrowed until the
/// handle is freed.
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** borrowed: valid until `req` is freed; do not free it.
/// - **Errors:** none: NULL when `req` is NULL or not a live handle.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_method(req: *const codex_request) -> *const c_char {
    text_of(req, |r| Some(&r.method))
}

/// The request's params as raw JSON (for approvals: `command`, `cwd`, `reason`, ...).
/// Borrowed until the handle is freed.
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** borrowed: valid until `req` is freed; do not free it.
/// - **Errors:** none: NULL when `req` is NULL or not a live handle.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_params(req: *const codex_request) -> *const c_char {
    text_of(req, |r| Some(&r.params))
}

/// The JSON-RPC id of the request, as JSON text. Borrowed until the handle is freed.
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** borrowed: valid until `req` is freed; do not free it.
/// - **Errors:** none: NULL when `req` is NULL or not a live handle.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_id(req: *const codex_request) -> *const c_char {
    text_of(req, |r| Some(&r.id))
}

/// The thread id the request belongs to, or NULL.
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** borrowed: valid until `req` is freed; do not free it.
/// - **Errors:** none: NULL when the request has none, or `req` is NULL or not a live handle.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_thread_id(req: *const codex_request) -> *const c_char {
    text_of(req, |r| r.thread_id.as_ref())
}

/// The turn id the request belongs to, or NULL.
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** borrowed: valid until `req` is freed; do not free it.
/// - **Errors:** none: NULL when the request has none, or `req` is NULL or not a live handle.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_turn_id(req: *const codex_request) -> *const c_char {
    text_of(req, |r| r.turn_id.as_ref())
}

/// Whether the request still waits for an answer. False for an invalid handle.
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** nothing to free.
/// - **Errors:** none: false for a NULL or dead handle.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_is_open(req: *const codex_request) -> bool {
    guard_value(false, || request_ref(req).is_ok_and(|r| r.is_open()))
}

/// Answers an approval request (`item/commandExecution/requestApproval`,
/// `item/fileChange/requestApproval`, `item/permissions/requestApproval` — accept grants the
/// permissions asked for —, `mcpServer/elicitation/request`, and the legacy
/// `execCommandApproval` / `applyPatchApproval`) with one of the `CODEX_DECISION_*` values.
/// Errors: `CODEX_ERR_INVALID_ARGUMENT` for another method or an unknown decision, and for
/// `CODEX_DECISION_ACCEPT_FOR_SESSION` on a command approval of kind `humanCommand` (its
/// params' `"kind"`; codex 0.171 with `codex_options_set_required_human_approval`), for which
/// only accept, decline and cancel are valid; `CODEX_ERR_STALE_REQUEST` when the request is no
/// longer open. Thread-safe.
///
/// - **Threads:** any thread; the first answer wins, later ones get `CODEX_ERR_STALE_REQUEST`.
/// - **Ownership:** frees nothing: free the handle with `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, a method that is no approval, an
///   unknown decision, accept-for-session on a `humanCommand` approval),
///   `CODEX_ERR_STALE_REQUEST` (no longer open), `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_approve(
    req: *const codex_request,
    decision: u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let request = request_ref(req)?;
        let decision = match decision {
            CODEX_DECISION_ACCEPT => Decision::Accept,
            CODEX_DECISION_ACCEPT_FOR_SESSION => Decision::AcceptForSession,
            CODEX_DECISION_DECLINE => Decision::Decline,
            CODEX_DECISION_CANCEL => Decision::Cancel,
            other => {
                return Err(invalid(format!("decision: {other} is not a CODEX_DECISION_* value")))
            }
        };
        let result = approval_answer(&request.method, &request.params, decision)?;
        request.answer(Answer::Result(result))
    })
}

/// Answers the request with `result_json` (a JSON value, for example
/// `{"answers": {...}}` for `item/tool/requestUserInput`). Errors: `CODEX_ERR_INVALID_ARGUMENT`
/// for invalid JSON, `CODEX_ERR_STALE_REQUEST`. Thread-safe.
///
/// - **Threads:** any thread; the first answer wins.
/// - **Ownership:** `result_json` is copied; free the handle with `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, `result_json` not JSON),
///   `CODEX_ERR_STALE_REQUEST`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `result_json` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_respond(
    req: *const codex_request,
    result_json: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let request = request_ref(req)?;
        let json = c_str(result_json, "result_json")?;
        check_json(json, "result_json")?;
        request.answer(Answer::Result(json.trim().to_owned()))
    })
}

/// Answers the request with a JSON-RPC error (`code`, `message`). The server treats this as a
/// failure (a command item ends `failed`). Errors: `CODEX_ERR_INVALID_ARGUMENT`,
/// `CODEX_ERR_STALE_REQUEST`. Thread-safe.
///
/// - **Threads:** any thread; the first answer wins.
/// - **Ownership:** `message` is copied; free the handle with `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, a NULL or non-UTF-8 `message`),
///   `CODEX_ERR_STALE_REQUEST`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `message` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_respond_error(
    req: *const codex_request,
    code: i64,
    message: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let request = request_ref(req)?;
        let message = c_str(message, "message")?.to_owned();
        request.answer(Answer::Error { code, message })
    })
}

/// Frees a request handle (without answering it). NULL is ignored.
///
/// - **Threads:** exclusive on `req`.
/// - **Ownership:** releases the handle, not the request: an open request stays open (answered
///   fail-closed if nobody answers).
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `req` must be NULL or a request handle not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_request_free(req: *mut codex_request) {
    guard_value((), || super::free_handle(req))
}
