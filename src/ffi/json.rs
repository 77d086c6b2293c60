//! `codex_json`: a JSON document read by JSON Pointer (RFC 6901) without a JSON library.

use super::client::{client_ref, codex_client, request_timeout};
use super::error::codex_error;
use super::event::{codex_event, event_view};
use super::request::{codex_request, params_document};
use super::turn::{codex_turn_result, result_documents};
use super::{c_str, codex_result, guard_result, guard_value, handle, opt_c_str, out_ptr};
use crate::core::protocol::document::{Document, DOCUMENT_TAG};
use crate::core::Error;
use std::ffi::c_char;

/// `null` (`codex_json_get_type`).
pub const CODEX_JSON_NULL: u32 = 1;
/// `true` or `false`.
pub const CODEX_JSON_BOOL: u32 = 2;
/// A number (read with `codex_json_get_int` or `codex_json_get_double`).
pub const CODEX_JSON_NUMBER: u32 = 3;
/// A string.
pub const CODEX_JSON_STRING: u32 = 4;
/// An array (`codex_json_get_array_len`; elements at `"/0"`, `"/1"`, ...).
pub const CODEX_JSON_ARRAY: u32 = 5;
/// An object.
pub const CODEX_JSON_OBJECT: u32 = 6;

/// A JSON document read by JSON Pointer: the params of an event (`codex_event_json`) or of a
/// server request (`codex_request_json`), a turn's items and usage (`codex_turn_result_items`,
/// `codex_turn_result_usage`), a request's result (`codex_client_request_json`), any text
/// (`codex_json_parse`), or a part of another document (`codex_json_get_json`).
///
/// Pointers follow RFC 6901: `""` is the whole document, `"/item/command"` a member of a
/// member, `"/items/0"` an array's first element; `~1` stands for `/` and `~0` for `~` in a
/// member name. Nothing is parsed until a getter is called; each call walks the text along its
/// pointer. A getter answers `CODEX_ERR_NOT_FOUND` when nothing is at the pointer and
/// `CODEX_ERR_WRONG_TYPE` when the value there has another type; its out-parameters are then
/// left untouched.
///
/// Threads: immutable; a `const codex_json *` may be read from many threads at once. Strings
/// it lends stay valid, unchanged, as long as the document: until `codex_json_free` for an
/// owned one, until its owner handle is freed for a lent one (an event's, a request's, a
/// turn result's, or the parent document's).
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_json {
    // The first word of a core `Document`: a handle is the document itself.
    magic: u64,
}

handle_type!(codex_json, DOCUMENT_TAG);

/// Lends a document to C.
pub(crate) fn json_handle(doc: &Document) -> *const codex_json {
    (doc as *const Document).cast()
}

/// Gives an owned document to C (freed with `codex_json_free`).
pub(crate) fn owned_json_handle(doc: Document) -> *mut codex_json {
    Box::into_raw(Box::new(doc)).cast()
}

pub(crate) unsafe fn document<'a>(json: *const codex_json) -> Result<&'a Document, Error> {
    handle(json, "json")?;
    Ok(&*json.cast::<Document>())
}

/// Reads the value at `pointer` with `read` and hands it to `write` (called only on success).
unsafe fn get<T>(
    json: *const codex_json,
    pointer: *const c_char,
    out: *mut T,
    out_name: &str,
    err_out: *mut *mut codex_error,
    read: impl FnOnce(&Document, &str) -> Result<T, Error>,
) -> codex_result {
    guard_result(err_out, || {
        let doc = document(json)?;
        let pointer = c_str(pointer, "pointer")?;
        out_ptr(out, out_name)?;
        *out = read(doc, pointer)?;
        Ok(())
    })
}

/// Lends NUL-terminated text kept by the document: its pointer to `*value_out`, its length
/// (without the NUL) to `*len_out` when not NULL.
unsafe fn lend_text(
    json: *const codex_json,
    pointer: *const c_char,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
    read: impl for<'d> FnOnce(&'d Document, &str) -> Result<&'d [u8], Error>,
) -> codex_result {
    get(json, pointer, value_out, "value_out", err_out, |doc, pointer| {
        let text = read(doc, pointer)?;
        if !len_out.is_null() {
            *len_out = text.len() - 1;
        }
        Ok(text.as_ptr().cast())
    })
}

/// Parses `text` into a new document (free with `codex_json_free`), e.g. a string an older
/// call returned (`codex_client_thread_start`'s full result).
///
/// - **Threads:** any thread.
/// - **Ownership:** `text` is copied; the document written to `*json_out` is the caller's: free it
///   with `codex_json_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or non-UTF-8 `text`, `text` not JSON, NULL
///   `json_out`).
///
/// # Safety
/// `text` a NUL-terminated string; `json_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_parse(
    text: *const c_char,
    json_out: *mut *mut codex_json,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let text = c_str(text, "text")?;
        out_ptr(json_out, "json_out")?;
        *json_out = owned_json_handle(Document::parse(text, "text")?);
        Ok(())
    })
}

/// The JSON type (`CODEX_JSON_*`) of the value at `pointer`: with `CODEX_ERR_NOT_FOUND` this is
/// also how to tell an absent value from a `null` one.
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (nothing there), `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead
///   `json`, NULL or non-UTF-8 `pointer`, a pointer that is not RFC 6901, NULL `type_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `type_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_type(
    json: *const codex_json,
    pointer: *const c_char,
    type_out: *mut u32,
    err_out: *mut *mut codex_error,
) -> codex_result {
    get(json, pointer, type_out, "type_out", err_out, |d, p| d.json_type(p).map(|t| t as u32))
}

/// The string at `pointer`, decoded (escapes resolved), NUL-terminated UTF-8; its length in
/// bytes goes to `*len_out` when not NULL (the text may hold NUL characters).
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** the string written to `*value_out` is borrowed from the document: valid until
///   the document is freed; do not free it. Reading the same pointer again lends the same string.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE` (not a string),
///   `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `json`, a bad `pointer`, NULL `value_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `value_out` writable; `len_out` NULL or writable;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_string(
    json: *const codex_json,
    pointer: *const c_char,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_text(json, pointer, value_out, len_out, err_out, Document::string)
}

/// The integer at `pointer`.
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE` (not a number, a fraction or an
///   exponent form, or beyond int64), `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `json`, a bad
///   `pointer`, NULL `value_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_int(
    json: *const codex_json,
    pointer: *const c_char,
    value_out: *mut i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    get(json, pointer, value_out, "value_out", err_out, Document::int)
}

/// The number at `pointer`, as a double (integers too).
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE` (not a number),
///   `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `json`, a bad `pointer`, NULL `value_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_double(
    json: *const codex_json,
    pointer: *const c_char,
    value_out: *mut f64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    get(json, pointer, value_out, "value_out", err_out, Document::double)
}

/// The boolean at `pointer`.
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE` (not `true` or `false`),
///   `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `json`, a bad `pointer`, NULL `value_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_bool(
    json: *const codex_json,
    pointer: *const c_char,
    value_out: *mut bool,
    err_out: *mut *mut codex_error,
) -> codex_result {
    get(json, pointer, value_out, "value_out", err_out, Document::bool)
}

/// The number of elements of the array at `pointer`.
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_WRONG_TYPE` (not an array),
///   `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `json`, a bad `pointer`, NULL `len_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `len_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_array_len(
    json: *const codex_json,
    pointer: *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    get(json, pointer, len_out, "len_out", err_out, Document::array_len)
}

/// The raw JSON text of the value at `pointer` (any type), exactly as in the document,
/// NUL-terminated; its length goes to `*len_out` when not NULL. `""` gives the whole document.
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** the text written to `*value_out` is borrowed from the document: valid until
///   the document is freed; do not free it.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `json`, a bad
///   `pointer`, NULL `value_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `value_out` writable; `len_out` NULL or writable;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_raw(
    json: *const codex_json,
    pointer: *const c_char,
    value_out: *mut *const c_char,
    len_out: *mut usize,
    err_out: *mut *mut codex_error,
) -> codex_result {
    lend_text(json, pointer, value_out, len_out, err_out, Document::raw)
}

/// The value at `pointer` as a document of its own (an item of a turn's items, say), read with
/// the same getters and pointers relative to it.
///
/// - **Threads:** any thread, while the document lives.
/// - **Ownership:** the document written to `*json_out` is borrowed from `json`: valid until
///   `json` is freed; never free it. The same pointer lends the same document.
/// - **Errors:** `CODEX_ERR_NOT_FOUND`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `json`, a bad
///   `pointer`, NULL `json_out`).
///
/// # Safety
/// `json` a live document; `pointer` a string; `json_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_json_get_json(
    json: *const codex_json,
    pointer: *const c_char,
    json_out: *mut *const codex_json,
    err_out: *mut *mut codex_error,
) -> codex_result {
    get(json, pointer, json_out, "json_out", err_out, |d, p| d.sub(p).map(json_handle))
}

/// Frees a document the program owns (from `codex_json_parse` or `codex_client_request_json`).
/// NULL is ignored, and so is a document lent by another handle (its owner frees it).
///
/// - **Threads:** exclusive on `json`.
/// - **Ownership:** releases `json` and every string and document it lent.
/// - **Errors:** none; NULL and lent documents are ignored.
///
/// # Safety
/// `json` must be NULL or a live document.
#[no_mangle]
pub unsafe extern "C" fn codex_json_free(json: *mut codex_json) {
    guard_value((), || {
        if let Ok(doc) = document(json) {
            if doc.is_owned() {
                drop(Box::from_raw(json.cast::<Document>()));
            }
        }
    })
}

/// The event's params as a document: `codex_json_get_string(codex_event_json(ev),
/// "/item/type", ...)`. Made on the first call; an event no program reads this way costs
/// nothing more.
///
/// - **Threads:** any thread, while no `*_free` of `ev` runs.
/// - **Ownership:** borrowed: valid until `ev` is freed; never free it.
/// - **Errors:** none: NULL when `ev` is NULL or not a live event.
///
/// # Safety
/// `ev` must be NULL or an event from this library not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_event_json(ev: *const codex_event) -> *const codex_json {
    guard_value(std::ptr::null(), || {
        event_view(ev).map_or(std::ptr::null(), |e| json_handle(e.params_document()))
    })
}

/// The server request's params as a document (for an approval: `"/command"`, `"/cwd"`,
/// `"/reason"`, ...).
///
/// - **Threads:** any thread, while no `*_free` of `req` runs.
/// - **Ownership:** borrowed: valid until `req` is freed; never free it.
/// - **Errors:** none: NULL when `req` is NULL or not a live request.
///
/// # Safety
/// `req` must be NULL or a live request.
#[no_mangle]
pub unsafe extern "C" fn codex_request_json(req: *const codex_request) -> *const codex_json {
    guard_value(std::ptr::null(), || params_document(req).map_or(std::ptr::null(), json_handle))
}

/// The turn's completed items as a document: an array (`codex_json_get_array_len(items, "",
/// ...)`; `"/0/type"` is the first item's type; `codex_json_get_json` lends one item).
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; never free it.
/// - **Errors:** none: NULL when `result` is NULL or not a live turn result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_items(
    result: *const codex_turn_result,
) -> *const codex_json {
    guard_value(std::ptr::null(), || {
        result_documents(result).map_or(std::ptr::null(), |(items, _)| json_handle(items))
    })
}

/// The turn's last token usage as a document (`"/total/totalTokens"`, `"/last/inputTokens"`,
/// `"/modelContextWindow"`, ...), or NULL when none came.
///
/// - **Threads:** any thread, while no `*_free` of `result` runs.
/// - **Ownership:** borrowed: valid until `result` is freed; never free it.
/// - **Errors:** none: NULL when the turn reported no usage, or `result` is NULL or not a live
///   turn result.
///
/// # Safety
/// `result` must be NULL or a live turn result.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_result_usage(
    result: *const codex_turn_result,
) -> *const codex_json {
    guard_value(std::ptr::null(), || {
        result_documents(result)
            .ok()
            .and_then(|(_, usage)| usage)
            .map_or(std::ptr::null(), json_handle)
    })
}

/// `codex_client_request`, with the result as a document to read by pointer instead of a
/// string (free it with `codex_json_free`).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** `method` and `params_json` are only read during the call; the document
///   written to `*json_out` is the caller's: free it with `codex_json_free`.
/// - **Errors:** those of `codex_client_request`.
///
/// # Safety
/// `client` a live client; `method` a string; `params_json` NULL or a string; `json_out`
/// writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_request_json(
    client: *const codex_client,
    method: *const c_char,
    params_json: *const c_char,
    timeout_ms: i64,
    json_out: *mut *mut codex_json,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let method = c_str(method, "method")?;
        let params = opt_c_str(params_json, "params_json")?;
        let timeout = request_timeout(timeout_ms)?;
        out_ptr(json_out, "json_out")?;
        let result = client.request(method, params, timeout)?;
        *json_out = owned_json_handle(Document::from_valid(result));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::protocol::document::JsonType;
    use crate::ffi::Handle;

    #[test]
    fn c_types_match_the_core() {
        let pairs = [
            (CODEX_JSON_NULL, JsonType::Null),
            (CODEX_JSON_BOOL, JsonType::Bool),
            (CODEX_JSON_NUMBER, JsonType::Number),
            (CODEX_JSON_STRING, JsonType::String),
            (CODEX_JSON_ARRAY, JsonType::Array),
            (CODEX_JSON_OBJECT, JsonType::Object),
        ];
        for (c, t) in pairs {
            assert_eq!(c, t as u32, "{t:?}");
        }
    }

    #[test]
    fn the_handle_is_the_document() {
        let doc = Document::parse("{}", "t").unwrap();
        let json = json_handle(&doc);
        assert_eq!(unsafe { document(json) }.unwrap().text(), "{}");
        assert_eq!(codex_json::MAGIC, doc.tag());
    }
}
