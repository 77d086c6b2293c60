//! The client's starts that return at once: the generic request, thread start and resume as
//! `Pending` requests, and a turn start that hands back the turn before its `turn/start` answer
//! (the turn's stream keeps what arrives meanwhile, and ends with the error if the start fails).

use super::pending::{any_result, start_request, Pending};
use super::turn::Turn;
use super::{Client, Timeout};
use crate::core::error::{Error, Result};
use crate::core::protocol::params::{
    check_params_json, input_items, object_map, object_params, thread_id_of, turn_id_of,
};
use crate::core::routing::dispatch::Callback;
use crate::core::routing::queue::StreamEnd;
use serde_json::Value;

/// A thread start or resume result must name the thread, as the blocking forms require.
fn names_a_thread(result: &str, method: &str) -> Result<()> {
    thread_id_of(result, method).map(drop)
}

impl Client {
    /// `request` without waiting: the answer completes the returned `Pending`.
    pub fn request_async(
        &self,
        method: &str,
        params: Option<&str>,
        timeout: Timeout,
    ) -> Result<Pending> {
        check_request(method, params)?;
        Pending::start(&self.shared, &self.in_flight, method, params, timeout, any_result)
    }

    /// `thread_start` without waiting; the result JSON holds the id at `/thread/id`.
    pub fn thread_start_async(&self, params: Option<&str>) -> Result<Pending> {
        let params = object_params(params, "params_json", &[])?;
        let (shared, limit) = (&self.shared, &self.in_flight);
        Pending::start(
            shared,
            limit,
            "thread/start",
            Some(&params),
            Timeout::Default,
            names_a_thread,
        )
    }

    /// `thread_resume` without waiting.
    pub fn thread_resume_async(&self, thread_id: &str, params: Option<&str>) -> Result<Pending> {
        if thread_id.is_empty() {
            return Err(Error::invalid_argument("thread_id: must not be empty"));
        }
        let mut map = object_map(params, "params_json", &["threadId"])?;
        map.insert("threadId".into(), Value::String(thread_id.to_owned()));
        let params = Value::Object(map).to_string();
        let (shared, limit) = (&self.shared, &self.in_flight);
        Pending::start(
            shared,
            limit,
            "thread/resume",
            Some(&params),
            Timeout::Default,
            names_a_thread,
        )
    }

    /// Starts a turn without waiting for the `turn/start` answer. The turn is returned at once;
    /// its id is empty until the answer (or its first event) names it. A start the server
    /// refuses, or that fails or times out, ends the turn's stream with that error.
    pub fn turn_start_async(
        &self,
        thread_id: &str,
        input: &str,
        params: Option<&str>,
        callback: Option<Callback>,
    ) -> Result<Turn> {
        let params = turn_start_params(thread_id, input, params)?;
        let router = &self.shared.router;
        let (queue, ids) = router.begin_turn(thread_id)?;
        let on_answer = router.start_answer_hook(thread_id, &queue);
        let (failing, thread, ending) = (router.clone(), thread_id.to_owned(), queue.clone());
        let done = Box::new(move |outcome: Result<String>| {
            // A good answer was applied by `on_answer` in its place among the lines.
            if let Err(err) = outcome.and_then(|result| turn_id_of(&result)) {
                log::debug!("turn start on thread {thread} failed: {}", err.message);
                failing.abandon_turn(&thread, &ending);
                ending.finish(StreamEnd::Failed(err));
            }
        });
        let limit = &self.in_flight;
        let started = start_request(
            &self.shared,
            limit,
            "turn/start",
            Some(&params),
            Timeout::Default,
            Some(on_answer),
            done,
        );
        if let Err(err) = started {
            router.abandon_turn(thread_id, &queue);
            return Err(err);
        }
        let turn = Turn::new(self.shared.clone(), thread_id.to_owned(), ids, queue, callback);
        Ok(turn.bounded_by(self.in_flight.clone()))
    }

    /// The next ready stream whose tag `wanted` accepts; the others stay ready, in place.
    /// `None` when no wanted one is ready.
    pub fn next_ready_where(&self, wanted: impl Fn(usize) -> bool) -> Result<Option<usize>> {
        match self.shared.ready_set() {
            Some(set) => Ok(set.next_where(wanted)),
            None => Err(Error::invalid_argument(
                "client: no event descriptor; call codex_client_event_fd first",
            )),
        }
    }

    /// Asynchronous starts of this client waiting for their answer now.
    pub fn pending_requests(&self) -> usize {
        self.in_flight.count()
    }
}

/// The arguments every generic request is checked for.
pub(super) fn check_request(method: &str, params: Option<&str>) -> Result<()> {
    if method.is_empty() {
        return Err(Error::invalid_argument("method: must not be empty"));
    }
    // A turn started behind the router's back would escape the one-active-turn rule and
    // leave its events with nobody.
    if method == "turn/start" {
        return Err(Error::invalid_argument(
            "method: start turns with codex_turn_start (or its callback or asynchronous \
             variant), which tracks the turn: one active turn per thread, its own event stream",
        ));
    }
    if let Some(p) = params {
        check_params_json(p, "params_json")?;
    }
    Ok(())
}

/// `turn/start` params: the program's, with `threadId` and `input`.
pub(super) fn turn_start_params(
    thread_id: &str,
    input: &str,
    params: Option<&str>,
) -> Result<String> {
    if thread_id.is_empty() {
        return Err(Error::invalid_argument("thread_id: must not be empty"));
    }
    let mut map = object_map(params, "params_json", &["threadId", "input"])?;
    map.insert("threadId".into(), Value::String(thread_id.to_owned()));
    map.insert("input".into(), input_items(input));
    Ok(Value::Object(map).to_string())
}
