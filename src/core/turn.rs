//! A running turn: its own event stream, steer, interrupt, and run-to-completion.

use super::client::{Shared, Timeout};
use super::error::{Error, ErrorKind, Result};
use super::event::Event;
use super::queue::{StreamEnd, Taken, Wait};
use super::router::TurnQueue;
use super::turn_summary::{TurnOutcome, TurnSummary};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// What `next_event` returns besides an event.
#[derive(Debug)]
pub enum Next {
    Event(Event),
    /// `turn/completed` has been delivered; nothing more will come.
    End,
}

pub struct Turn {
    shared: Arc<Shared>,
    thread_id: String,
    turn_id: String,
    queue: Arc<TurnQueue>,
    /// Behind a lock of its own so steer and interrupt may be called while another thread
    /// waits for events.
    stream: Mutex<Consumed>,
}

#[derive(Default)]
struct Consumed {
    /// Events taken from the queue in one go and not yet handed out.
    local: VecDeque<Event>,
    /// Every event handed out so far, summarized for `run`.
    summary: TurnSummary,
}

impl Turn {
    pub(crate) fn new(
        shared: Arc<Shared>,
        thread_id: String,
        turn_id: String,
        queue: Arc<TurnQueue>,
    ) -> Turn {
        Turn {
            shared,
            thread_id,
            turn_id,
            queue,
            stream: Mutex::default(),
        }
    }

    pub fn id(&self) -> &str {
        &self.turn_id
    }

    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// The next event of this turn, in arrival order; `End` after `turn/completed`.
    /// Fails with `Timeout`, or with the transport's failure or the close.
    pub fn next_event(&self, wait: Wait) -> Result<Next> {
        let mut stream = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        let Consumed { local, summary } = &mut *stream;
        if local.is_empty() {
            match self.queue.take_all(local, wait) {
                Taken::Got(()) => {}
                Taken::Ended(StreamEnd::Completed) => return Ok(Next::End),
                Taken::Ended(end) => return Err(self.shared.end_error(end)),
                Taken::TimedOut => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("turn {}: no event in time", self.turn_id),
                    ))
                }
            }
        }
        let event = local.pop_front().expect("took at least one");
        summary.observe(&event);
        Ok(Next::Event(event))
    }

    /// Adds input to this running turn (`turn/steer`).
    pub fn steer(&self, input: &str) -> Result<()> {
        let params = serde_json::json!({
            "threadId": self.thread_id,
            "expectedTurnId": self.turn_id,
            "input": super::client::input_items(input),
        });
        self.shared
            .call("turn/steer", Some(&params.to_string()), Timeout::Default)
            .map(drop)
    }

    /// Asks the server to stop this turn; it then completes with status `interrupted`.
    pub fn interrupt(&self) -> Result<()> {
        let params = serde_json::json!({ "threadId": self.thread_id, "turnId": self.turn_id });
        self.shared
            .call(
                "turn/interrupt",
                Some(&params.to_string()),
                Timeout::Default,
            )
            .map(drop)
    }

    /// Consumes the rest of the turn's events and summarizes the whole turn, including events
    /// already handed out by `next_event`; `wait` gives the bound of each wait.
    pub fn run(&self, wait: impl Fn() -> Wait) -> Result<TurnOutcome> {
        while let Next::Event(_) = self.next_event(wait())? {}
        let stream = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        Ok(stream.summary.outcome())
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn")
            .field("thread_id", &self.thread_id)
            .field("turn_id", &self.turn_id)
            .finish()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if !self.queue.is_finished() {
            self.shared.router.detach(&self.thread_id, &self.queue);
        }
    }
}
