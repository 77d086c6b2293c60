//! A running turn: its own event stream, steer, interrupt, and run-to-completion.

use super::client::{Shared, Timeout};
use super::error::{Error, ErrorKind, Result};
use super::event::Event;
use super::queue::{StreamEnd, Taken, Wait};
use super::router::TurnQueue;
use super::turn_summary::{TurnOutcome, TurnSummary};
use std::collections::VecDeque;
use std::sync::Arc;

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
    /// Events taken from the queue in one go and not yet handed out.
    local: VecDeque<Event>,
}

impl Turn {
    pub(crate) fn new(
        shared: Arc<Shared>,
        thread_id: String,
        turn_id: String,
        queue: Arc<TurnQueue>,
    ) -> Turn {
        Turn { shared, thread_id, turn_id, queue, local: VecDeque::new() }
    }

    pub fn id(&self) -> &str {
        &self.turn_id
    }

    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// The next event of this turn, in arrival order; `End` after `turn/completed`.
    /// Fails with `Timeout`, or with the transport's failure or the close.
    pub fn next_event(&mut self, wait: Wait) -> Result<Next> {
        if let Some(event) = self.local.pop_front() {
            return Ok(Next::Event(event));
        }
        match self.queue.take_all(&mut self.local, wait) {
            Taken::Got(()) => Ok(Next::Event(self.local.pop_front().expect("took at least one"))),
            Taken::Ended(StreamEnd::Completed) => Ok(Next::End),
            Taken::Ended(end) => Err(self.shared.end_error(end)),
            Taken::TimedOut => Err(Error::new(
                ErrorKind::Timeout,
                format!("turn {}: no event in time", self.turn_id),
            )),
        }
    }

    /// Adds input to this running turn (`turn/steer`).
    pub fn steer(&self, input: &str) -> Result<()> {
        let params = serde_json::json!({
            "threadId": self.thread_id,
            "expectedTurnId": self.turn_id,
            "input": super::client::input_items(input),
        });
        self.shared.call("turn/steer", Some(&params.to_string()), Timeout::Default).map(drop)
    }

    /// Asks the server to stop this turn; it then completes with status `interrupted`.
    pub fn interrupt(&self) -> Result<()> {
        let params = serde_json::json!({ "threadId": self.thread_id, "turnId": self.turn_id });
        self.shared.call("turn/interrupt", Some(&params.to_string()), Timeout::Default).map(drop)
    }

    /// Consumes the rest of the turn's events and summarizes it. `wait` bounds the whole run.
    pub fn run(&mut self, wait: Wait) -> Result<TurnOutcome> {
        let mut summary = TurnSummary::default();
        loop {
            match self.next_event(wait)? {
                Next::Event(event) => summary.observe(&event),
                Next::End => return Ok(summary.finish()),
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        if !self.queue.is_finished() {
            self.shared.router.detach(&self.thread_id, &self.queue);
        }
    }
}
