//! What a connection is made with: where the app-server is (spawned, or at a URL) and how to
//! reach it. The part of the client's options this layer reads; nothing here knows of turns,
//! events or callbacks.

use super::url::Endpoint;
use crate::core::error::{Error, Result};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the app-server is: spawned (`Stdio`, the default) or remote.
    pub endpoint: Endpoint,
    /// The codex binary; `None` tries `$CODEX_BIN`, then `codex` on PATH.
    pub codex_bin: Option<PathBuf>,
    /// Arguments before the `app-server` subcommand (e.g. `-c`, `key=value`).
    pub args: Vec<String>,
    /// Environment changes for the child: `None` removes the variable.
    pub env: Vec<(String, Option<String>)>,
    pub cwd: Option<PathBuf>,
    /// Longest message accepted from the server; a longer one is discarded as it streams in.
    /// 0: no limit. (A WebSocket message over the limit ends the connection instead: the
    /// WebSocket library cannot skip one.)
    pub max_line_bytes: usize,
    /// Sent as `Authorization: Bearer` in the WebSocket upgrade. Never printed.
    pub auth_token: Option<Secret>,
    /// PEM certificates trusted for `wss://` besides the built-in (webpki) roots.
    pub ca_file: Option<PathBuf>,
    /// Connecting, TLS and the WebSocket upgrade together must finish within this.
    pub connect_timeout: Duration,
    /// Pings on a remote connection, and when silence ends it.
    pub keepalive: Keepalive,
}

/// A remote connection sends a ping every `interval` (zero: never) and is ended when nothing
/// arrived for `interval + timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    pub interval: Duration,
    pub timeout: Duration,
}

/// A secret (the auth token): its `Debug` shows no content, so it never reaches a log or an
/// error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: String) -> Secret {
        Secret(secret)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

pub(crate) const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_KEEPALIVE: Keepalive =
    Keepalive { interval: Duration::from_secs(30), timeout: Duration::from_secs(20) };

impl Default for Settings {
    fn default() -> Self {
        Settings {
            endpoint: Endpoint::Stdio,
            codex_bin: None,
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            auth_token: None,
            ca_file: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            keepalive: DEFAULT_KEEPALIVE,
        }
    }
}

impl Settings {
    /// Settings of one kind of transport given for the other are refused rather than ignored:
    /// an environment meant for a spawned server (an API key, say) must not silently stay
    /// behind when the URL points elsewhere, nor a token or CA go unused. Tuning (timeouts,
    /// keepalive, limits) applies where it makes sense and is ignored elsewhere.
    pub fn check_consistent(&self) -> Result<()> {
        let conflict = |setting: &str, why: &str| {
            Err(Error::invalid_argument(format!(
                "options: {setting} {why} (url is {})",
                self.endpoint
            )))
        };
        if self.endpoint.is_remote() {
            let spawn_only = [
                (self.codex_bin.is_some(), "a codex binary (codex_options_set_codex_bin)"),
                (!self.args.is_empty(), "arguments (codex_options_add_arg/add_config)"),
                (!self.env.is_empty(), "environment variables (codex_options_set_env)"),
                (self.cwd.is_some(), "a working directory (codex_options_set_cwd)"),
            ];
            if let Some((_, what)) = spawn_only.iter().find(|(set, _)| *set) {
                return conflict(what, "only applies to a spawned app-server, not to a remote one");
            }
        } else if self.auth_token.is_some() {
            return conflict("an auth token", "only applies to ws://, wss:// and unix:// URLs");
        }
        if self.ca_file.is_some() && !self.endpoint.is_tls() {
            return conflict(
                "a CA file (codex_options_set_ca_file)",
                "only applies to wss:// URLs",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_token() {
        let settings = Settings {
            auth_token: Some(Secret::new("tok-SECRET-1234".into())),
            ..Settings::default()
        };
        let text = format!("{settings:?} {:?}", settings.auth_token);
        assert!(!text.contains("tok-SECRET-1234"), "{text}");
        assert!(text.contains("redacted"));
    }

    #[test]
    fn settings_for_the_other_transport_are_refused() {
        let ws = super::super::parse_url("ws://127.0.0.1:1").unwrap();
        let remote = Settings { endpoint: ws.clone(), ..Settings::default() };
        assert!(remote.check_consistent().is_ok());
        let with_bin = Settings { codex_bin: Some("/bin/codex".into()), ..remote.clone() };
        assert!(with_bin.check_consistent().unwrap_err().message.contains("codex binary"));
        let with_env = Settings { env: vec![("A".into(), Some("b".into()))], ..remote.clone() };
        assert!(with_env.check_consistent().unwrap_err().message.contains("environment"));
        let token = Some(Secret::new("t".into()));
        let stdio_token = Settings { auth_token: token.clone(), ..Settings::default() };
        assert!(stdio_token.check_consistent().unwrap_err().message.contains("auth token"));
        let ca = Settings { ca_file: Some("/ca.pem".into()), ..remote };
        assert!(ca.check_consistent().unwrap_err().message.contains("wss://"));
        let wss = super::super::parse_url("wss://h").unwrap();
        let ok = Settings {
            endpoint: wss,
            auth_token: token,
            ca_file: Some("/ca.pem".into()),
            ..Settings::default()
        };
        assert!(ok.check_consistent().is_ok());
    }
}
