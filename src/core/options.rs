//! How a client is started.

use super::error::{Error, Result};
pub use super::transport::Endpoint;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    /// The codex binary; `None` tries `$CODEX_BIN`, then `codex` on PATH.
    pub codex_bin: Option<PathBuf>,
    /// Arguments before the `app-server` subcommand (e.g. `-c`, `key=value`).
    pub args: Vec<String>,
    /// Environment changes for the child: `None` removes the variable.
    pub env: Vec<(String, Option<String>)>,
    pub cwd: Option<PathBuf>,
    pub client_name: String,
    pub client_title: Option<String>,
    pub client_version: String,
    pub experimental_api: bool,
    /// Used by requests that do not give their own timeout; `None` waits forever.
    pub request_timeout: Option<Duration>,
    /// Size of the client stream; when full, its oldest events are dropped.
    pub client_stream_capacity: usize,
    /// How long a server request (approval, question) waits for the program's answer before it
    /// is answered fail-closed. Zero: answer fail-closed at once, never asking the program.
    pub server_request_timeout: Duration,
    /// Longest message accepted from the server; a longer one is discarded as it streams in.
    /// 0: no limit. (A WebSocket message over the limit ends the connection instead: the
    /// WebSocket library cannot skip one.)
    pub max_line_bytes: usize,
    /// Unconsumed events after which a turn fails with `Overflow` and is interrupted; 0: no
    /// limit.
    pub turn_buffer_events: usize,
    /// The timeout of steer and interrupt, which a user waits on interactively.
    pub control_timeout: Duration,
    /// A turn that receives nothing for this long fails with `Timeout` and is interrupted.
    pub turn_idle_timeout: Option<Duration>,
    /// Library threads that run callbacks (turns with a callback, the client's event callback
    /// and request handler); started on first use.
    pub callback_threads: usize,
    /// Where the app-server is: spawned (`Stdio`, the default) or remote.
    pub endpoint: Endpoint,
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

pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const DEFAULT_SERVER_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
pub(crate) const DEFAULT_CLIENT_STREAM_CAPACITY: usize = 1024;
pub(crate) const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;
pub(crate) const DEFAULT_TURN_BUFFER_EVENTS: usize = 65_536;
pub(crate) const DEFAULT_CONTROL_TIMEOUT: Duration = Duration::from_secs(10);

/// The number of CPUs, at least 2 (so one slow callback never holds every delivery).
fn default_callback_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_KEEPALIVE: Keepalive =
    Keepalive { interval: Duration::from_secs(30), timeout: Duration::from_secs(20) };

impl Default for Options {
    fn default() -> Self {
        Options {
            codex_bin: None,
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            client_name: "libcodex_app_server".to_owned(),
            client_title: None,
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
            experimental_api: false,
            request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            client_stream_capacity: DEFAULT_CLIENT_STREAM_CAPACITY,
            server_request_timeout: DEFAULT_SERVER_REQUEST_TIMEOUT,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            turn_buffer_events: DEFAULT_TURN_BUFFER_EVENTS,
            control_timeout: DEFAULT_CONTROL_TIMEOUT,
            turn_idle_timeout: None,
            callback_threads: default_callback_threads(),
            endpoint: Endpoint::Stdio,
            auth_token: None,
            ca_file: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            keepalive: DEFAULT_KEEPALIVE,
        }
    }
}

impl Options {
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
        let options = Options {
            auth_token: Some(Secret::new("tok-SECRET-1234".into())),
            ..Options::default()
        };
        let text = format!("{options:?} {:?}", options.auth_token);
        assert!(!text.contains("tok-SECRET-1234"), "{text}");
        assert!(text.contains("redacted"));
    }

    #[test]
    fn settings_for_the_other_transport_are_refused() {
        let ws = super::super::transport::parse_url("ws://127.0.0.1:1").unwrap();
        let remote = Options { endpoint: ws.clone(), ..Options::default() };
        assert!(remote.check_consistent().is_ok());
        let with_bin = Options { codex_bin: Some("/bin/codex".into()), ..remote.clone() };
        assert!(with_bin.check_consistent().unwrap_err().message.contains("codex binary"));
        let with_env = Options { env: vec![("A".into(), Some("b".into()))], ..remote.clone() };
        assert!(with_env.check_consistent().unwrap_err().message.contains("environment"));
        let token = Some(Secret::new("t".into()));
        let stdio_token = Options { auth_token: token.clone(), ..Options::default() };
        assert!(stdio_token.check_consistent().unwrap_err().message.contains("auth token"));
        let ca = Options { ca_file: Some("/ca.pem".into()), ..remote };
        assert!(ca.check_consistent().unwrap_err().message.contains("wss://"));
        let wss = super::super::transport::parse_url("wss://h").unwrap();
        let ok = Options {
            endpoint: wss,
            auth_token: token,
            ca_file: Some("/ca.pem".into()),
            ..Options::default()
        };
        assert!(ok.check_consistent().is_ok());
    }
}
