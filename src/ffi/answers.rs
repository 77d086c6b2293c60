//! Typed answers to `codex_request`s that are no approval: dynamic tool calls, user-input
//! questions, MCP elicitations, auth-token refreshes (`protocol::server_requests` builds them).
//! Apart from `request.rs` so that the answer kinds, which grow with the protocol, have a room
//! of their own.

use super::error::codex_error;
use super::request::{codex_request, request_ref};
use super::{c_str, codex_result, guard_result, invalid, opt_c_str};
use crate::core::protocol::server_requests::{
    auth_tokens_answer, elicitation_answer, tool_call_answer, tool_call_text_answer,
    user_input_answer, ElicitationAction,
};
use crate::core::routing::requests::Answer;
use crate::core::Error;
use std::ffi::c_char;

/// Accept an MCP elicitation, with the form's content.
pub const CODEX_ELICITATION_ACCEPT: u32 = 1;
/// Decline it: the MCP server's tool goes on without the input.
pub const CODEX_ELICITATION_DECLINE: u32 = 2;
/// Cancel it.
pub const CODEX_ELICITATION_CANCEL: u32 = 3;

unsafe fn answer_with(
    req: *const codex_request,
    build: impl FnOnce(&str) -> Result<String, Error>,
) -> Result<(), Error> {
    let request = request_ref(req)?;
    let result = build(&request.method)?;
    request.answer(Answer::Result(result))
}

/// Answers a dynamic tool call (`item/tool/call`: a tool the program declared in
/// `thread/start`'s `dynamicTools`, called by the model; the request's params hold `tool`,
/// `arguments`, `callId`). `content_items_json` is a JSON array of
/// `{"type":"inputText","text":"..."}` and `{"type":"inputImage","imageUrl":"..."}` items, the
/// tool's output the model reads; `success` false tells the model the call failed.
///
/// - **Threads:** any thread; the first answer wins, later ones get `CODEX_ERR_STALE_REQUEST`.
/// - **Ownership:** `content_items_json` is only read during the call; free the handle with
///   `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, a request that is no
///   `item/tool/call`, `content_items_json` NULL, not JSON, not an array of such items),
///   `CODEX_ERR_STALE_REQUEST` (no longer open), `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `content_items_json` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_respond_tool_call(
    req: *const codex_request,
    content_items_json: *const c_char,
    success: bool,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let items = c_str(content_items_json, "content_items_json")?;
        answer_with(req, |method| tool_call_answer(method, items, success))
    })
}

/// Answers a dynamic tool call with one text item: `codex_request_respond_tool_call` with
/// `[{"type":"inputText","text": text}]`.
///
/// - **Threads:** any thread; the first answer wins, later ones get `CODEX_ERR_STALE_REQUEST`.
/// - **Ownership:** `text` is only read during the call; free the handle with
///   `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, a request that is no
///   `item/tool/call`, `text` NULL or not UTF-8), `CODEX_ERR_STALE_REQUEST`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `text` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_respond_tool_text(
    req: *const codex_request,
    text: *const c_char,
    success: bool,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let text = c_str(text, "text")?;
        answer_with(req, |method| tool_call_text_answer(method, text, success))
    })
}

/// Answers `item/tool/requestUserInput` (questions the model asks the user; each of the
/// params' `questions` has an `id`, a `question`, maybe `options`). `answers_json` maps each
/// question id to its answers, an array of strings: `{"q1": ["yes"], "q2": ["a", "b"]}` (the
/// protocol's `{"q1": {"answers": ["yes"]}}` is taken too).
///
/// - **Threads:** any thread; the first answer wins, later ones get `CODEX_ERR_STALE_REQUEST`.
/// - **Ownership:** `answers_json` is only read during the call; free the handle with
///   `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, a request that is no
///   `item/tool/requestUserInput`, `answers_json` NULL, not JSON, not an object of string
///   arrays), `CODEX_ERR_STALE_REQUEST`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `answers_json` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_respond_user_input(
    req: *const codex_request,
    answers_json: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let answers = c_str(answers_json, "answers_json")?;
        answer_with(req, |method| user_input_answer(method, answers))
    })
}

/// Answers an MCP elicitation (`mcpServer/elicitation/request`: an MCP server asks the user
/// for input; the params hold its `message` and, for a form, the `requestedSchema`). `action`
/// is a `CODEX_ELICITATION_*` value; `content_json` is the form's values as a JSON object, only
/// with `CODEX_ELICITATION_ACCEPT` (NULL there: `{}`), NULL otherwise.
///
/// - **Threads:** any thread; the first answer wins, later ones get `CODEX_ERR_STALE_REQUEST`.
/// - **Ownership:** `content_json` is only read during the call; free the handle with
///   `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, a request that is no
///   elicitation, an unknown `action`, `content_json` not a JSON object, or given with decline or
///   cancel), `CODEX_ERR_STALE_REQUEST`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `content_json` NULL or a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_respond_elicitation(
    req: *const codex_request,
    action: u32,
    content_json: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let action = match action {
            CODEX_ELICITATION_ACCEPT => ElicitationAction::Accept,
            CODEX_ELICITATION_DECLINE => ElicitationAction::Decline,
            CODEX_ELICITATION_CANCEL => ElicitationAction::Cancel,
            other => {
                return Err(invalid(format!("action: {other} is not a CODEX_ELICITATION_* value")))
            }
        };
        let content = opt_c_str(content_json, "content_json")?;
        answer_with(req, |method| elicitation_answer(method, action, content))
    })
}

/// Answers `account/chatgptAuthTokens/refresh`: a program that supplies the ChatGPT tokens
/// itself (logged in with them) gives fresh ones when codex got `401 Unauthorized`. The
/// params hold `reason` and `previousAccountId`. `chatgpt_plan_type` may be NULL.
///
/// - **Threads:** any thread; the first answer wins, later ones get `CODEX_ERR_STALE_REQUEST`.
/// - **Ownership:** the strings are only read during the call; free the handle with
///   `codex_request_free` when done.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `req`, a request that is no token
///   refresh, NULL, empty or non-UTF-8 `access_token` or `chatgpt_account_id`, non-UTF-8
///   `chatgpt_plan_type`), `CODEX_ERR_STALE_REQUEST`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `req` a live request; `access_token` and `chatgpt_account_id` strings; `chatgpt_plan_type`
/// NULL or a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_request_respond_auth_tokens(
    req: *const codex_request,
    access_token: *const c_char,
    chatgpt_account_id: *const c_char,
    chatgpt_plan_type: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let token = c_str(access_token, "access_token")?;
        let account = c_str(chatgpt_account_id, "chatgpt_account_id")?;
        let plan = opt_c_str(chatgpt_plan_type, "chatgpt_plan_type")?;
        answer_with(req, |method| auth_tokens_answer(method, token, account, plan))
    })
}
