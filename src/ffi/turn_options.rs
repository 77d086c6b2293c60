//! `codex_turn_options`: `turn/start` params set field by field, and `codex_turn_start_with`,
//! which starts a turn from a `codex_input` and these options.

use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::input::{codex_input, input_ref, nonempty_json};
use super::turn::{codex_turn, start_turn_on};
use super::Handle;
use super::{
    c_str, codex_result, guard_result, guard_value, handle, into_handle, invalid, opt_c_str,
    out_ptr, owned_c_string,
};
use crate::core::protocol::builders::{merge_params, TurnOptions};
use crate::core::Error;
use std::ffi::{c_char, CString};

/// Options of one turn (`turn/start` params other than the thread and input). Each setter
/// replaces its field; strings are copied.
///
/// Threads: a `codex_turn_options *` is exclusive while being set; once set, a
/// `const codex_turn_options *` may start turns from many threads at once.
#[cfg_attr(all(), repr(C))] // the tag first (see `handle_type!`); opaque to cbindgen
pub struct codex_turn_options {
    magic: u64,
    options: TurnOptions,
}

handle_type!(codex_turn_options, 0x636f_6465_7874_6f70);

unsafe fn set(
    opts: *mut codex_turn_options,
    value: *const c_char,
    name: &str,
    err_out: *mut *mut codex_error,
    setter: fn(&mut TurnOptions, &str) -> Result<(), Error>,
) -> codex_result {
    guard_result(err_out, || {
        handle(opts, "opts")?;
        let value = c_str(value, name)?;
        setter(&mut (*opts).options, value)
    })
}

/// New turn options with nothing set (the thread's settings apply). Free with
/// `codex_turn_options_free`.
///
/// - **Threads:** any thread.
/// - **Ownership:** the options are the caller's: free them with `codex_turn_options_free`.
/// - **Errors:** none: never NULL.
#[no_mangle]
pub extern "C" fn codex_turn_options_new() -> *mut codex_turn_options {
    into_handle(codex_turn_options {
        magic: codex_turn_options::MAGIC,
        options: TurnOptions::default(),
    })
}

/// Frees turn options. NULL is ignored.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** releases `opts`; turns started with them are not affected.
/// - **Errors:** none; NULL is ignored.
///
/// # Safety
/// `opts` must be NULL or turn options not yet freed.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_free(opts: *mut codex_turn_options) {
    guard_value((), || super::free_handle(opts))
}

/// The model for this turn and the next ones (`model`).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `model` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL, non-UTF-8 or empty `model`).
///
/// # Safety
/// `opts` live turn options; `model` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_model(
    opts: *mut codex_turn_options,
    model: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, model, "model", err_out, TurnOptions::model)
}

/// The reasoning effort (`effort`: `"low"`, `"medium"`, `"high"`, ... as the model offers).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `effort` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL, non-UTF-8 or empty `effort`).
///
/// # Safety
/// `opts` live turn options; `effort` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_effort(
    opts: *mut codex_turn_options,
    effort: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, effort, "effort", err_out, TurnOptions::effort)
}

/// The reasoning summary (`summary`): `"auto"`, `"concise"`, `"detailed"` or `"none"`.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `summary` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `summary`, or a value not listed).
///
/// # Safety
/// `opts` live turn options; `summary` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_summary(
    opts: *mut codex_turn_options,
    summary: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, summary, "summary", err_out, TurnOptions::summary)
}

/// The working directory for this turn and the next ones (`cwd`), any characters.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `cwd` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL, non-UTF-8 or empty `cwd`).
///
/// # Safety
/// `opts` live turn options; `cwd` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_cwd(
    opts: *mut codex_turn_options,
    cwd: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, cwd, "cwd", err_out, TurnOptions::cwd)
}

/// The sandbox: `"read-only"`, `"workspace-write"` or `"danger-full-access"` (sent as `sandboxPolicy` of that type).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `sandbox` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `sandbox`, or a value not listed).
///
/// # Safety
/// `opts` live turn options; `sandbox` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_sandbox(
    opts: *mut codex_turn_options,
    sandbox: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, sandbox, "sandbox", err_out, TurnOptions::sandbox)
}

/// When to ask for approval (`approvalPolicy`): `"untrusted"`, `"on-request"` or `"never"`.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `policy` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `policy`, or a value not listed).
///
/// # Safety
/// `opts` live turn options; `policy` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_approval_policy(
    opts: *mut codex_turn_options,
    policy: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, policy, "policy", err_out, TurnOptions::approval_policy)
}

/// The personality (`personality`): `"none"`, `"friendly"` or `"pragmatic"`.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `personality` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `personality`, or a value not listed).
///
/// # Safety
/// `opts` live turn options; `personality` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_personality(
    opts: *mut codex_turn_options,
    personality: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, personality, "personality", err_out, TurnOptions::personality)
}

/// The service tier (`serviceTier`, e.g. `"flex"`).
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `tier` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL, non-UTF-8 or empty `tier`).
///
/// # Safety
/// `opts` live turn options; `tier` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_service_tier(
    opts: *mut codex_turn_options,
    tier: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, tier, "tier", err_out, TurnOptions::service_tier)
}

/// A JSON Schema the final answer must follow (`outputSchema`): the answer is then JSON, read with `codex_json_parse` and the getters.
///
/// - **Threads:** exclusive on `opts`.
/// - **Ownership:** `schema_json` is copied.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `opts`, NULL or non-UTF-8 `schema_json`, not JSON, or not an object).
///
/// # Safety
/// `opts` live turn options; `schema_json` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_set_output_schema(
    opts: *mut codex_turn_options,
    schema_json: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    set(opts, schema_json, "schema_json", err_out, TurnOptions::output_schema)
}

/// `params_json` with the options laid over it (see `codex_turn_start_with`).
unsafe fn merged(
    options: *const codex_turn_options,
    params_json: *const c_char,
) -> Result<String, Error> {
    let empty = TurnOptions::default();
    let options = if options.is_null() { &empty } else { &handle(options, "options")?.options };
    let params = opt_c_str(params_json, "params_json")?;
    merge_params(params, options.fields(), &["threadId", "input"])
}

/// The `turn/start` params the options make, laid over `params_json` (NULL, or a JSON object)
/// as `codex_turn_start_with` does: for the functions that take `params_json`
/// (`codex_turn_start_with_callback`, `codex_pool_turn_start`, ...).
///
/// - **Threads:** any thread; `options` is only read.
/// - **Ownership:** the string written to `*json_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `options`, `params_json` not a JSON
///   object or holding `threadId`/`input`, NULL `json_out`).
///
/// # Safety
/// `options` live turn options; `params_json` NULL or a string; `json_out` writable; `err_out`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_options_to_json(
    options: *const codex_turn_options,
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

/// Starts a turn like `codex_turn_start`, from built input and options: `input` (at least one
/// item), `options` (NULL: none) and `params_json` (NULL, or a JSON object of further
/// `turn/start` params the builders do not cover). The two combine: `params_json` is read first
/// and every field set on `options` replaces the same key of it.
///
/// - **Threads:** any thread, many at once on one client; `input` and `options` are only read.
/// - **Ownership:** `input`, `options` and `params_json` are only read during the call (free them
///   when you like); the turn written to `*turn_out` is the caller's: free it with
///   `codex_turn_free`.
/// - **Errors:** those of `codex_turn_start`; also `CODEX_ERR_INVALID_ARGUMENT` for a NULL, dead or
///   empty `input`, or dead `options`.
///
/// # Safety
/// `client` a live client; `thread_id` a string; `input` a live input; `options` NULL or live
/// turn options; `params_json` NULL or a string; `turn_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_turn_start_with(
    client: *const codex_client,
    thread_id: *const c_char,
    input: *const codex_input,
    options: *const codex_turn_options,
    params_json: *const c_char,
    turn_out: *mut *mut codex_turn,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        let items = nonempty_json(input_ref(input)?)?;
        let params = merged(options, params_json)?;
        // JSON text never holds a raw NUL (serde writes it as \u0000).
        let input = CString::new(items).map_err(|e| invalid(format!("input: {e}")))?;
        let params = CString::new(params).map_err(|e| invalid(format!("params_json: {e}")))?;
        let start = |thread: &str, input: &str, params: Option<&str>, callback| {
            client.turn_start(thread, input, params, callback)
        };
        start_turn_on(start, thread_id, input.as_ptr(), params.as_ptr(), None, turn_out)
    })
}
