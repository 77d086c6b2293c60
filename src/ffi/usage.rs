//! `codex_token_counts`: a turn's or a thread's token usage as integers.

use super::error::codex_error;
use super::items::read_into;
use super::json::codex_json;
use super::{codex_result, guard_result, invalid};
use crate::core::protocol::items::{self, TokenCounts, UsageScope};

/// The thread's running total (`tokenUsage.total`).
pub const CODEX_USAGE_TOTAL: u32 = 1;
/// The last model call (`tokenUsage.last`).
pub const CODEX_USAGE_LAST: u32 = 2;

/// Token counts of one part of a usage (`codex_usage_tokens`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct codex_token_counts {
    /// Input tokens, cached ones included.
    pub input: i64,
    /// Input tokens served from the cache.
    pub cached_input: i64,
    /// Output tokens, reasoning included.
    pub output: i64,
    /// Output tokens spent on reasoning.
    pub reasoning_output: i64,
    /// All tokens.
    pub total: i64,
}

impl From<TokenCounts> for codex_token_counts {
    fn from(c: TokenCounts) -> Self {
        codex_token_counts {
            input: c.input,
            cached_input: c.cached_input,
            output: c.output,
            reasoning_output: c.reasoning_output,
            total: c.total,
        }
    }
}

/// Reads token counts from a usage: `codex_turn_result_usage(result)`, or the
/// `codex_event_json` of a `CODEX_EVENT_TOKEN_USAGE` event (`thread/tokenUsage/updated`).
/// `scope` is `CODEX_USAGE_TOTAL` (the thread so far) or `CODEX_USAGE_LAST` (the last model
/// call).
///
/// - **Threads:** any thread, while the usage's document lives.
/// - **Ownership:** `*counts_out` is the caller's memory, filled on success.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (a count is missing: not a usage),
///   `CODEX_ERR_WRONG_TYPE`, `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `usage`, `scope` not a
///   `CODEX_USAGE_*`, NULL `counts_out`).
///
/// # Safety
/// `usage` a live document; `counts_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_usage_tokens(
    usage: *const codex_json,
    scope: u32,
    counts_out: *mut codex_token_counts,
    err_out: *mut *mut codex_error,
) -> codex_result {
    let Some(scope) = UsageScope::from_u32(scope) else {
        return guard_result(err_out, || {
            Err(invalid(format!("scope: {scope} is not CODEX_USAGE_TOTAL or CODEX_USAGE_LAST")))
        });
    };
    read_into(usage, "usage", counts_out, "counts_out", err_out, |d| {
        items::token_counts(d, scope).map(codex_token_counts::from)
    })
}

/// The model's context window in tokens (`modelContextWindow`) of a usage as for
/// `codex_usage_tokens`.
///
/// - **Threads:** any thread, while the usage's document lives.
/// - **Ownership:** nothing to free.
/// - **Errors:** `CODEX_ERR_NOT_FOUND` (absent or null), `CODEX_ERR_WRONG_TYPE`,
///   `CODEX_ERR_INVALID_ARGUMENT` (NULL or dead `usage`, NULL `value_out`).
///
/// # Safety
/// `usage` a live document; `value_out` writable; `err_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn codex_usage_context_window(
    usage: *const codex_json,
    value_out: *mut i64,
    err_out: *mut *mut codex_error,
) -> codex_result {
    read_into(usage, "usage", value_out, "value_out", err_out, items::context_window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_scopes_match_the_core() {
        assert_eq!(CODEX_USAGE_TOTAL, UsageScope::Total as u32);
        assert_eq!(CODEX_USAGE_LAST, UsageScope::Last as u32);
    }
}
