//! `codex_input`: a turn's input items built one by one (text, images, skills, mentions), for
//! `codex_turn_start_with`.

use super::error::codex_error;
use super::Handle;
use super::{
    c_str, codex_result, guard_result, guard_value, handle, into_handle, out_ptr, owned_c_string,
};
use crate::core::protocol::builders::InputItems;
use crate::core::Error;
use std::ffi::c_char;

/// A turn's input: items in the order added. Strings are copied, so a program may free its own
/// at once; paths and text need no escaping.
///
/// Threads: a `codex_input *` is exclusive while being built; once built, a
/// `const codex_input *` may start turns from many threads at once.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_input {
    magic: u64,
    pub(crate) items: InputItems,
}

handle_type!(codex_input, 0x636f_6465_7869_6e70);

pub(crate) unsafe fn input_ref<'a>(input: *const codex_input) -> Result<&'a InputItems, Error> {
    handle(input, "input").map(|i| &i.items)
}

unsafe fn add(
    input: *mut codex_input,
    err_out: *mut *mut codex_error,
    body: impl FnOnce(&mut InputItems) -> Result<(), Error>,
) -> codex_result {
    guard_result(err_out, || {
        handle(input, "input")?;
        body(&mut (*input).items)
    })
}

/// A new, empty input. Free with `codex_input_free`.
///
/// - **Threads:** any thread.
/// - **Ownership:** the input is the caller's: free it with `codex_input_free`.
/// - **Errors:** none: never NULL.
#[no_mangle]
pub extern "C" fn codex_input_new() -> *mut codex_input {
    into_handle(codex_input { magic: codex_input::MAGIC, items: InputItems::default() })
}

/// Adds text (`{"type":"text"}`).
///
/// - **Threads:** exclusive on `input`.
/// - **Ownership:** `text` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `input`, NULL or non-UTF-8 `text`).
///
/// # Safety
/// `input` a live input; `text` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_input_add_text(
    input: *mut codex_input,
    text: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    add(input, err_out, |i| {
        i.text(c_str(text, "text")?);
        Ok(())
    })
}

/// Adds an image by URL (`{"type":"image","url"}`; `https:` or a `data:` URL).
///
/// - **Threads:** exclusive on `input`.
/// - **Ownership:** `url` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `input`, NULL, non-UTF-8 or empty
///   `url`).
///
/// # Safety
/// `input` a live input; `url` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_input_add_image_url(
    input: *mut codex_input,
    url: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    add(input, err_out, |i| {
        i.image_url(non_empty(c_str(url, "url")?, "url")?);
        Ok(())
    })
}

/// Adds an image file the server reads (`{"type":"localImage","path"}`).
///
/// - **Threads:** exclusive on `input`.
/// - **Ownership:** `path` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `input`, NULL, non-UTF-8 or empty
///   `path`).
///
/// # Safety
/// `input` a live input; `path` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_input_add_local_image(
    input: *mut codex_input,
    path: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    add(input, err_out, |i| {
        i.local_image(non_empty(c_str(path, "path")?, "path")?);
        Ok(())
    })
}

/// Adds a skill to use (`{"type":"skill","name","path"}`; `path` its `SKILL.md`).
///
/// - **Threads:** exclusive on `input`.
/// - **Ownership:** `name` and `path` are copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `input`, NULL, non-UTF-8 or empty
///   `name` or `path`).
///
/// # Safety
/// `input` a live input; `name` and `path` strings; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_input_add_skill(
    input: *mut codex_input,
    name: *const c_char,
    path: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    add(input, err_out, |i| {
        let name = non_empty(c_str(name, "name")?, "name")?;
        i.skill(name, non_empty(c_str(path, "path")?, "path")?);
        Ok(())
    })
}

/// Adds a mention (`{"type":"mention","name","path"}`: an app or plugin, `path` as
/// `app://...` or `plugin://...`).
///
/// - **Threads:** exclusive on `input`.
/// - **Ownership:** `name` and `path` are copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `input`, NULL, non-UTF-8 or empty
///   `name` or `path`).
///
/// # Safety
/// `input` a live input; `name` and `path` strings; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_input_add_mention(
    input: *mut codex_input,
    name: *const c_char,
    path: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    add(input, err_out, |i| {
        let name = non_empty(c_str(name, "name")?, "name")?;
        i.mention(name, non_empty(c_str(path, "path")?, "path")?);
        Ok(())
    })
}

/// The input as the JSON array of items `turn/start` takes, for the functions that take input
/// text (`codex_turn_start_with_callback`, `codex_turn_steer`, `codex_pool_turn_start`, ...):
/// pass it as their `input`.
///
/// - **Threads:** any thread; `input` is only read.
/// - **Ownership:** the string written to `*json_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `input`, an input with no items, NULL
///   `json_out`).
///
/// # Safety
/// `input` a live input; `json_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_input_to_json(
    input: *const codex_input,
    json_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let items = input_ref(input)?;
        out_ptr(json_out, "json_out")?;
        *json_out = owned_c_string(&nonempty_json(items)?);
        Ok(())
    })
}

/// The items as JSON, refusing an input with none (`turn/start` needs one).
pub(crate) fn nonempty_json(items: &InputItems) -> Result<String, Error> {
    if items.is_empty() {
        return Err(super::invalid(
            "input: has no items (add one with codex_input_add_text)".into(),
        ));
    }
    Ok(items.to_json())
}

/// Frees an input. NULL is ignored.
///
/// - **Threads:** exclusive on `input`.
/// - **Ownership:** releases `input`; turns started with it are not affected.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `input` must be NULL or an input not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_input_free(input: *mut codex_input) {
    guard_value((), || super::free_handle(input))
}

fn non_empty<'a>(value: &'a str, name: &str) -> Result<&'a str, Error> {
    if value.is_empty() {
        Err(super::invalid(format!("{name}: must not be empty")))
    } else {
        Ok(value)
    }
}
