//! `codex_thread_options`: `thread/start` params set field by field, and
//! `codex_client_thread_start_with`, which starts a thread with them.

use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::Handle;
use super::{
    c_str, codex_result, guard_result, guard_value, handle, into_handle, opt_c_str, out_ptr,
    owned_c_string,
};
use crate::core::protocol::builders::{merge_params, ThreadOptions};
use crate::core::Error;
use std::ffi::c_char;

/// Options of a new thread (`thread/start` params). Each setter replaces its field, except
/// `codex_thread_options_set_config`, which adds one override; strings are copied.
///
/// Threads: a `codex_thread_options *` is exclusive while being set; once set, a
/// `const codex_thread_options *` may start threads from many threads at once.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_thread_options {
    magic: u64,
    options: ThreadOptions,
}

handle_type!(codex_thread_options, 0x636f_6465_7874_686f);

unsafe fn set(
    opts: *mut codex_thread_options,
    err_out: *mut *mut codex_error,
    body: impl FnOnce(&mut ThreadOptions) -> Result<(), Error>,
) -> codex_result {
    guard_result(err_out, || {
        handle(opts, "opts")?;
        body(&mut (*opts).options)
    })
}

/// New thread options with nothing set (the server's configuration applies). Free with
/// `codex_thread_options_free`.
///
/// - **Threads:** any thread.
/// - **Ownership:** the options are the caller's: free them with `codex_thread_options_free`.
/// - **Errors:** none: never NULL.
#[no_mangle]
pub extern "C" fn codex_thread_options_new() -> *mut codex_thread_options {
    into_handle(codex_thread_options {
        magic: codex_thread_options::MAGIC,
        options: ThreadOptions::default(),
    })
}

/// Frees thread options. NULL is ignored.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** releases `opts`; threads started with them are not affected.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `opts` must be NULL or thread options not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_free(opts: *mut codex_thread_options) {
    guard_value((), || super::free_handle(opts))
}

/// The thread's model (`model`).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `model` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL, non-UTF-8 or empty `model`).
///
/// # Safety
/// `opts` live thread options; `model` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_model(
    opts: *mut codex_thread_options,
    model: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.model(c_str(model, "model")?))
}

/// The thread's working directory (`cwd`), any characters.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `cwd` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL, non-UTF-8 or empty `cwd`).
///
/// # Safety
/// `opts` live thread options; `cwd` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_cwd(
    opts: *mut codex_thread_options,
    cwd: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.cwd(c_str(cwd, "cwd")?))
}

/// The sandbox mode (`sandbox`): `"read-only"`, `"workspace-write"` or `"danger-full-access"`.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `sandbox` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `sandbox`, or a value not listed).
///
/// # Safety
/// `opts` live thread options; `sandbox` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_sandbox(
    opts: *mut codex_thread_options,
    sandbox: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.sandbox(c_str(sandbox, "sandbox")?))
}

/// When to ask for approval (`approvalPolicy`): `"untrusted"`, `"on-request"` or `"never"`.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `policy` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `policy`, or a value not listed).
///
/// # Safety
/// `opts` live thread options; `policy` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_approval_policy(
    opts: *mut codex_thread_options,
    policy: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.approval_policy(c_str(policy, "policy")?))
}

/// Instructions replacing codex's built-in ones (`baseInstructions`).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `text` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `text`).
///
/// # Safety
/// `opts` live thread options; `text` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_base_instructions(
    opts: *mut codex_thread_options,
    text: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.base_instructions(c_str(text, "text")?))
}

/// Developer instructions added to the conversation (`developerInstructions`).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `text` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `text`).
///
/// # Safety
/// `opts` live thread options; `text` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_developer_instructions(
    opts: *mut codex_thread_options,
    text: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.developer_instructions(c_str(text, "text")?))
}

/// Whether the thread is ephemeral (`ephemeral`: kept in memory only, never written to disk).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`).
///
/// # Safety
/// `opts` live thread options; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_ephemeral(
    opts: *mut codex_thread_options,
    ephemeral: bool,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.ephemeral(ephemeral))
}

/// Adds one config override (a member of `config`): `key` as in `config.toml`, dotted for a
/// table's key (`"features.plugins"`), `value_json` its value as JSON (`"false"`, `"\"high\""`).
/// The same key again replaces the value.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `key` and `value_json` are copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL, non-UTF-8 or empty `key`,
///   NULL or non-UTF-8 `value_json` or not JSON).
///
/// # Safety
/// `opts` live thread options; `key` and `value_json` strings; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_set_config(
    opts: *mut codex_thread_options,
    key: *const c_char,
    value_json: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, err_out, |o| o.config(c_str(key, "key")?, c_str(value_json, "value_json")?))
}

/// `params_json` with the options laid over it (see `codex_client_thread_start_with`).
unsafe fn merged(
    options: *const codex_thread_options,
    params_json: *const c_char,
) -> Result<String, Error> {
    let empty = ThreadOptions::default();
    let options = if options.is_null() { &empty } else { &handle(options, "options")?.options };
    let params = opt_c_str(params_json, "params_json")?;
    merge_params(params, options.fields(), &[])
}

/// The `thread/start` params the options make, laid over `params_json` (NULL, or a JSON
/// object) as `codex_client_thread_start_with` does: for the functions that take `params_json`
/// (`codex_pool_thread_start`, `codex_client_request`, ...).
///
/// - **Threads:** any thread; `options` is only read.
/// - **Ownership:** the string written to `*json_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `options`, `params_json` not a JSON
///   object, NULL `json_out`).
///
/// # Safety
/// `options` live thread options; `params_json` NULL or a string; `json_out` writable;
/// `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_thread_options_to_json(
    options: *const codex_thread_options,
    params_json: *const c_char,
    json_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        handle(options, "options")?;
        let params = merged(options, params_json)?;
        out_ptr(json_out, "json_out")?;
        *json_out = owned_c_string(&params);
        Ok(())
    })
}

/// Starts a thread like `codex_client_thread_start`, with `options` (NULL: none) and
/// `params_json` (NULL, or a JSON object of further `thread/start` params). The two combine:
/// `params_json` is read first and every field set on `options` replaces the same key of it,
/// except `config`, whose overrides are merged key by key (those of `options` win).
///
/// - **Threads:** any thread, many at once on one client; `options` is only read.
/// - **Ownership:** `options` and `params_json` are only read during the call; the strings written
///   to `*thread_id_out` and `*result_out` are the caller's: free each with `codex_string_free`.
/// - **Errors:** those of `codex_client_thread_start`; also `CODEX_ERR_INVALID_ARGUMENT` for a dead
///   `options`.
///
/// # Safety
/// `client` a live client; `options` NULL or live thread options; `params_json` NULL or a
/// string; `thread_id_out` writable; `result_out` and `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_thread_start_with(
    client: *const codex_client,
    options: *const codex_thread_options,
    params_json: *const c_char,
    thread_id_out: *mut *mut c_char,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let params = merged(options, params_json)?;
        out_ptr(thread_id_out, "thread_id_out")?;
        let (thread_id, result) = client.thread_start(Some(&params))?;
        *thread_id_out = owned_c_string(&thread_id);
        if !result_out.is_null() {
            *result_out = owned_c_string(&result);
        }
        Ok(())
    })
}
