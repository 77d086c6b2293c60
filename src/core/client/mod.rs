//! The client: what a program does on one connection — generic requests, thread helpers,
//! turn start, the client stream, the event loop's ready list, close. Its turns (`turn`) and
//! their summaries (`turn_summary`) are the rooms beside it, and so are threads as resources
//! (`threads`) and the account and models (`account`).

mod account;
mod asynchronous;
mod attach;
pub mod pending;
pub mod starting;
pub mod threads;
pub mod turn;
pub mod turn_summary;

use super::connection::Connection;
pub use super::connection::Timeout;
use super::error::{Error, ErrorKind, Result};
use super::options::Options;
use super::protocol::params::{object_map, object_params, thread_id_of, turn_id_of};
use super::routing::dispatch::Callback;
use super::routing::event::Event;
use super::routing::queue::{Taken, Wait};
use super::routing::ready::{ReadySet, CLIENT_STREAM};
use super::transport::Cancel;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use turn::Turn;

pub struct Client {
    shared: Arc<Connection>,
    init_result: String,
    /// The bound of asynchronous starts waiting for their answer.
    in_flight: Arc<pending::InFlight>,
}

impl Client {
    /// Spawns the app-server and completes the `initialize` / `initialized` handshake.
    pub fn start(options: &Options) -> Result<Client> {
        Self::start_observed(options, Arc::new(|| {}), &Cancel::default())
    }

    /// `start`, with `on_down` called (on a library thread) when the connection fails, and
    /// ended early by `cancel`.
    pub(crate) fn start_observed(
        options: &Options,
        on_down: Arc<dyn Fn() + Send + Sync>,
        cancel: &Cancel,
    ) -> Result<Client> {
        let (shared, init_result) = Connection::start(options, on_down, cancel)?;
        let in_flight = pending::InFlight::new(options.max_pending_requests);
        Ok(Client { shared, init_result, in_flight })
    }

    /// Raw JSON of the `initialize` result (`userAgent`, `codexHome`, ...).
    pub fn initialize_result(&self) -> &str {
        &self.init_result
    }

    pub fn server_pid(&self) -> u32 {
        self.shared.transport.pid()
    }

    /// Sends any protocol method; `params` is raw JSON (an object or array) or `None`.
    pub fn request(&self, method: &str, params: Option<&str>, timeout: Timeout) -> Result<String> {
        asynchronous::check_request(method, params)?;
        self.shared.call(method, params, timeout)
    }

    /// `thread/start`; returns the new thread's id and the full result JSON.
    pub fn thread_start(&self, params: Option<&str>) -> Result<(String, String)> {
        let params = object_params(params, "params_json", &[])?;
        let result = self.shared.call("thread/start", Some(&params), Timeout::Default)?;
        let thread = thread_id_of(&result, "thread/start")?;
        log::debug!("thread {thread} started");
        Ok((thread, result))
    }

    /// `thread/resume` of `thread_id`; returns its id and the full result JSON.
    pub fn thread_resume(&self, thread_id: &str, params: Option<&str>) -> Result<(String, String)> {
        let mut map = object_map(params, "params_json", &["threadId"])?;
        map.insert("threadId".into(), Value::String(thread_id.to_owned()));
        let result = self.shared.call(
            "thread/resume",
            Some(&Value::Object(map).to_string()),
            Timeout::Default,
        )?;
        Ok((thread_id_of(&result, "thread/resume")?, result))
    }

    /// Starts a turn on `thread_id`. `input` is plain text, or a JSON array of input items when
    /// it is one. Events that arrive before the response are kept for the returned turn, or
    /// for `callback` when one is given (then `next_event` is not used).
    pub fn turn_start(
        &self,
        thread_id: &str,
        input: &str,
        params: Option<&str>,
        callback: Option<Callback>,
    ) -> Result<Turn> {
        let params = asynchronous::turn_start_params(thread_id, input, params)?;
        let router = &self.shared.router;
        let (queue, ids) = router.begin_turn(thread_id)?;
        // The answer is applied by the reader in its place among the lines, so that the events
        // around it are routed by what was known at their time (router's opening comment).
        let on_answer = router.start_answer_hook(thread_id, &queue);
        let answer =
            self.shared.call_then("turn/start", Some(&params), Timeout::Default, on_answer);
        // After a failed answer the reader has abandoned the start already; after a timeout or
        // a failed connection nobody has.
        let turn_id = answer.and_then(|result| turn_id_of(&result)).inspect_err(|_| {
            router.abandon_turn(thread_id, &queue);
        })?;
        log::debug!("turn {turn_id} started on thread {thread_id}");
        let turn = Turn::new(self.shared.clone(), thread_id.to_owned(), ids, queue, callback);
        Ok(turn.bounded_by(self.in_flight.clone()))
    }

    /// The next event of the client stream (events of no turn held by a handle).
    /// The stream ends with the transport's failure or the close.
    pub fn next_event(&self, wait: Wait) -> Result<Event> {
        if self.shared.client_dispatcher().is_some() {
            return Err(Error::invalid_argument(
                "client: its stream goes to the event callback; remove the callback to poll",
            ));
        }
        match self.shared.router.client_stream().take_one(wait) {
            Taken::Got(event) => Ok(event),
            Taken::TimedOut => Err(Error::new(ErrorKind::Timeout, "no client event in time")),
            Taken::Ended(end) => Err(self.shared.end_error(end)),
        }
    }

    /// Sends the client stream to `callback` (on the callback threads) instead of `next_event`;
    /// `None` removes it. A callback replaced or removed gets no call after this returns.
    pub fn set_event_callback(&self, callback: Option<Callback>) -> Result<()> {
        let stream = self.shared.router.client_stream().clone();
        self.shared.replace_dispatcher(&self.shared.client_dispatcher, stream, callback)
    }

    /// Also passes every server request, as its event, to `handler` on the callback threads:
    /// one place to decide them all. The request still appears in its stream; whatever the
    /// handler leaves unanswered follows the usual path. `None` removes the handler.
    pub fn set_request_handler(&self, handler: Option<Callback>) -> Result<()> {
        let router = &self.shared.router;
        router.set_handler_on(false);
        let queue = router.request_handler().clone();
        let on = handler.is_some();
        self.shared.replace_dispatcher(&self.shared.request_dispatcher, queue, handler)?;
        router.set_handler_on(on);
        Ok(())
    }

    /// Events dropped from the full client stream so far.
    pub fn dropped_events(&self) -> u64 {
        self.shared.router.client_stream().dropped()
    }

    /// A descriptor readable while a turn started from now on, or the client stream, has
    /// something to deliver (see `ReadySet`); made on the first call, owned by the client.
    pub fn event_fd(&self) -> Result<std::ffi::c_int> {
        let mut ready = self.shared.ready.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = ready.as_ref() {
            return Ok(set.fd());
        }
        let set = Arc::new(ReadySet::new()?);
        self.shared.router.client_stream().watch_ready(set.clone(), CLIENT_STREAM);
        let fd = set.fd();
        *ready = Some(set);
        Ok(fd)
    }

    /// The next ready stream's tag (`CLIENT_STREAM`, or the tag a turn was given with
    /// `Turn::report_ready_as`); `None` when nothing is ready.
    pub fn next_ready(&self) -> Result<Option<usize>> {
        match self.shared.ready_set() {
            Some(set) => Ok(set.next()),
            None => Err(Error::invalid_argument(
                "client: no event descriptor; call codex_client_event_fd first",
            )),
        }
    }

    /// Why the client no longer works (the transport's failure, or the close); `None` while it
    /// does.
    pub fn failure(&self) -> Option<Error> {
        self.shared.failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether the connection is up now: not failed, and not down while it is made again
    /// (`Options::reconnect_window`); its threads and turns survive such a gap.
    pub fn connected(&self) -> bool {
        self.failure().is_none() && self.shared.reconnect.is_up()
    }

    /// Threads of this client with a turn running or starting.
    pub fn active_turns(&self) -> usize {
        self.shared.router.active_turns()
    }

    /// Lines from the server that were not JSON-RPC messages, skipped so far.
    pub fn skipped_lines(&self) -> u64 {
        self.shared.skipped_lines.load(Ordering::Relaxed)
    }

    /// Closes the client: every waiter and turn wakes with `Closed`; the server is stopped.
    /// Idempotent.
    pub fn close(&self) {
        self.shared.close();
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.close();
    }
}
