//! What happens when the connection fails: for a WebSocket or Unix socket with a reconnect
//! window, the connection is made again and its threads are resumed; else,
//! or once the window has run out, every waiter and stream fails.
//!
//! A drop, in order: the transport refuses new messages (they fail with `Transport`, "not
//! sent"); the requests in flight fail ("the server may have acted on it"); the client stream
//! gets `codex/disconnected`. Then attempts with backoff, each one a new transport on its own
//! (the routing state — turn table, open server requests — is the old one's, so the reader of
//! the new connection routes into it from its first line), `initialize` on it, and only then it
//! is adopted as the connection's link; then `thread/resume` of each thread the connection was
//! subscribed to (`subscriptions`; `resume` turns the snapshot of each thread with a turn handle
//! into events), and `codex/reconnected` on the client stream.
//! When the window runs out: `codex/reconnectFailed`, and everything fails as without a window.

mod resume;
mod subscriptions;

use super::error::{Error, ErrorKind, Result};
use super::options::{initialize_params, Endpoint, Options, Timeout};
use super::routing::event::{Event, EventKind, EventParts};
use super::routing::inbound::InboundRouter;
use super::routing::requests::PendingRequests;
use super::routing::router::{Router, Wakes};
use super::routing::rpc::{notification_line, OnAnswer, Rpc};
use super::transport::{Cancel, OnFailure, Transport};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use subscriptions::Subscriptions;

/// The first pause between attempts; it doubles up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What the reconnect needs of the connection it serves. The connection implements it and
/// holds the reconnector; the reconnector knows the connection only through this (a weak
/// reference), so neither module imports the other.
pub(crate) trait Link: Send + Sync {
    /// Suspended on a drop; given the new link once it is up.
    fn transport(&self) -> &Transport;
    /// The reconnector this connection holds.
    fn reconnector(&self) -> Arc<Reconnector>;
    fn call(&self, method: &str, params: Option<&str>, timeout: Timeout) -> Result<String>;
    fn call_then(
        &self,
        method: &str,
        params: Option<&str>,
        timeout: Timeout,
        on_answer: OnAnswer,
    ) -> Result<String>;
}

/// The connection's routing state and what a failure does to it.
pub(crate) struct Reconnector {
    pub(crate) rpc: Arc<Rpc>,
    pub(crate) router: Arc<Router>,
    pub(crate) pending: Arc<PendingRequests>,
    pub(crate) skipped_lines: Arc<AtomicU64>,
    pub(crate) failure: Arc<Mutex<Option<Error>>>,
    on_down: Arc<dyn Fn() + Send + Sync>,
    options: Options,
    /// Zero: no reconnecting (stdio, or turned off).
    window: Duration,
    connection: OnceLock<Weak<dyn Link>>,
    state: Mutex<State>,
    changed: Condvar,
    /// Ends a connect in progress when the client closes.
    cancel: Cancel,
    /// The threads to resume after a reconnect.
    pub(crate) subscriptions: Subscriptions,
}

#[derive(Default)]
struct State {
    /// The epoch of the adopted link; each transport's failure hook knows its own.
    current: u64,
    /// The epoch of the link being tried, and whether it died already.
    attempt: u64,
    attempt_dead: bool,
    /// The connection is up (after the first `initialize`); before that a failure fails the start.
    started: bool,
    /// A reconnect loop runs; a drop meanwhile makes it go round again.
    reconnecting: Option<JoinHandle<()>>,
    dropped_again: Option<Error>,
    /// The epoch whose failure was handled last.
    handled: Option<u64>,
    /// The connection dropped and is not adopted again yet.
    down: bool,
    /// Failed for good (the close, or the window ran out).
    finished: bool,
    closed: bool,
}

impl Reconnector {
    pub(crate) fn new(options: &Options, on_down: Arc<dyn Fn() + Send + Sync>) -> Arc<Reconnector> {
        let window = match options.transport.endpoint {
            Endpoint::Stdio => Duration::ZERO,
            _ => options.reconnect_window,
        };
        Arc::new(Reconnector {
            rpc: Arc::new(Rpc::default()),
            router: Arc::new(Router::new(
                options.client_stream_capacity,
                options.turn_buffer_events,
            )),
            pending: PendingRequests::new(options.server_request_timeout),
            skipped_lines: Arc::new(AtomicU64::new(0)),
            failure: Arc::new(Mutex::new(None)),
            on_down,
            options: options.clone(),
            window,
            connection: OnceLock::new(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            cancel: Cancel::default(),
            subscriptions: Subscriptions::default(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What the reader of a new transport routes with: the shared state.
    pub(crate) fn inbound(&self) -> InboundRouter {
        InboundRouter {
            rpc: self.rpc.clone(),
            pending: self.pending.clone(),
            router: self.router.clone(),
            skipped_lines: self.skipped_lines.clone(),
            wakes: Default::default(),
        }
    }

    /// The failure hook of the transport of `epoch`.
    pub(crate) fn on_failure(self: &Arc<Self>, epoch: u64) -> OnFailure {
        let this = Arc::downgrade(self);
        Arc::new(move |error: Error| {
            if let Some(this) = this.upgrade() {
                this.transport_failed(epoch, error);
            }
        })
    }

    /// Neither down nor failed for good.
    pub(crate) fn is_up(&self) -> bool {
        let state = self.state();
        !state.down && !state.finished
    }

    /// The handshake is done: from now on a drop may be reconnected.
    pub(crate) fn started(&self, connection: Weak<dyn Link>) {
        let _ = self.connection.set(connection);
        self.state().started = true;
    }

    fn transport_failed(self: &Arc<Self>, epoch: u64, error: Error) {
        let mut state = self.state();
        if epoch != state.current {
            // An attempt's link died during its handshake: its `initialize` fails now.
            if epoch == state.attempt {
                state.attempt_dead = true;
                drop(state);
                self.rpc.fail_in_flight(&format!("the new connection dropped: {}", error.message));
            }
            return;
        }
        // A reader may report its end twice: the first report decides.
        if state.handled == Some(epoch) {
            return;
        }
        state.handled = Some(epoch);
        let reconnectable = state.started
            && !state.closed
            && !state.finished
            && !self.window.is_zero()
            && error.kind == ErrorKind::Transport;
        if !reconnectable {
            drop(state);
            self.fail_everything(error);
            return;
        }
        if state.reconnecting.is_some() {
            // Dropped again while resuming (or the reader's second report): the loop goes on.
            let why = format!("the connection dropped again: {}", error.message);
            state.dropped_again.get_or_insert(error);
            drop(state);
            self.changed.notify_all();
            // The loop's `thread/resume` calls (and the program's) would wait for nothing.
            self.rpc.fail_in_flight(&why);
            return;
        }
        let (this, first) = (self.clone(), error.clone());
        let thread = std::thread::Builder::new()
            .name("codex-reconnect".into())
            .spawn(move || this.reconnect(first));
        match thread {
            Ok(handle) => state.reconnecting = Some(handle),
            Err(e) => {
                drop(state);
                let message = format!("{} (and no thread to reconnect: {e})", error.message);
                self.fail_everything(Error::new(ErrorKind::Transport, message));
            }
        }
    }

    /// Fails every waiter and stream with `error`, as a connection without reconnecting does.
    pub(crate) fn fail_everything(&self, error: Error) {
        let first = {
            let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
            let first = slot.is_none();
            slot.get_or_insert_with(|| error.clone());
            first
        };
        self.state().finished = true;
        self.pending.fail_all("the app-server is gone");
        self.rpc.fail_all(&error);
        self.router.fail_all(&error);
        (self.on_down)();
        // Logged last, outside every lock: a log callback may call back into the client,
        // which has failed by now.
        if first {
            log::error!("the connection to codex app-server failed: {}", error.message);
        } else {
            // The program closed the client: the server's end is expected.
            log::debug!("after the close: {}", error.message);
        }
    }

    /// The client is closing: no attempt is made any more, one in progress ends. Joins the
    /// reconnect thread, unless called from it.
    pub(crate) fn close(&self) {
        self.state().closed = true;
        self.cancel.cancel();
        self.changed.notify_all();
    }

    /// After the close has failed every waiter: the reconnect thread ends soon; waits for it.
    pub(crate) fn join(&self) {
        let thread = self.state().reconnecting.take();
        if let Some(thread) = thread {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }

    /// The reconnect thread: goes round until the connection is back and resumed with no drop
    /// meanwhile, the window runs out, or the client closes.
    fn reconnect(self: Arc<Self>, mut error: Error) {
        let Some(connection) = self.connection.get().and_then(Weak::upgrade) else {
            self.fail_everything(error);
            return;
        };
        loop {
            match self.reconnect_once(&*connection, &error) {
                Ok(()) => {}
                Err(Some(gave_up)) => {
                    self.client_event(EventKind::ReconnectFailed, "codex/reconnectFailed", &{
                        serde_json::json!({ "reason": gave_up.message }).to_string()
                    });
                    self.fail_everything(gave_up);
                    break;
                }
                Err(None) => break, // closed
            }
            let mut state = self.state();
            match state.dropped_again.take() {
                Some(again) => error = again,
                None => {
                    // Ended here, under the lock: a drop from now on starts a new loop.
                    state.reconnecting = None;
                    break;
                }
            }
        }
    }

    /// One drop: suspend, connect again within the window, resume. `Err(None)` when closed.
    fn reconnect_once(
        &self,
        connection: &dyn Link,
        error: &Error,
    ) -> std::result::Result<(), Option<Error>> {
        self.state().down = true;
        let down_since = Instant::now();
        let deadline = down_since + self.window;
        let window_ms = self.window.as_millis();
        connection.transport().suspend(Error::new(
            ErrorKind::Transport,
            format!(
                "not sent: the connection to the app-server is down ({}); reconnecting \
                 (codex_options_set_reconnect_window_ms {window_ms})",
                error.message
            ),
        ));
        self.rpc.fail_in_flight(&format!(
            "the connection to the app-server dropped before the answer came ({}): the server \
             may have acted on it",
            error.message
        ));
        log::warn!("the connection to codex app-server dropped: {}; reconnecting", error.message);
        let params = serde_json::json!({ "reason": error.message, "windowMs": window_ms });
        self.client_event(EventKind::Disconnected, "codex/disconnected", &params.to_string());
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0u32;
        let mut last;
        loop {
            if self.state().closed {
                return Err(None);
            }
            attempts += 1;
            match self.attempt(connection, deadline) {
                Ok(()) => break,
                Err(e) => last = e.message,
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Some(Error::new(
                    ErrorKind::Transport,
                    format!(
                        "the connection to the app-server dropped ({}) and could not be made \
                         again within the reconnect window of {window_ms} ms \
                         (codex_options_set_reconnect_window_ms; {attempts} attempts, the last: \
                         {last})",
                        error.message
                    ),
                )));
            }
            let pause = backoff.min(deadline - now);
            backoff = (backoff * 2).min(MAX_BACKOFF);
            let state = self.state();
            let _ = self.changed.wait_timeout_while(state, pause, |s| !s.closed);
        }
        let resumed = self.resume_all(connection);
        let params = serde_json::json!({
            "attempts": attempts,
            "downMs": down_since.elapsed().as_millis(),
            "threads": resumed,
        });
        log::info!("reconnected to codex app-server after {attempts} attempts");
        self.client_event(EventKind::Reconnected, "codex/reconnected", &params.to_string());
        Ok(())
    }

    /// One connect, `initialize`, adopt. An error names what failed.
    fn attempt(&self, connection: &dyn Link, deadline: Instant) -> Result<()> {
        let epoch = {
            let mut state = self.state();
            state.attempt += 1;
            state.attempt = state.attempt.max(state.current + 1);
            state.attempt_dead = false;
            state.attempt
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let mut settings = self.options.transport.clone();
        settings.connect_timeout = settings.connect_timeout.min(left).max(Duration::from_millis(1));
        let this = connection.reconnector();
        let next =
            Transport::start(&settings, self.inbound(), this.on_failure(epoch), &self.cancel);
        self.cancel.clear();
        let next = next?;
        let wait = self.options.start_timeout.min(left).max(Duration::from_millis(1));
        let params = initialize_params(&self.options);
        let handshake = self
            .rpc
            .call(&next, "initialize", Some(&params), Some(wait))
            .and_then(|_| next.send(notification_line("initialized")));
        if let Err(e) = handshake {
            next.shutdown(Duration::ZERO);
            return Err(e);
        }
        {
            let mut state = self.state();
            if state.attempt_dead || state.closed {
                drop(state);
                next.shutdown(Duration::ZERO);
                return Err(Error::new(ErrorKind::Transport, "the new connection dropped"));
            }
            state.current = epoch;
            state.down = false;
        }
        if let Err(next) = connection.transport().adopt(next) {
            next.shutdown(Duration::ZERO);
            return Err(Error::new(ErrorKind::Closed, "the client was closed"));
        }
        Ok(())
    }

    /// Puts one event made by this library on the client stream.
    fn client_event(&self, kind: EventKind, method: &str, params: &str) {
        let event = Event::new(kind, &EventParts { method, params, ..Default::default() });
        let mut wakes = Wakes::new();
        self.router.route(event, false, &mut wakes);
        wakes.iter().for_each(|q| q.wake());
    }
}
