//! The account and model calls of `codex_client`: models list, account read, API-key login,
//! logout. Rate limits have their own type (`rate_limits.rs`).

use super::client::{client_ref, codex_client};
use super::error::codex_error;
use super::{c_str, codex_result, guard_result, out_ptr, owned_c_string};
use std::ffi::c_char;

/// The models the server offers (`model/list`), every page merged into one result:
/// `{"data": [{"id", "model", "displayName", "description", "hidden", "isDefault",
/// "supportedReasoningEfforts", ...}]}`. `include_hidden` adds the models hidden from pickers
/// (`"hidden": true`). Writes the JSON to `*result_out`.
///
/// On the server: its model catalog, which it may refresh from the model provider (one HTTP
/// request to the provider's catalog, when it has one and the account may read it).
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** the string written to `*result_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client` or `result_out`), `CODEX_ERR_RPC`
///   (the server's error), `CODEX_ERR_PROTOCOL` (a page without `data`), `CODEX_ERR_TIMEOUT`,
///   `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `result_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_model_list(
    client: *const codex_client,
    include_hidden: bool,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        out_ptr(result_out, "result_out")?;
        *result_out = owned_c_string(&client.model_list(include_hidden)?);
        Ok(())
    })
}

/// The account the server uses (`account/read`): `{"account": null | {"type": "apiKey"} |
/// {"type": "chatgpt", "email", "planType"}, "requiresOpenaiAuth": bool}`. `refresh_token`
/// asks the server to refresh a ChatGPT token first. Writes the JSON to `*result_out`.
///
/// On the server: reads its stored credentials (in its `CODEX_HOME`); a refresh is one HTTP
/// request to the login service.
///
/// - **Threads:** any thread, many at once on one client.
/// - **Ownership:** the string written to `*result_out` is the caller's: free it with
///   `codex_string_free`.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client` or `result_out`), `CODEX_ERR_RPC`,
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `result_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_account_read(
    client: *const codex_client,
    refresh_token: bool,
    result_out: *mut *mut c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        out_ptr(result_out, "result_out")?;
        *result_out = owned_c_string(&client.account_read(refresh_token)?);
        Ok(())
    })
}

/// Logs the server in with an OpenAI API key (`account/login/start` with `"type": "apiKey"`).
/// Browser (ChatGPT) and device-code logins need a person and are left to
/// `codex_client_request` (`account/login/start` with `"type": "chatgpt"` or
/// `"chatgptDeviceCode"`, then the `account/login/completed` notification). The key is never
/// logged by this library.
///
/// On the server: stores the key in its `CODEX_HOME` (`auth.json`, or the keyring) for every
/// later request; notifies `account/login/completed` and `account/updated`.
///
/// - **Threads:** any thread.
/// - **Ownership:** `api_key` is only read during the call.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client`, a NULL, empty or invalid UTF-8
///   `api_key`), `CODEX_ERR_RPC` (the server's error, e.g. API-key login disabled by its
///   config), `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`,
///   `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `api_key` a string; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_account_login_api_key(
    client: *const codex_client,
    api_key: *const c_char,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        let client = client_ref(client)?;
        client.login_api_key(c_str(api_key, "api_key")?)?;
        Ok(())
    })
}

/// Logs the server out (`account/logout`): its stored credentials are removed.
///
/// On the server: deletes the credentials in its `CODEX_HOME`; notifies `account/updated`.
///
/// - **Threads:** any thread.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_INVALID_ARGUMENT` (NULL `client`), `CODEX_ERR_RPC`,
///   `CODEX_ERR_TIMEOUT`, `CODEX_ERR_OVERLOADED`, `CODEX_ERR_TRANSPORT`, `CODEX_ERR_CLOSED`.
///
/// # Safety
/// `client` a live client; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_client_account_logout(
    client: *const codex_client,
    err_out: *mut *mut codex_error,
) -> codex_result {
    guard_result(err_out, || {
        client_ref(client)?.logout()?;
        Ok(())
    })
}
