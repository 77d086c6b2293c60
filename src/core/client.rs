//! The client: start-up and handshake, generic requests, thread helpers, turn start, close.

use super::dispatch::{Callback, Dispatcher, Executor};
use super::error::{Error, ErrorKind, Result};
use super::event::Event;
use super::inbound::InboundRouter;
use super::options::Options;
use super::queue::{Taken, Wait};
use super::ready::{ReadySet, CLIENT_STREAM};
use super::requests::PendingRequests;
use super::router::Router;
use super::rpc::{notification_line, Rpc};
use super::transport::{OnFailure, Transport};
use super::turn::Turn;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long `close` lets the server exit after stdin closes before killing it.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// Shared by the client handle and every turn handle, so they may be freed in any order.
pub(crate) struct Shared {
    pub(crate) transport: Transport,
    pub(crate) rpc: Arc<Rpc>,
    pub(crate) router: Arc<Router>,
    pub(crate) pending: Arc<PendingRequests>,
    /// Delivers the client stream to the program's callback, when one is set.
    client_dispatcher: Mutex<Option<Dispatcher>>,
    /// Delivers server requests to the program's request handler, when one is set.
    request_dispatcher: Mutex<Option<Dispatcher>>,
    skipped_lines: Arc<AtomicU64>,
    failure: Arc<Mutex<Option<Error>>>,
    request_timeout: Option<Duration>,
    pub(crate) control_timeout: Duration,
    /// The worker threads that run this client's callbacks.
    pub(crate) callbacks: Arc<Executor>,
    /// What an event loop watches, once the program asked for it (`event_fd`).
    pub(crate) ready: Mutex<Option<Arc<ReadySet>>>,
    pub(crate) turn_idle_timeout: Option<Duration>,
    closed: AtomicBool,
}

/// How long a request waits.
#[derive(Clone, Copy, Debug)]
pub enum Timeout {
    /// The client's default (`Options::request_timeout`).
    Default,
    Forever,
    After(Duration),
}

pub struct Client {
    shared: Arc<Shared>,
    init_result: String,
}

impl Client {
    /// Spawns the app-server and completes the `initialize` / `initialized` handshake.
    pub fn start(options: &Options) -> Result<Client> {
        Self::start_observed(options, Arc::new(|| {}))
    }

    /// `start`, with `on_down` called (on a library thread) when the connection fails.
    pub(crate) fn start_observed(
        options: &Options,
        on_down: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Client> {
        let rpc = Arc::new(Rpc::default());
        let router =
            Arc::new(Router::new(options.client_stream_capacity, options.turn_buffer_events));
        let skipped_lines = Arc::new(AtomicU64::new(0));
        let failure = Arc::new(Mutex::new(None));
        let pending = PendingRequests::new(options.server_request_timeout);
        let inbound = InboundRouter {
            rpc: rpc.clone(),
            pending: pending.clone(),
            router: router.clone(),
            skipped_lines: skipped_lines.clone(),
            wakes: Default::default(),
        };
        let on_failure: OnFailure = {
            let (rpc, router, pending, failure) =
                (rpc.clone(), router.clone(), pending.clone(), failure.clone());
            Arc::new(move |error: Error| {
                let first = {
                    let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                    let first = slot.is_none();
                    slot.get_or_insert_with(|| error.clone());
                    first
                };
                pending.fail_all("the app-server is gone");
                rpc.fail_all(&error);
                router.fail_all(&error);
                on_down();
                // Logged last, outside every lock: a log callback may call back into the client,
                // which has failed by now.
                if first {
                    log::error!("the connection to codex app-server failed: {}", error.message);
                } else {
                    // The program closed the client: the server's end is expected.
                    log::debug!("after the close: {}", error.message);
                }
            })
        };
        let transport = Transport::start(options, inbound, on_failure).inspect_err(|e| {
            log::warn!("cannot start or reach codex app-server: {}", e.message);
        })?;
        pending.start(transport.writer());
        let shared = Arc::new(Shared {
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
            closed: AtomicBool::new(false),
        });
        let params = initialize_params(options);
        let init_result = match shared.call("initialize", Some(&params), Timeout::Default) {
            Ok(result) => result,
            Err(err) => {
                log::warn!("initialize failed: {}", err.message);
                shared.close();
                return Err(err);
            }
        };
        if let Err(err) = shared.transport.send(notification_line("initialized")) {
            shared.close();
            return Err(err);
        }
        log::info!("codex app-server initialized: {}", user_agent(&init_result));
        Ok(Client { shared, init_result })
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
        if method.is_empty() {
            return Err(Error::invalid_argument("method: must not be empty"));
        }
        // A turn started behind the router's back would escape the one-active-turn rule and
        // leave its events with nobody.
        if method == "turn/start" {
            return Err(Error::invalid_argument(
                "method: start turns with codex_turn_start (or its callback variant), which \
                 tracks the turn: one active turn per thread, its own event stream",
            ));
        }
        if let Some(p) = params {
            check_params_json(p, "params_json")?;
        }
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
        if thread_id.is_empty() {
            return Err(Error::invalid_argument("thread_id: must not be empty"));
        }
        let mut map = object_map(params, "params_json", &["threadId", "input"])?;
        map.insert("threadId".into(), Value::String(thread_id.to_owned()));
        map.insert("input".into(), input_items(input));
        let params = Value::Object(map).to_string();
        let queue = self.shared.router.begin_turn(thread_id)?;
        let result = match self.shared.call("turn/start", Some(&params), Timeout::Default) {
            Ok(result) => result,
            Err(err) => {
                self.shared.router.abandon_turn(thread_id, &queue);
                return Err(err);
            }
        };
        let turn_id = match turn_id_of(&result) {
            Ok(id) => id,
            Err(err) => {
                self.shared.router.abandon_turn(thread_id, &queue);
                return Err(err);
            }
        };
        self.shared.router.confirm_turn(thread_id, &queue, &turn_id);
        log::debug!("turn {turn_id} started on thread {thread_id}");
        Ok(Turn::new(self.shared.clone(), thread_id.to_owned(), turn_id, queue, callback))
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

/// The server's `userAgent` from the `initialize` result, for the log.
fn user_agent(init_result: &str) -> String {
    serde_json::from_str::<Value>(init_result)
        .ok()
        .and_then(|v| v.get("userAgent").and_then(Value::as_str).map(str::to_owned))
        .map_or_else(|| "(no userAgent)".to_owned(), |ua| format!("userAgent {ua}"))
}

impl Shared {
    pub(crate) fn call(
        &self,
        method: &str,
        params: Option<&str>,
        timeout: Timeout,
    ) -> Result<String> {
        let timeout = match timeout {
            Timeout::Default => self.request_timeout,
            Timeout::Forever => None,
            Timeout::After(d) => Some(d),
        };
        self.rpc.call(&self.transport, method, params, timeout)
    }

    pub(crate) fn ready_set(&self) -> Option<Arc<ReadySet>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Sends a request whose answer nobody waits for (an interrupt the library decides on).
    pub(crate) fn send_unanswered(&self, method: &str, params: &str) {
        let _ = self.transport.send(self.rpc.unanswered_line(method, Some(params)));
    }

    /// The error a finished stream reports: the transport's failure or the close.
    pub(crate) fn end_error(&self, end: super::queue::StreamEnd) -> Error {
        match end {
            super::queue::StreamEnd::Failed(err) => err,
            super::queue::StreamEnd::Completed => self
                .failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_else(|| Error::new(ErrorKind::Closed, "the stream has ended")),
        }
    }

    fn client_dispatcher(&self) -> std::sync::MutexGuard<'_, Option<Dispatcher>> {
        self.client_dispatcher.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops the dispatcher in `slot` (if any) and starts one delivering `queue` to `callback`.
    fn replace_dispatcher(
        &self,
        slot: &Mutex<Option<Dispatcher>>,
        queue: Arc<super::router::TurnQueue>,
        callback: Option<Callback>,
    ) -> Result<()> {
        let old = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut old) = old {
            old.stop();
        }
        let Some(callback) = callback else { return Ok(()) };
        if self.closed.load(Ordering::SeqCst) {
            return Err(self.end_error(super::queue::StreamEnd::Completed));
        }
        let dispatcher = Dispatcher::start(&self.callbacks, queue, callback, |_| {});
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(dispatcher);
        Ok(())
    }

    fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        let err = Error::new(ErrorKind::Closed, "the client was closed by the program");
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert_with(|| err.clone());
        // Declines go out before stdin closes.
        self.pending.fail_all("declined: the client was closed");
        self.rpc.fail_all(&err);
        self.router.fail_all(&err);
        self.transport.shutdown(CLOSE_GRACE);
        for slot in [&self.client_dispatcher, &self.request_dispatcher] {
            let dispatcher = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(mut dispatcher) = dispatcher {
                dispatcher.stop();
            }
        }
    }
}

fn initialize_params(options: &Options) -> String {
    let mut info = Map::new();
    info.insert("name".into(), Value::String(options.client_name.clone()));
    if let Some(title) = &options.client_title {
        info.insert("title".into(), Value::String(title.clone()));
    }
    info.insert("version".into(), Value::String(options.client_version.clone()));
    serde_json::json!({
        "clientInfo": info,
        "capabilities": { "experimentalApi": options.experimental_api },
    })
    .to_string()
}

/// Params must be valid JSON and, for JSON-RPC, an object or an array.
pub fn check_params_json(json: &str, name: &str) -> Result<()> {
    let raw: Box<RawValue> = serde_json::from_str(json)
        .map_err(|e| Error::invalid_argument(format!("{name}: invalid JSON: {e}")))?;
    match raw.get().trim_start().as_bytes().first() {
        Some(b'{') | Some(b'[') => Ok(()),
        _ => Err(Error::invalid_argument(format!("{name}: must be a JSON object or array"))),
    }
}

/// Optional object params, with keys the library sets itself refused.
fn object_map(params: Option<&str>, name: &str, reserved: &[&str]) -> Result<Map<String, Value>> {
    let Some(json) = params else {
        return Ok(Map::new());
    };
    let map = match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => map,
        Ok(Value::Null) => Map::new(),
        Ok(_) => return Err(Error::invalid_argument(format!("{name}: must be a JSON object"))),
        Err(e) => return Err(Error::invalid_argument(format!("{name}: invalid JSON: {e}"))),
    };
    if let Some(key) = reserved.iter().find(|k| map.contains_key(**k)) {
        return Err(Error::invalid_argument(format!(
            "{name}: must not contain \"{key}\"; it is set from its own argument"
        )));
    }
    Ok(map)
}

fn object_params(params: Option<&str>, name: &str, reserved: &[&str]) -> Result<String> {
    Ok(Value::Object(object_map(params, name, reserved)?).to_string())
}

/// Text becomes one text item; a JSON array is taken as the items themselves.
pub(crate) fn input_items(input: &str) -> Value {
    if input.trim_start().starts_with('[') {
        if let Ok(items @ Value::Array(_)) = serde_json::from_str::<Value>(input) {
            return items;
        }
    }
    serde_json::json!([{ "type": "text", "text": input }])
}

#[derive(Deserialize)]
struct IdHolder {
    id: String,
}

fn thread_id_of(result: &str, method: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct R {
        thread: IdHolder,
    }
    serde_json::from_str::<R>(result)
        .map(|r| r.thread.id)
        .map_err(|_| Error::protocol(format!("{method}: the result has no thread.id: {result}")))
}

fn turn_id_of(result: &str) -> Result<String> {
    #[derive(Deserialize)]
    struct R {
        turn: IdHolder,
    }
    serde_json::from_str::<R>(result)
        .map(|r| r.turn.id)
        .map_err(|_| Error::protocol(format!("turn/start: the result has no turn.id: {result}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_text_or_items() {
        assert_eq!(input_items("hi"), serde_json::json!([{"type":"text","text":"hi"}]));
        assert_eq!(
            input_items("[1] fix it"),
            serde_json::json!([{"type":"text","text":"[1] fix it"}])
        );
        let items = r#"[{"type":"localImage","path":"/a.png"}]"#;
        assert_eq!(input_items(items), serde_json::from_str::<Value>(items).unwrap());
    }

    #[test]
    fn params_are_checked() {
        assert!(check_params_json("{\"a\":1}", "p").is_ok());
        assert!(check_params_json("[]", "p").is_ok());
        assert_eq!(check_params_json("{", "p").unwrap_err().kind, ErrorKind::InvalidArgument);
        assert!(check_params_json("3", "p").unwrap_err().message.contains("object or array"));
        let err =
            object_map(Some(r#"{"threadId":"x"}"#), "params_json", &["threadId"]).unwrap_err();
        assert!(err.message.contains("threadId"));
        assert!(object_map(Some("[1]"), "params_json", &[]).is_err());
    }
}
