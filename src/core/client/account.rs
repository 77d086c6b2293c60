//! The account and the models: what a program checks before it decides what to run.

use super::{Client, Timeout};
use crate::core::error::{Error, Result};
use crate::core::protocol::threads::{take_model_page, RateLimits};
use serde_json::{json, Value};

impl Client {
    /// Every page of `model/list`, merged: `{"data": [...]}`. `include_hidden` adds the models
    /// hidden from pickers.
    pub fn model_list(&self, include_hidden: bool) -> Result<String> {
        let mut models = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = json!({ "includeHidden": include_hidden });
            if let Some(c) = &cursor {
                params["cursor"] = Value::String(c.clone());
            }
            let result =
                self.shared.call("model/list", Some(&params.to_string()), Timeout::Default)?;
            cursor = take_model_page(&result, &mut models)?;
            if cursor.is_none() {
                return Ok(json!({ "data": models }).to_string());
            }
        }
    }

    /// `account/read` (`refresh_token`: ask for a token refresh first).
    pub fn account_read(&self, refresh_token: bool) -> Result<String> {
        let params = json!({ "refreshToken": refresh_token }).to_string();
        self.shared.call("account/read", Some(&params), Timeout::Default)
    }

    /// `account/login/start` with an API key (stored by the server in its CODEX_HOME).
    pub fn login_api_key(&self, api_key: &str) -> Result<String> {
        if api_key.is_empty() {
            return Err(Error::invalid_argument("api_key: must not be empty"));
        }
        let params = json!({ "type": "apiKey", "apiKey": api_key }).to_string();
        self.shared.call("account/login/start", Some(&params), Timeout::Default)
    }

    /// `account/logout`.
    pub fn logout(&self) -> Result<String> {
        self.shared.call("account/logout", None, Timeout::Default)
    }

    /// `account/rateLimits/read`, read as numbers.
    pub fn rate_limits(&self) -> Result<RateLimits> {
        let result = self.shared.call("account/rateLimits/read", None, Timeout::Default)?;
        RateLimits::parse(result, "account/rateLimits/read")
    }
}
