//! One connection to an app-server and what lives on it: the transport, the request waiters
//! (`Rpc`), the routing of notifications (`Router`), the open server requests, the callback
//! workers and dispatchers, the event loop's ready set. It is started with the `initialize`
//! handshake and failed or closed as one. The client and every turn handle share it, so they
//! may be freed in any order.
//!
//! What a dropped transport does (reconnect and resume, or fail everything) is `reconnect`'s.

use super::error::{Error, ErrorKind, Result};
pub use super::options::Timeout;
use super::options::{initialize_params, Options};
use super::reconnect::{Link, Reconnector};
use super::routing::dispatch::{Callback, Dispatcher, Executor, Stopping};
use super::routing::queue::StreamEnd;
use super::routing::ready::ReadySet;
use super::routing::requests::PendingRequests;
use super::routing::router::{Router, TurnQueue};
use super::routing::rpc::{notification_line, Rpc};
use super::transport::{Cancel, Transport};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long `close` lets the server exit after stdin closes before killing it.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

pub(crate) struct Connection {
    pub(crate) transport: Transport,
    pub(crate) rpc: Arc<Rpc>,
    pub(crate) router: Arc<Router>,
    pub(crate) pending: Arc<PendingRequests>,
    /// Delivers the client stream to the program's callback, when one is set.
    pub(crate) client_dispatcher: Mutex<Option<Dispatcher>>,
    /// Delivers server requests to the program's request handler, when one is set.
    pub(crate) request_dispatcher: Mutex<Option<Dispatcher>>,
    pub(crate) skipped_lines: Arc<AtomicU64>,
    pub(crate) failure: Arc<Mutex<Option<Error>>>,
    request_timeout: Option<Duration>,
    pub(crate) control_timeout: Duration,
    /// The worker threads that run this client's callbacks.
    pub(crate) callbacks: Arc<Executor>,
    /// What an event loop watches, once the program asked for it (`event_fd`).
    pub(crate) ready: Mutex<Option<Arc<ReadySet>>>,
    pub(crate) turn_idle_timeout: Option<Duration>,
    /// What a failure of the transport does: reconnect and resume, or fail everything.
    pub(crate) reconnect: Arc<Reconnector>,
    closed: AtomicBool,
    /// The close has finished (the server stopped, the client-level callbacks halted), and
    /// those callbacks, which a later close waits for too.
    close_done: Mutex<Option<Vec<Stopping>>>,
    close_done_changed: Condvar,
}

impl Connection {
    /// Connects as `options` say and completes the `initialize` / `initialized` handshake
    /// within the start timeout; returns the connection and the raw `initialize` result.
    /// `on_down` is called (on a library thread) when the connection fails. `cancel` ends the
    /// start from another thread: the child is killed, the socket shut.
    pub(crate) fn start(
        options: &Options,
        on_down: Arc<dyn Fn() + Send + Sync>,
        cancel: &Cancel,
    ) -> Result<(Arc<Connection>, String)> {
        let deadline = Instant::now().checked_add(options.start_timeout);
        let started = Self::start_until(options, on_down, cancel, deadline);
        cancel.clear();
        // A step that failed because of the cancel reports the cancel.
        started.map_err(|e| cancel.check().err().unwrap_or(e))
    }

    fn start_until(
        options: &Options,
        on_down: Arc<dyn Fn() + Send + Sync>,
        cancel: &Cancel,
        deadline: Option<Instant>,
    ) -> Result<(Arc<Connection>, String)> {
        let reconnect = Reconnector::new(options, on_down);
        let (rpc, router, pending) =
            (reconnect.rpc.clone(), reconnect.router.clone(), reconnect.pending.clone());
        let (skipped_lines, failure) = (reconnect.skipped_lines.clone(), reconnect.failure.clone());
        let (inbound, on_failure) = (reconnect.inbound(), reconnect.on_failure(0));
        let transport = Transport::start(&options.transport, inbound, on_failure, cancel)
            .inspect_err(|e| {
                log::warn!("cannot start or reach codex app-server: {}", e.message);
            })?;
        pending.start(transport.writer());
        let shared = Arc::new(Connection {
            transport,
            rpc,
            router,
            pending,
            client_dispatcher: Mutex::new(None),
            request_dispatcher: Mutex::new(None),
            skipped_lines,
            failure,
            request_timeout: options.request_timeout,
            control_timeout: options.control_timeout,
            callbacks: Executor::new(options.callback_threads, "codex-callbacks"),
            ready: Mutex::new(None),
            turn_idle_timeout: options.turn_idle_timeout,
            reconnect,
            closed: AtomicBool::new(false),
            close_done: Mutex::new(None),
            close_done_changed: Condvar::new(),
        });
        let weak = Arc::downgrade(&shared);
        cancel.on_cancel(move || {
            if let Some(shared) = weak.upgrade() {
                shared.abandon(); // fails the `initialize` waiter
            }
        })?;
        let params = initialize_params(options);
        let wait = match deadline {
            Some(at) => Timeout::After(at.saturating_duration_since(Instant::now())),
            None => Timeout::Forever,
        };
        let init_result = match shared.call("initialize", Some(&params), wait) {
            Ok(result) => result,
            Err(err) => {
                let err = match err.kind {
                    ErrorKind::Timeout => Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the app-server did not answer `initialize` within the start \
                             timeout ({} ms; codex_options_set_start_timeout_ms)",
                            options.start_timeout.as_millis()
                        ),
                    ),
                    _ => err,
                };
                log::warn!("initialize failed: {}", err.message);
                shared.abandon();
                return Err(err);
            }
        };
        if let Err(err) = shared.transport.send(notification_line("initialized")) {
            shared.abandon();
            return Err(err);
        }
        let link: Arc<dyn Link> = shared.clone();
        shared.reconnect.started(Arc::downgrade(&link));
        log::info!("codex app-server initialized: {}", user_agent(&init_result));
        Ok((shared, init_result))
    }

    pub(crate) fn call(
        &self,
        method: &str,
        params: Option<&str>,
        timeout: Timeout,
    ) -> Result<String> {
        let result = self.rpc.call(&self.transport, method, params, self.timeout(timeout))?;
        self.reconnect.subscriptions.observe(method, params, &result);
        Ok(result)
    }

    /// `call`, with `on_answer` run by the reader thread on the response (see `Rpc::call_then`).
    pub(crate) fn call_then(
        &self,
        method: &str,
        params: Option<&str>,
        timeout: Timeout,
        on_answer: super::routing::rpc::OnAnswer,
    ) -> Result<String> {
        self.reconnect.subscriptions.check(method, params)?;
        let timeout = self.timeout(timeout);
        self.rpc.call_then(&self.transport, method, params, timeout, Some(on_answer))
    }

    pub(crate) fn timeout(&self, timeout: Timeout) -> Option<Duration> {
        match timeout {
            Timeout::Default => self.request_timeout,
            Timeout::Forever => None,
            Timeout::After(d) => Some(d),
        }
    }

    pub(crate) fn ready_set(&self) -> Option<Arc<ReadySet>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends a request whose answer nobody waits for (an interrupt the library decides on).
    pub(crate) fn send_unanswered(&self, method: &str, params: &str) {
        let _ = self.transport.send(self.rpc.unanswered_line(method, Some(params)));
    }

    /// The error a finished stream reports: the transport's failure or the close.
    pub(crate) fn end_error(&self, end: StreamEnd) -> Error {
        match end {
            StreamEnd::Failed(err) => err,
            StreamEnd::Completed => self
                .failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_else(|| Error::new(ErrorKind::Closed, "the stream has ended")),
        }
    }

    pub(crate) fn client_dispatcher(&self) -> std::sync::MutexGuard<'_, Option<Dispatcher>> {
        self.client_dispatcher.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops the dispatcher in `slot` (if any) and starts one delivering `queue` to `callback`.
    pub(crate) fn replace_dispatcher(
        &self,
        slot: &Mutex<Option<Dispatcher>>,
        queue: Arc<TurnQueue>,
        callback: Option<Callback>,
    ) -> Result<()> {
        let old = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut old) = old {
            old.stop();
        }
        let Some(callback) = callback else { return Ok(()) };
        // Checked under the slot's lock, which `close` takes after setting `closed`: a
        // dispatcher installed here is one the close finds and stops.
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if self.closed.load(Ordering::SeqCst) {
            return Err(self.end_error(StreamEnd::Completed));
        }
        *slot = Some(Dispatcher::start(&self.callbacks, queue, callback, |_| {}));
        Ok(())
    }

    /// Ends a connection whose start failed or was cancelled: its server has nothing to
    /// finish, so it is killed at once (a socket shut) instead of given `CLOSE_GRACE`.
    fn abandon(&self) {
        self.transport.shutdown(Duration::ZERO);
        self.close();
    }

    /// Closes the connection. Every close returns only once the server is stopped and no
    /// client-level callback (event callback, request handler) runs any more, so the client may
    /// be freed right after; a later close waits for an earlier one still under way. A close
    /// from inside a callback of this client waits for neither: the close or free it would wait
    /// for may itself be waiting for that callback to return.
    pub(crate) fn close(&self) {
        let in_callback = self.callbacks.on_worker_thread();
        if self.closed.swap(true, Ordering::SeqCst) {
            if !in_callback {
                self.wait_for_close();
            }
            return;
        }
        self.stop_everything();
        let dispatchers: Vec<Dispatcher> = [&self.client_dispatcher, &self.request_dispatcher]
            .into_iter()
            .filter_map(|slot| slot.lock().unwrap_or_else(|p| p.into_inner()).take())
            .collect();
        dispatchers.iter().for_each(Dispatcher::halt);
        let stopping = dispatchers.iter().map(Dispatcher::stopping).collect();
        *self.close_done.lock().unwrap_or_else(|p| p.into_inner()) = Some(stopping);
        self.close_done_changed.notify_all();
        // Each waits for its running call here, unless this close runs in a callback.
        drop(dispatchers);
    }

    /// For a close that found another under way: waits until it has finished, then for the
    /// client-level callbacks it halted.
    fn wait_for_close(&self) {
        let mut done = self.close_done.lock().unwrap_or_else(|p| p.into_inner());
        while done.is_none() {
            done = self.close_done_changed.wait(done).unwrap_or_else(|p| p.into_inner());
        }
        let stopping = done.clone().unwrap_or_default();
        drop(done);
        stopping.iter().for_each(Stopping::wait_idle);
    }

    /// Fails every waiter and stream with `Closed` and stops the server.
    fn stop_everything(&self) {
        let err = Error::new(ErrorKind::Closed, "the client was closed by the program");
        self.reconnect.close();
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(|| err.clone());
        self.rpc.fail_all(&err);
        // Turns end first: a decline below may let the server complete a turn, which must not
        // then end its handle with success while the close is under way.
        self.router.fail_all(&err);
        // Declines go out before stdin closes.
        self.pending.fail_all("declined: the client was closed");
        self.transport.shutdown(CLOSE_GRACE);
        self.reconnect.join();
    }
}

impl Link for Connection {
    fn transport(&self) -> &Transport {
        &self.transport
    }

    fn reconnector(&self) -> Arc<Reconnector> {
        self.reconnect.clone()
    }

    fn call(&self, method: &str, params: Option<&str>, timeout: Timeout) -> Result<String> {
        Connection::call(self, method, params, timeout)
    }

    fn call_then(
        &self,
        method: &str,
        params: Option<&str>,
        timeout: Timeout,
        on_answer: super::routing::rpc::OnAnswer,
    ) -> Result<String> {
        Connection::call_then(self, method, params, timeout, on_answer)
    }
}

/// The server's `userAgent` from the `initialize` result, for the log.
fn user_agent(init_result: &str) -> String {
    serde_json::from_str::<Value>(init_result)
        .ok()
        .and_then(|v| v.get("userAgent").and_then(Value::as_str).map(str::to_owned))
        .map_or_else(|| "(no userAgent)".to_owned(), |ua| format!("userAgent {ua}"))
}
