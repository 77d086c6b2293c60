//! Typed reads of a thread item (`codex_item_*` over a `codex_json` of one item): its kind,
//! id, status and times, a command's command, cwd, exit code, output and duration, a file
//! change's changes, an agent message's text, phase and moderation.

use super::error::codex_error;
use super::event::{codex_event, event_view};
use super::json::{codex_json, document, json_handle};
use super::turn::{codex_turn_result, result_documents};
use super::{codex_result, guard_result, guard_value, out_ptr};
use crate::core::protocol::document::Document;
use crate::core::protocol::items::{self, change_pointer};
use crate::core::Error;
use std::ffi::c_char;

/// A kind a newer codex added, unknown to this library (every `codex_item_*` kind-like answer
/// and enum keeps 0 for that).
pub const CODEX_ITEM_KIND_UNKNOWN: u32 = 0;
/// `userMessage`.
pub const CODEX_ITEM_KIND_USER_MESSAGE: u32 = 1;
/// `hookPrompt`.
pub const CODEX_ITEM_KIND_HOOK_PROMPT: u32 = 2;
/// `agentMessage`.
pub const CODEX_ITEM_KIND_AGENT_MESSAGE: u32 = 3;
/// `functionCallOutput`.
pub const CODEX_ITEM_KIND_FUNCTION_CALL_OUTPUT: u32 = 4;
/// `plan`.
pub const CODEX_ITEM_KIND_PLAN: u32 = 5;
/// `reasoning`.
pub const CODEX_ITEM_KIND_REASONING: u32 = 6;
/// `commandExecution`.
pub const CODEX_ITEM_KIND_COMMAND_EXECUTION: u32 = 7;
/// `fileChange`.
pub const CODEX_ITEM_KIND_FILE_CHANGE: u32 = 8;
/// `mcpToolCall`.
pub const CODEX_ITEM_KIND_MCP_TOOL_CALL: u32 = 9;
/// `dynamicToolCall`.
pub const CODEX_ITEM_KIND_DYNAMIC_TOOL_CALL: u32 = 10;
/// `collabAgentToolCall`.
pub const CODEX_ITEM_KIND_COLLAB_AGENT_TOOL_CALL: u32 = 11;
/// `subAgentActivity`.
pub const CODEX_ITEM_KIND_SUB_AGENT_ACTIVITY: u32 = 12;
/// `webSearch`.
pub const CODEX_ITEM_KIND_WEB_SEARCH: u32 = 13;
/// `imageView`.
pub const CODEX_ITEM_KIND_IMAGE_VIEW: u32 = 14;
/// `sleep`.
pub const CODEX_ITEM_KIND_SLEEP: u32 = 15;
/// `imageGeneration`.
pub const CODEX_ITEM_KIND_IMAGE_GENERATION: u32 = 16;
/// `enteredReviewMode`.
pub const CODEX_ITEM_KIND_ENTERED_REVIEW_MODE: u32 = 17;
/// `exitedReviewMode`.
pub const CODEX_ITEM_KIND_EXITED_REVIEW_MODE: u32 = 18;
/// `contextCompaction`.
pub const CODEX_ITEM_KIND_CONTEXT_COMPACTION: u32 = 19;

/// An item status a newer codex added.
pub const CODEX_ITEM_STATUS_UNKNOWN: u32 = 0;
/// `inProgress`.
pub const CODEX_ITEM_STATUS_IN_PROGRESS: u32 = 1;
/// `completed`.
pub const CODEX_ITEM_STATUS_COMPLETED: u32 = 2;
/// `failed`.
pub const CODEX_ITEM_STATUS_FAILED: u32 = 3;
/// The user declined it (an approval answered decline or cancel).
pub const CODEX_ITEM_STATUS_DECLINED: u32 = 4;
/// `interrupted`.
pub const CODEX_ITEM_STATUS_INTERRUPTED: u32 = 5;

/// A message phase a newer codex added.
pub const CODEX_PHASE_UNKNOWN: u32 = 0;
/// Narration while the agent works; more may follow.
pub const CODEX_PHASE_COMMENTARY: u32 = 1;
/// `partial_answer`.
pub const CODEX_PHASE_PARTIAL_ANSWER: u32 = 2;
/// The turn's answer.
pub const CODEX_PHASE_FINAL_ANSWER: u32 = 3;

/// A moderation display a newer codex added.
pub const CODEX_MODERATION_UNKNOWN: u32 = 0;
/// Show the message as streamed.
pub const CODEX_MODERATION_SHOW: u32 = 1;
/// Hide the message already streamed (codex replaces it).
pub const CODEX_MODERATION_HIDE: u32 = 2;
/// Block the message.
pub const CODEX_MODERATION_BLOCK: u32 = 3;

/// A file change kind a newer codex added.
pub const CODEX_CHANGE_UNKNOWN: u32 = 0;
/// `add`.
pub const CODEX_CHANGE_ADD: u32 = 1;
/// `delete`.
pub const CODEX_CHANGE_DELETE: u32 = 2;
/// `update` (also a move).
pub const CODEX_CHANGE_UPDATE: u32 = 3;

/// Reads `json` with `read` and writes the answer to `*out` (only on success).
pub(crate) unsafe fn read_into<T>(
    json: *const codex_json,
    name: &str,
    out: *mut T,
    out_name: &str,
    err_out: *mut *mut codex_error,
    read: impl FnOnce(&Document) -> Result<T, Error>,
) -> codex_result {
    guard_result(err_out, || {
        let doc = document(json).map_err(|e| rename(e, name))?;
        out_ptr(out, out_name)?;
        *out = read(doc)?;
        Ok(())
    })
}

/// Lends the NUL-terminated text `read` finds in `json` (kept by the document): its pointer to
/// `*value_out`, its length without the NUL to `*len_out` when not NULL.
pub(crate) unsafe fn lend_into(
    json: *const codex_json,
    name: &str,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
    read: impl for<'d> FnOnce(&'d Document) -> Result<&'d [u8], Error>,
) -> codex_result {
    read_into(json, name, value_out, "value_out", err_out, |doc| {
        let text = read(doc)?;
        if !len_out.is_null() {
            *len_out = text.len() - 1;
        }
        Ok(text.as_ptr().cast())
    })
}

/// The document check names its argument `json`; these functions name theirs.
fn rename(mut e: Error, name: &str) -> Error {
    if let Some(rest) = e.message.strip_prefix("json:") {
        e.message = format!("{name}:{rest}");
    }
    e
}

/// The item an `item/started` or `item/completed` event carries (`"/item"` of its params), or
/// NULL when the event carries none.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; never free it.
/// - **Errors:** none: NULL when `ev` is NULL, not a live event, or carries no item.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_item(ev: *const codex_event) -> *const codex_json {
    guard_value(std::ptr::null(), || {
        event_view(ev)
            .ok()
            .and_then(|e| e.params_document().sub("/item").ok().map(json_handle))
            .unwrap_or(std::ptr::null())
    })
}

/// The number of completed items of a turn result (read each with `codex_turn_result_item`).
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `result`, NULL `len_out`).
///
/// # Safety
/// `result` a live turn result; `len_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_item_count(
    result: *const codex_turn_result,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let (items, _) = result_documents(result)?;
        out_ptr(len_out, "len_out")?;
        *len_out = items.array_len("")?;
        Ok(())
    })
}

/// The `index`th completed item of a turn result, in order, as a document for the
/// `codex_item_*` readers.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** the item written to `*item_out` is borrowed from `result`: valid until
///   `result` is freed; never free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (`index` past the last item), `CODEX_ERR_INVALID_ARGUMENT`
///   (NULL or dead `result`, NULL `item_out`).
///
/// # Safety
/// `result` a live turn result; `item_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_item(
    result: *const codex_turn_result,
    index: usize,
    item_out: *mut *const codex_json,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let (items, _) = result_documents(result)?;
        out_ptr(item_out, "item_out")?;
        *item_out = json_handle(items.sub(&format!("/{index}"))?);
        Ok(())
    })
}

/// The item's kind (`type`): a `CODEX_ITEM_KIND_*`, `CODEX_ITEM_KIND_UNKNOWN` for a type a
/// newer codex added (its name is at `"/type"`).
///
/// `item` is one item: `codex_event_item`, `codex_turn_result_item`, or any `codex_json` of a
/// `ThreadItem` (`codex_json_get_json(doc, "/item")`). Every `codex_item_*` reader answers
/// `CODEX_ERR_NOT_FOUND` when the field is absent or `null` (a reader of another kind's field,
/// an exit code before the command ended) and `CODEX_ERR_WRONG_TYPE` when it has another type;
/// its out-parameters are then left untouched.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or
///   dead `item`, NULL `kind_out`).
///
/// # Safety
/// `item` a live document; `kind_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_kind(
    item: *const codex_json,
    kind_out: *mut u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", kind_out, "kind_out", err_out, |d| {
        items::item_kind(d).map(|k| k as u32)
    })
}

/// The item's `status`: a `CODEX_ITEM_STATUS_*` (commands, file changes, tool calls; other
/// kinds have none: `CODEX_ERR_NOT_FOUND`).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** as for `codex_item_kind`.
///
/// # Safety
/// `item` a live document; `status_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_status(
    item: *const codex_json,
    status_out: *mut u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", status_out, "status_out", err_out, |d| {
        items::item_status(d).map(|s| s as u32)
    })
}

/// The item's `id`.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** the string written to `*value_out` (NUL-terminated; its length to
///   `*len_out` when not NULL) is borrowed from the item's document: valid until that is freed;
///   do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_id(
    item: *const codex_json,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(item, "item", value_out, len_out, err_out, |d| items::text(d, "/id"))
}

/// When the item started (`startedAtMs`, Unix milliseconds; codex 0.171.0 and later).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_started_at_ms(
    item: *const codex_json,
    value_out: *mut i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", value_out, "value_out", err_out, |d| items::int(d, "/startedAtMs"))
}

/// When the item completed (`completedAtMs`, Unix milliseconds; codex 0.171.0 and later).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_completed_at_ms(
    item: *const codex_json,
    value_out: *mut i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", value_out, "value_out", err_out, |d| items::int(d, "/completedAtMs"))
}

/// A command execution's `command`.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** the string written to `*value_out` (NUL-terminated; its length to
///   `*len_out` when not NULL) is borrowed from the item's document: valid until that is freed;
///   do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_command(
    item: *const codex_json,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(item, "item", value_out, len_out, err_out, |d| items::text(d, "/command"))
}

/// A command execution's working directory (`cwd`).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** the string written to `*value_out` (NUL-terminated; its length to
///   `*len_out` when not NULL) is borrowed from the item's document: valid until that is freed;
///   do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_cwd(
    item: *const codex_json,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(item, "item", value_out, len_out, err_out, |d| items::text(d, "/cwd"))
}

/// A command execution's exit code (`exitCode`; absent until the command ended).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_exit_code(
    item: *const codex_json,
    value_out: *mut i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", value_out, "value_out", err_out, |d| items::int(d, "/exitCode"))
}

/// A command execution's output, stdout and stderr together (`aggregatedOutput`).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** the string written to `*value_out` (NUL-terminated; its length to
///   `*len_out` when not NULL) is borrowed from the item's document: valid until that is freed;
///   do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_output(
    item: *const codex_json,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(item, "item", value_out, len_out, err_out, |d| items::text(d, "/aggregatedOutput"))
}

/// A command execution's duration in milliseconds (`durationMs`).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_duration_ms(
    item: *const codex_json,
    value_out: *mut i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", value_out, "value_out", err_out, |d| items::int(d, "/durationMs"))
}

/// The text of an agent message (also of a plan item).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** the string written to `*value_out` (NUL-terminated; its length to
///   `*len_out` when not NULL) is borrowed from the item's document: valid until that is freed;
///   do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL
///   or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_text(
    item: *const codex_json,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(item, "item", value_out, len_out, err_out, |d| items::text(d, "/text"))
}

/// An agent message's `phase`: a `CODEX_PHASE_*`; `CODEX_ERR_NOT_FOUND` when the model gave
/// none.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** as for `codex_item_kind`.
///
/// # Safety
/// `item` a live document; `phase_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_phase(
    item: *const codex_json,
    phase_out: *mut u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", phase_out, "phase_out", err_out, |d| {
        items::message_phase(d).map(|p| p as u32)
    })
}

/// How to present an agent message codex moderated (`moderation.display.mode`, codex 0.171.0
/// and later): a `CODEX_MODERATION_*`. `CODEX_MODERATION_HIDE` asks the app to hide text it
/// already streamed. `CODEX_ERR_NOT_FOUND` when the message was not moderated.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** as for `codex_item_kind`.
///
/// # Safety
/// `item` a live document; `display_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_moderation(
    item: *const codex_json,
    display_out: *mut u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", display_out, "display_out", err_out, |d| {
        items::moderation_display(d).map(|m| m as u32)
    })
}

/// The number of changes of a file change item (`changes`).
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** as for `codex_item_kind`.
///
/// # Safety
/// `item` a live document; `len_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_change_count(
    item: *const codex_json,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", len_out, "len_out", err_out, |d| d.array_len("/changes"))
}

/// The path of the `index`th change of a file change item.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** the string written to `*value_out` (its length to `*len_out` when not NULL)
///   is borrowed from the item's document; do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (also `index` past the last change), `CODEX_ERR_WRONG_TYPE`,
///   `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `item`, NULL `value_out`).
///
/// # Safety
/// `item` a live document; `value_out` writable; `len_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_change_path(
    item: *const codex_json,
    index: usize,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(item, "item", value_out, len_out, err_out, |d| {
        items::text(d, &change_pointer(index, "path"))
    })
}

/// The unified diff of the `index`th change of a file change item.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** as for `codex_item_change_path`.
/// - **Errors:** as for `codex_item_change_path`.
///
/// # Safety
/// As for `codex_item_change_path`.
#[no_mangle]
pub unsafe extern "C" fn codex_item_change_diff(
    item: *const codex_json,
    index: usize,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_into(item, "item", value_out, len_out, err_out, |d| {
        items::text(d, &change_pointer(index, "diff"))
    })
}

/// The kind of the `index`th change of a file change item: a `CODEX_CHANGE_*`.
///
/// - **Threads:** any thread, while the item's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (also `index` past the last change), `CODEX_ERR_WRONG_TYPE`,
///   `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `item`, NULL `kind_out`).
///
/// # Safety
/// `item` a live document; `kind_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_item_change_kind(
    item: *const codex_json,
    index: usize,
    kind_out: *mut u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(item, "item", kind_out, "kind_out", err_out, |d| {
        items::change_kind(d, index).map(|k| k as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::kinds::{
        ChangeKind, ItemKind, ItemStatus, MessagePhase, ModerationDisplay,
    };

    /// The C numbers are the core's, in the core's order.
    #[test]
    fn c_kinds_match_the_core() {
        let kinds = [
            CODEX_ITEM_KIND_USER_MESSAGE,
            CODEX_ITEM_KIND_HOOK_PROMPT,
            CODEX_ITEM_KIND_AGENT_MESSAGE,
            CODEX_ITEM_KIND_FUNCTION_CALL_OUTPUT,
            CODEX_ITEM_KIND_PLAN,
            CODEX_ITEM_KIND_REASONING,
            CODEX_ITEM_KIND_COMMAND_EXECUTION,
            CODEX_ITEM_KIND_FILE_CHANGE,
            CODEX_ITEM_KIND_MCP_TOOL_CALL,
            CODEX_ITEM_KIND_DYNAMIC_TOOL_CALL,
            CODEX_ITEM_KIND_COLLAB_AGENT_TOOL_CALL,
            CODEX_ITEM_KIND_SUB_AGENT_ACTIVITY,
            CODEX_ITEM_KIND_WEB_SEARCH,
            CODEX_ITEM_KIND_IMAGE_VIEW,
            CODEX_ITEM_KIND_SLEEP,
            CODEX_ITEM_KIND_IMAGE_GENERATION,
            CODEX_ITEM_KIND_ENTERED_REVIEW_MODE,
            CODEX_ITEM_KIND_EXITED_REVIEW_MODE,
            CODEX_ITEM_KIND_CONTEXT_COMPACTION,
        ];
        let core: Vec<u32> = ItemKind::WIRE.iter().map(|(_, k)| *k as u32).collect();
        assert_eq!(kinds.to_vec(), core);
        assert_eq!(CODEX_ITEM_KIND_UNKNOWN, ItemKind::Unknown as u32);
        assert_eq!(CODEX_ITEM_STATUS_INTERRUPTED, ItemStatus::Interrupted as u32);
        assert_eq!(CODEX_ITEM_STATUS_DECLINED, ItemStatus::Declined as u32);
        assert_eq!(CODEX_PHASE_FINAL_ANSWER, MessagePhase::FinalAnswer as u32);
        assert_eq!(CODEX_PHASE_PARTIAL_ANSWER, MessagePhase::PartialAnswer as u32);
        assert_eq!(CODEX_MODERATION_BLOCK, ModerationDisplay::Block as u32);
        assert_eq!(CODEX_CHANGE_UPDATE, ChangeKind::Update as u32);
        assert_eq!(ItemStatus::WIRE.len(), 5);
        assert_eq!(ChangeKind::WIRE.len(), 3);
    }
}
