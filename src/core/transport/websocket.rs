//! The WebSocket transport: a remote `codex app-server` (`ws://`, `wss://`) or one on a Unix
//! socket (`unix://`), one JSON-RPC message per text frame. Two threads per connection:
//! - the reader owns a WebSocket over the stream's read half and hands each message to the
//!   `Inbound`. The pongs and close replies the library writes while reading reach the writer
//!   thread as whole frames (see `stream.rs`);
//! - the writer owns a second WebSocket (client role, so it masks) over the write half, used
//!   only to send: our messages, those forwarded frames, the keepalive pings and, when the
//!   program closes the client, a close frame.
//!
//! Failures are those of a dying process: a close frame, a dropped connection, a peer silent
//! past the keepalive, or a message over the size limit end the connection, and the reader
//! reports it once through `OnFailure` (waiters and turns fail with `Transport`).

use super::cancel::Cancel;
use super::settings::{Keepalive, Settings};
use super::socket::{self, Socket};
use super::stream::{Arrival, Control, ReadHalf, WriteHalf};
use super::threads::{join_until, spawn_named, IoThread};
use super::tls;
use super::url::{daemon_socket, Endpoint};
use super::{Inbound, Link, OnFailure, Writer};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::panic::panic_text;
use crossbeam_channel::{after, never, select, unbounded, Receiver};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::header::{HeaderValue, AUTHORIZATION};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tungstenite::{Message, WebSocket};

/// How long shutdown waits for the I/O threads once the socket is shut down.
const THREAD_EXIT_WAIT: Duration = Duration::from_secs(1);
/// Messages written before one flush, at most, when many are queued.
const WRITE_BATCH: usize = 256;

pub struct WebSocketLink {
    shared: Arc<Shared>,
    reader_done: Receiver<()>,
    threads: Mutex<Vec<IoThread>>,
}

/// What both threads and the link see.
struct Shared {
    /// The URL as messages show it.
    address: String,
    /// A clone kept to shut the connection down from any thread.
    socket: Socket,
    arrival: Arc<Arrival>,
    /// Why the writer ended the connection (keepalive, a write error), for the reader's report.
    reason: Mutex<Option<Error>>,
    /// The reader asked the writer to send a close frame and then shut the connection down.
    writer_closes: AtomicBool,
}

impl Shared {
    /// Ends the connection for `reason` (unless one was given already); the reader reports it.
    fn end(&self, reason: Error) {
        self.reason.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(reason);
        self.socket.shutdown();
    }

    fn transport_error(&self, message: impl std::fmt::Display) -> Error {
        Error::new(ErrorKind::Transport, format!("{}: {message}", self.address))
    }
}

/// Connects, upgrades to WebSocket within the connect timeout, and starts the two threads.
/// `cancel` ends it at once: the connect is abandoned, or the socket shut (TLS, the upgrade).
pub fn connect(
    settings: &Settings,
    queue: Receiver<Vec<u8>>,
    writer: Writer,
    mut inbound: impl Inbound,
    on_failure: OnFailure,
    cancel: &Cancel,
) -> Result<WebSocketLink> {
    let endpoint = &settings.endpoint;
    let address = endpoint.to_string();
    let deadline = Instant::now() + settings.connect_timeout;
    let unix_path: Option<PathBuf> = match endpoint {
        Endpoint::Unix { path: Some(path) } => Some(path.clone()),
        Endpoint::Unix { path: None } => Some(daemon_socket()?),
        _ => None,
    };
    // Checked before connecting, so a bad CA file is reported as such.
    let tls_config = match endpoint.is_tls() {
        true => Some(tls::client_config(settings.ca_file.as_deref())?),
        false => None,
    };
    let socket = socket::connect_or_cancel(endpoint, unix_path.as_deref(), deadline, cancel)?;
    let io_error = |e: std::io::Error| {
        Error::new(ErrorKind::Transport, format!("cannot connect to {address}: {e}"))
    };
    let to_shut = socket.try_clone().map_err(io_error)?;
    cancel.on_cancel(move || to_shut.shutdown())?;
    // A step that failed because of the cancel reports the cancel.
    let cancelled_or = |e: Error| cancel.check().err().unwrap_or(e);
    let left = deadline.saturating_duration_since(Instant::now());
    socket.set_timeout(Some(left)).map_err(io_error)?;
    let arrival = Arc::new(Arrival::new());
    let mut read_half = match (tls_config, endpoint) {
        (Some(config), Endpoint::Tcp { host, .. }) => {
            let (reader, writer) =
                tls::handshake(&socket, host, config, &address).map_err(cancelled_or)?;
            ReadHalf::tls(reader, WriteHalf::Tls(writer), arrival.clone())
        }
        _ => {
            let read = socket.try_clone().map_err(io_error)?;
            let write = socket.try_clone().map_err(io_error)?;
            ReadHalf::plain(read, WriteHalf::Plain(write), arrival.clone())
        }
    };
    read_half.set_deadline(Some(deadline));
    let config = ws_config(settings.max_line_bytes);
    let request = upgrade_request(endpoint, settings)?;
    let mut ws =
        upgrade(request, read_half, config, deadline, settings, &address).map_err(cancelled_or)?;
    socket.set_timeout(None).map_err(io_error)?;

    let (control_tx, control_rx) = unbounded();
    let write_half = ws.get_mut().go_live(control_tx).expect("the write half is still here");
    let out = WebSocket::from_raw_socket(write_half, Role::Client, Some(config));
    let shared = Arc::new(Shared {
        address,
        socket,
        arrival,
        reason: Mutex::new(None),
        writer_closes: AtomicBool::new(false),
    });
    let keepalive = settings.keepalive;
    let max_message = settings.max_line_bytes;
    let writer_thread = {
        let shared = shared.clone();
        spawn_named("codex-ws-writer", move || {
            write_loop(out, &queue, &control_rx, &shared, keepalive)
        })
    };
    let reader_thread = {
        let shared = shared.clone();
        spawn_named("codex-ws-reader", move || {
            inbound.reader_started();
            read_loop(ws, inbound, &writer, &shared, &on_failure, max_message)
        })
    };
    let reader_done = reader_thread.done.clone();
    log::info!("connected to {}", shared.address);
    Ok(WebSocketLink {
        shared,
        reader_done,
        threads: Mutex::new(vec![reader_thread, writer_thread]),
    })
}

impl Link for WebSocketLink {
    fn pid(&self) -> u32 {
        0
    }

    /// The writer's queue is closed already, so the writer sends a close frame and ends. Gives
    /// the server `grace` to answer it and close, then shuts the socket down.
    fn shutdown(&self, grace: Duration) {
        let _ = self.reader_done.recv_timeout(grace);
        self.shared.socket.shutdown();
        join_until(&self.threads, Instant::now() + THREAD_EXIT_WAIT);
    }
}

/// Limits on what the server sends: a message over `max_line_bytes` ends the connection (the
/// library cannot skip a message and go on); 0 sets none.
fn ws_config(max_line_bytes: usize) -> WebSocketConfig {
    let limit = (max_line_bytes > 0).then_some(max_line_bytes);
    let mut config = WebSocketConfig::default();
    config.max_message_size = limit;
    config.max_frame_size = limit;
    config
}

/// The upgrade request, with the token in `Authorization: Bearer` (marked sensitive).
fn upgrade_request(
    endpoint: &Endpoint,
    settings: &Settings,
) -> Result<tungstenite::handshake::client::Request> {
    // The URI only makes the request line and the Host header; a Unix socket has no host.
    let uri = match endpoint {
        Endpoint::Tcp { resource, .. } => {
            format!("ws://{}{resource}", endpoint.authority().unwrap_or_default())
        }
        _ => "ws://localhost/".to_owned(),
    };
    let mut request = uri.as_str().into_client_request().map_err(|e| {
        Error::invalid_argument(format!("url: not usable for a WebSocket request: {e}"))
    })?;
    if let Some(token) = &settings.auth_token {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| Error::invalid_argument("token: not valid in an HTTP header"))?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    Ok(request)
}

/// The HTTP upgrade, bounded by `deadline` (the read half's reads end there).
fn upgrade(
    request: tungstenite::handshake::client::Request,
    half: ReadHalf,
    config: WebSocketConfig,
    deadline: Instant,
    settings: &Settings,
    address: &str,
) -> Result<WebSocket<ReadHalf>> {
    let timed_out = || {
        Error::new(
            ErrorKind::Transport,
            format!(
                "{address}: no WebSocket upgrade answer within the connect timeout ({} ms)",
                settings.connect_timeout.as_millis()
            ),
        )
    };
    let mut attempt = tungstenite::client::client_with_config(request, half, Some(config));
    loop {
        match attempt {
            Ok((ws, _response)) => return Ok(ws),
            Err(HandshakeError::Interrupted(mid)) => {
                if Instant::now() >= deadline {
                    return Err(timed_out());
                }
                attempt = mid.handshake();
            }
            Err(HandshakeError::Failure(tungstenite::Error::Io(e)))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                return Err(timed_out())
            }
            Err(HandshakeError::Failure(e)) => return Err(upgrade_error(e, settings, address)),
        }
    }
}

fn upgrade_error(error: tungstenite::Error, settings: &Settings, address: &str) -> Error {
    let redact = |text: String| match &settings.auth_token {
        Some(token) if !token.expose().is_empty() => text.replace(token.expose(), "<redacted>"),
        _ => text,
    };
    match error {
        tungstenite::Error::Http(response) => {
            let status = response.status();
            if status.as_u16() == 401 || status.as_u16() == 403 {
                let token = match settings.auth_token {
                    Some(_) => "the auth token was not accepted",
                    None => "no auth token was sent; set one with codex_options_set_auth_token",
                };
                return Error::new(
                    ErrorKind::Auth,
                    format!("{address} refused the WebSocket upgrade with HTTP {status}: {token}"),
                );
            }
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(200)]).trim().to_owned())
                .filter(|b| !b.is_empty())
                .map(|b| format!(" ({})", redact(b)))
                .unwrap_or_default();
            Error::new(
                ErrorKind::Transport,
                format!("{address} refused the WebSocket upgrade with HTTP {status}{body}"),
            )
        }
        e => Error::new(
            ErrorKind::Transport,
            redact(format!("the WebSocket upgrade with {address} failed: {e}")),
        ),
    }
}

fn read_loop(
    mut ws: WebSocket<ReadHalf>,
    mut inbound: impl Inbound,
    writer: &Writer,
    shared: &Shared,
    on_failure: &OnFailure,
    max_message: usize,
) {
    // A bug while routing must not leave every waiter hanging: it ends the client like a
    // dropped connection would, with the panic's message.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        read_messages(&mut ws, &mut inbound, writer, shared, on_failure, max_message)
    }));
    let error = outcome.unwrap_or_else(|panic| {
        shared.socket.shutdown();
        Error::new(
            ErrorKind::Internal,
            format!("the reader thread failed: {}", panic_text(&*panic)),
        )
    });
    on_failure(error);
    // The connection is over. Shut it down here too, unless the writer was asked to send a
    // close frame first: a writer blocked on a peer that stopped reading would otherwise never
    // see its control queue end. Dropping the WebSocket drops that queue: the writer ends.
    if !shared.writer_closes.load(Ordering::SeqCst) {
        shared.socket.shutdown();
    }
}

/// Reads and hands over messages until the connection ends; returns why it ended.
fn read_messages(
    ws: &mut WebSocket<ReadHalf>,
    inbound: &mut impl Inbound,
    writer: &Writer,
    shared: &Shared,
    on_failure: &OnFailure,
    max_message: usize,
) -> Error {
    let mut closed_by_peer: Option<Error> = None;
    loop {
        let reply = match ws.read() {
            Ok(Message::Text(text)) => inbound.line(text.as_bytes()),
            Ok(Message::Binary(bytes)) => inbound.line(&bytes),
            Ok(Message::Close(frame)) => {
                // Fail everything now; the loop goes on only to send the close reply and see
                // the server close the connection.
                inbound.batch_end();
                let error = shared.transport_error(close_text(frame.as_ref()));
                on_failure(error.clone());
                closed_by_peer = Some(error);
                None
            }
            Ok(_) => None, // ping (answered by the library), pong, raw frame
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                inbound.batch_end();
                None
            }
            Err(e) => {
                inbound.batch_end();
                let given = shared.reason.lock().unwrap_or_else(|p| p.into_inner()).take();
                return closed_by_peer
                    .or(given)
                    .unwrap_or_else(|| read_error(e, ws, shared, max_message));
            }
        };
        if let Some(reply) = reply {
            // Fails only once the client is shut down, when nobody waits for it.
            let _ = writer.send(reply);
        }
    }
}

fn close_text(frame: Option<&CloseFrame>) -> String {
    match frame {
        Some(f) if !f.reason.is_empty() => format!(
            "the app-server closed the WebSocket connection (close code {}, reason: {})",
            u16::from(f.code),
            f.reason.as_str()
        ),
        Some(f) => format!(
            "the app-server closed the WebSocket connection (close code {}, no reason given)",
            u16::from(f.code)
        ),
        None => "the app-server closed the WebSocket connection (no close code)".to_owned(),
    }
}

/// Describes a read error; a message over the limit also gets a close frame saying so.
fn read_error(
    error: tungstenite::Error,
    ws: &mut WebSocket<ReadHalf>,
    shared: &Shared,
    max_message: usize,
) -> Error {
    use tungstenite::error::{CapacityError, ProtocolError};
    match error {
        tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, .. }) => {
            let text = format!(
                "a message of {size} bytes is over the limit of {max_message} bytes \
                 (codex_options_set_max_line_bytes); a WebSocket connection cannot skip a \
                 message, so it was closed"
            );
            if let Some(control) = ws.get_ref().control() {
                shared.writer_closes.store(true, Ordering::SeqCst);
                let _ = control.send(Control::Close(CloseFrame {
                    code: CloseCode::Size,
                    reason: "message too big".into(),
                }));
            }
            shared.transport_error(text)
        }
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake)
        | tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed => shared.transport_error(
            "the connection was closed without a close frame (the app-server died or the \
             network dropped it)",
        ),
        tungstenite::Error::Io(e) => shared.transport_error(format!("the connection failed: {e}")),
        e => shared.transport_error(format!("the connection failed: {e}")),
    }
}

/// Why the writer loop woke.
enum Wake {
    Message(Option<Vec<u8>>),
    Control(Option<Control>),
    Timer,
}

fn write_loop(
    mut ws: WebSocket<WriteHalf>,
    queue: &Receiver<Vec<u8>>,
    control: &Receiver<Control>,
    shared: &Shared,
    keepalive: Keepalive,
) {
    let interval = keepalive.interval;
    let silence_limit = interval + keepalive.timeout;
    let mut next_ping = Instant::now() + interval;
    loop {
        let timer = if interval.is_zero() {
            never()
        } else {
            let due = next_ping.min(shared.arrival.last() + silence_limit);
            after(due.saturating_duration_since(Instant::now()))
        };
        let wake = select! {
            recv(queue) -> m => Wake::Message(m.ok()),
            recv(control) -> c => Wake::Control(c.ok()),
            recv(timer) -> _ => Wake::Timer,
        };
        let written = match wake {
            Wake::Message(Some(first)) => write_messages(&mut ws, first, queue),
            Wake::Message(None) => {
                // The program closed the client: say goodbye; the link waits for the answer.
                let _ = ws.close(Some(CloseFrame { code: CloseCode::Normal, reason: "".into() }));
                let _ = ws.flush();
                return;
            }
            Wake::Control(Some(Control::Frames(frames))) => {
                ws.get_mut().write_all(&frames).map_err(Into::into)
            }
            Wake::Control(Some(Control::FlushTls)) => ws.get_mut().flush_tls().map_err(Into::into),
            Wake::Control(Some(Control::Close(frame))) => {
                let _ = ws.close(Some(frame));
                let _ = ws.flush();
                shared.socket.shutdown();
                return;
            }
            Wake::Control(None) => {
                // The reader ended (and reported why): end the connection.
                shared.socket.shutdown();
                return;
            }
            Wake::Timer => {
                let now = Instant::now();
                let silent = now.saturating_duration_since(shared.arrival.last());
                if silent >= silence_limit {
                    shared.end(shared.transport_error(format!(
                        "nothing arrived for {} ms, so the keepalive gave up (a ping every {} ms, \
                         {} ms to answer; codex_options_set_keepalive_ms) and the connection was \
                         shut down",
                        silent.as_millis(),
                        interval.as_millis(),
                        keepalive.timeout.as_millis()
                    )));
                    return;
                }
                if now >= next_ping {
                    next_ping = now + interval;
                    ws.send(Message::Ping(Default::default()))
                } else {
                    Ok(())
                }
            }
        };
        if let Err(e) = written {
            shared.end(shared.transport_error(format!("writing failed: {e}")));
            return;
        }
    }
}

/// Writes `first` and whatever else is queued (up to a batch), then flushes once.
fn write_messages(
    ws: &mut WebSocket<WriteHalf>,
    first: Vec<u8>,
    queue: &Receiver<Vec<u8>>,
) -> tungstenite::Result<()> {
    ws.write(text_message(first))?;
    for _ in 1..WRITE_BATCH {
        match queue.try_recv() {
            Ok(more) => ws.write(text_message(more))?,
            Err(_) => break,
        }
    }
    ws.flush()
}

/// Our messages are JSON, so UTF-8; a text frame each.
fn text_message(bytes: Vec<u8>) -> Message {
    match String::from_utf8(bytes) {
        Ok(text) => Message::text(text),
        Err(e) => Message::text(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}
