//! Turns this client did not start with `turn/start`: one running on a thread (another
//! client's, a goal continuation, one `thread/resume` shows in progress) or the next one there,
//! and review turns (`review/start`). Each gets the same kind of handle as a started turn.

use super::turn::Turn;
use super::{Client, Timeout};
use crate::core::error::{Error, Result};
use crate::core::protocol::params::{object_map, turn_id_of};
use crate::core::routing::dispatch::Callback;
use serde_json::Value;

impl Client {
    /// A handle for `turn_id` on `thread_id`, or (`None`) for the turn whose event comes first
    /// there: the one running now, or the next one that starts. Nothing is sent. Without an id
    /// while the thread has a handle, it waits behind that one for the turn after its (goal
    /// continuations, followed without a gap). Refused with an id while the thread has a
    /// handle, when a handle waits already, and for a turn known to have completed.
    pub fn turn_attach(
        &self,
        thread_id: &str,
        turn_id: Option<&str>,
        callback: Option<Callback>,
    ) -> Result<Turn> {
        if thread_id.is_empty() {
            return Err(Error::invalid_argument("thread_id: must not be empty"));
        }
        if turn_id == Some("") {
            return Err(Error::invalid_argument("turn_id: must not be empty (NULL: any turn)"));
        }
        let (queue, ids) = self.shared.router.attach(thread_id, turn_id)?;
        log::debug!("attached to {} on thread {thread_id}", turn_id.unwrap_or("the next turn"));
        Ok(Turn::new(self.shared.clone(), thread_id.to_owned(), ids, queue, callback))
    }

    /// Starts a review on `thread_id` (`review/start`, delivered inline: the review runs as a
    /// turn of that thread). `params` holds `target` (required) and other params but
    /// `threadId`; `delivery` may only be `"inline"`. The turn's result carries the review
    /// text (`TurnOutcome::review`).
    pub fn review_start(
        &self,
        thread_id: &str,
        params: &str,
        callback: Option<Callback>,
    ) -> Result<Turn> {
        if thread_id.is_empty() {
            return Err(Error::invalid_argument("thread_id: must not be empty"));
        }
        let mut map = object_map(Some(params), "params_json", &["threadId"])?;
        if !map.contains_key("target") {
            return Err(Error::invalid_argument(
                "params_json: needs \"target\" (e.g. {\"type\":\"uncommittedChanges\"})",
            ));
        }
        match map.get("delivery") {
            None | Some(Value::Null) => {}
            Some(Value::String(d)) if d == "inline" => {}
            Some(_) => {
                return Err(Error::invalid_argument(
                    "params_json: \"delivery\" may only be \"inline\" (a detached review runs \
                     on a new thread, deprecated upstream; start it with codex_client_request \
                     and attach to its turn)",
                ))
            }
        }
        map.insert("threadId".into(), Value::String(thread_id.to_owned()));
        let params = Value::Object(map).to_string();
        let router = &self.shared.router;
        let (queue, ids) = router.begin_turn(thread_id)?;
        let on_answer = router.start_answer_hook(thread_id, &queue);
        let answer =
            self.shared.call_then("review/start", Some(&params), Timeout::Default, on_answer);
        let turn_id = answer.and_then(|result| turn_id_of(&result)).inspect_err(|_| {
            router.abandon_turn(thread_id, &queue);
        })?;
        log::debug!("review turn {turn_id} started on thread {thread_id}");
        Ok(Turn::new(self.shared.clone(), thread_id.to_owned(), ids, queue, callback))
    }
}
