//! How a client is started: the connection's settings (`transport::Settings`) and what the
//! layers above the transport use (timeouts, stream sizes, callback threads, client info).

pub use super::transport::{Endpoint, Keepalive, Secret, Settings};
use serde_json::{Map, Value};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    /// Where the app-server is and how to reach it (spawned or remote).
    pub transport: Settings,
    pub client_name: String,
    pub client_title: Option<String>,
    pub client_version: String,
    pub experimental_api: bool,
    /// Declares `capabilities.requiredHumanApproval` (codex 0.171): approvals of kind
    /// `humanCommand` may then come; only accept, decline and cancel answer them.
    pub required_human_approval: bool,
    /// Starting a client, from spawning or connecting to the answer to `initialize`, must finish
    /// within this (a remote connect also within `transport.connect_timeout`): a server that
    /// never answers `initialize` fails the start instead of holding it.
    pub start_timeout: Duration,
    /// Used by requests that do not give their own timeout; `None` waits forever.
    pub request_timeout: Option<Duration>,
    /// Size of the client stream; when full, its oldest events are dropped.
    pub client_stream_capacity: usize,
    /// How long a server request (approval, question) waits for the program's answer before it
    /// is answered fail-closed. Zero: answer fail-closed at once, never asking the program.
    pub server_request_timeout: Duration,
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
    /// How long a dropped WebSocket or Unix-socket connection is tried again (and its turns
    /// resumed) before everything fails; zero: never. Stdio never reconnects.
    pub reconnect_window: Duration,
    /// Asynchronous starts (pending requests, turns started without waiting) that may wait for
    /// their answer at once; a start beyond it is refused with `TooManyPending`.
    pub max_pending_requests: usize,
}

pub(crate) const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(15);
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const DEFAULT_SERVER_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
pub(crate) const DEFAULT_CLIENT_STREAM_CAPACITY: usize = 1024;
pub(crate) const DEFAULT_TURN_BUFFER_EVENTS: usize = 65_536;
pub(crate) const DEFAULT_MAX_PENDING_REQUESTS: usize = 10_000;
pub(crate) const DEFAULT_CONTROL_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const DEFAULT_RECONNECT_WINDOW: Duration = Duration::from_secs(30);

/// The number of CPUs, at least 2 (so one slow callback never holds every delivery).
fn default_callback_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}

impl Default for Options {
    fn default() -> Self {
        Options {
            transport: Settings::default(),
            client_name: "libcodex_app_server".to_owned(),
            client_title: None,
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
            experimental_api: false,
            required_human_approval: false,
            start_timeout: DEFAULT_START_TIMEOUT,
            request_timeout: Some(DEFAULT_REQUEST_TIMEOUT),
            client_stream_capacity: DEFAULT_CLIENT_STREAM_CAPACITY,
            server_request_timeout: DEFAULT_SERVER_REQUEST_TIMEOUT,
            turn_buffer_events: DEFAULT_TURN_BUFFER_EVENTS,
            control_timeout: DEFAULT_CONTROL_TIMEOUT,
            turn_idle_timeout: None,
            callback_threads: default_callback_threads(),
            reconnect_window: DEFAULT_RECONNECT_WINDOW,
            max_pending_requests: DEFAULT_MAX_PENDING_REQUESTS,
        }
    }
}

/// How long a request waits.
#[derive(Clone, Copy, Debug)]
pub enum Timeout {
    /// The client's default (`Options::request_timeout`).
    Default,
    Forever,
    After(Duration),
}

/// The `initialize` request's params: who this client is and what it asks for.
pub(crate) fn initialize_params(options: &Options) -> String {
    let mut info = Map::new();
    info.insert("name".into(), Value::String(options.client_name.clone()));
    if let Some(title) = &options.client_title {
        info.insert("title".into(), Value::String(title.clone()));
    }
    info.insert("version".into(), Value::String(options.client_version.clone()));
    let mut capabilities = serde_json::json!({ "experimentalApi": options.experimental_api });
    // Sent only when asked for: servers before 0.171 do not know it.
    if options.required_human_approval {
        capabilities["requiredHumanApproval"] = Value::Bool(true);
    }
    serde_json::json!({ "clientInfo": info, "capabilities": capabilities }).to_string()
}
