//! A running turn: its own event stream (polled, or pushed to a callback), steer, interrupt,
//! and run-to-completion.

use super::pending::{any_result, InFlight, Pending};
use super::turn_summary::{TurnOutcome, TurnSummary};
use crate::core::connection::{Connection, Timeout};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::protocol::params::{input_items, interrupt_params};
use crate::core::routing::dispatch::{Callback, Dispatcher};
use crate::core::routing::event::Event;
use crate::core::routing::queue::{StreamEnd, Taken, Wait};
use crate::core::routing::router::{TurnIds, TurnQueue};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `next_event` returns besides an event.
#[derive(Debug)]
pub enum Next {
    Event(Event),
    /// `turn/completed` has been delivered; nothing more will come.
    End,
}

/// The part of a turn its callback thread shares.
struct TurnInner {
    shared: Arc<Connection>,
    thread_id: String,
    /// Learnt by the router: the answer's id, and the one the events carry (they differ after
    /// a drift, router's opening comment).
    ids: Arc<TurnIds>,
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

pub struct Turn {
    inner: Arc<TurnInner>,
    /// The tag this turn is reported under to the client's event loop, if it is.
    ready_tag: Option<usize>,
    /// Set when the turn's events go to a callback instead of `next_event`.
    dispatcher: Option<Dispatcher>,
    /// The client's bound of asynchronous requests (steer and interrupt without waiting).
    in_flight: Option<Arc<InFlight>>,
}

impl Turn {
    pub(crate) fn new(
        shared: Arc<Connection>,
        thread_id: String,
        ids: Arc<TurnIds>,
        queue: Arc<TurnQueue>,
        callback: Option<Callback>,
    ) -> Turn {
        if let Some(limit) = shared.turn_idle_timeout {
            let (shared, thread, ids) = (Arc::downgrade(&shared), thread_id.clone(), ids.clone());
            queue.watch_idle(
                limit,
                Box::new(move |limit| {
                    // This runs under the turn queue's lock: the log goes out from the timer
                    // thread right after, so a log callback may call back into the turn.
                    let ms = limit.as_millis();
                    let turn = ids.current().to_owned();
                    let logged = turn.clone();
                    crate::core::timer::after(std::time::Duration::ZERO, move || {
                        log::warn!("turn {logged}: no event for {ms} ms, interrupting it")
                    });
                    if let Some(shared) = shared.upgrade() {
                        shared.send_unanswered("turn/interrupt", &interrupt_params(&thread, &turn));
                    }
                    Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "turn {turn} received no event for {} ms \
                             (codex_options_set_turn_idle_timeout_ms); it was interrupted",
                            limit.as_millis()
                        ),
                    )
                }),
            );
        }
        let inner = Arc::new(TurnInner { shared, thread_id, ids, queue, stream: Mutex::default() });
        let dispatcher = callback.map(|callback| {
            let observer = inner.clone();
            Dispatcher::start(
                &inner.shared.callbacks,
                inner.queue.clone(),
                callback,
                move |event| {
                    if TurnSummary::wants(event.kind()) {
                        observer.consumed().summary.observe(event);
                    }
                },
            )
        });
        Turn { inner, dispatcher, ready_tag: None, in_flight: None }
    }

    /// Reports this turn under `tag` to the client's event loop, when the program asked for an
    /// event descriptor (`Client::event_fd`) before; otherwise does nothing.
    pub fn report_ready_as(&mut self, tag: usize) {
        if let Some(set) = self.inner.shared.ready_set() {
            self.inner.queue.watch_ready(set, tag);
            self.ready_tag = Some(tag);
        }
    }

    /// The id this turn's events carry once one has arrived, before that the `turn/start`
    /// answer's. They differ only when the server steered the start into a turn already running
    /// (openai/codex#36866); steer and interrupt need the events' id.
    pub fn id(&self) -> &str {
        self.inner.ids.current()
    }

    pub fn thread_id(&self) -> &str {
        &self.inner.thread_id
    }

    /// The next event of this turn, in arrival order; `End` after `turn/completed`.
    /// Fails with `Timeout`, or with the transport's failure or the close.
    pub fn next_event(&self, wait: Wait) -> Result<Next> {
        if self.dispatcher.is_some() {
            return Err(Error::invalid_argument(
                "turn: its events go to its callback; wait for it with codex_turn_run",
            ));
        }
        // The stream lock only guards taking (so events go out in order); the wait happens
        // without it, or a poll (timeout 0) would block behind another thread's long wait.
        let mut deadline = None;
        loop {
            {
                let mut stream = self.inner.consumed();
                let Consumed { local, summary } = &mut *stream;
                if local.is_empty() {
                    match self.inner.queue.take_all(local, Wait::After(Duration::ZERO)) {
                        Taken::Got(()) => {}
                        Taken::Ended(end) => {
                            // Read to its end: a mark made while it was drained is stale.
                            self.leave_event_loop();
                            return match end {
                                StreamEnd::Completed => Ok(Next::End),
                                end => Err(self.inner.shared.end_error(end)),
                            };
                        }
                        Taken::TimedOut => {}
                    }
                }
                if let Some(event) = local.pop_front() {
                    summary.observe(&event);
                    return Ok(Next::Event(event));
                }
            }
            // Fixed the first time this call has to wait.
            let until = *deadline.get_or_insert_with(|| wait.deadline());
            let wait = until.map_or(Wait::Forever, Wait::Until);
            if let Taken::TimedOut = self.inner.queue.wait_ready(wait) {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("turn {}: no event in time", self.id()),
                ));
            }
        }
    }

    /// Counts this turn's asynchronous steers and interrupts against the client's bound.
    pub(crate) fn bounded_by(mut self, in_flight: Arc<InFlight>) -> Turn {
        self.in_flight = Some(in_flight);
        self
    }

    /// Adds input to this running turn (`turn/steer`).
    pub fn steer(&self, input: &str) -> Result<()> {
        self.control("turn/steer", &self.steer_params(input))
    }

    fn steer_params(&self, input: &str) -> String {
        serde_json::json!({
            "threadId": self.inner.thread_id,
            "expectedTurnId": self.id(),
            "input": input_items(input),
        })
        .to_string()
    }

    /// Asks the server to stop this turn; it then completes with status `interrupted`.
    pub fn interrupt(&self) -> Result<()> {
        self.control("turn/interrupt", &interrupt_params(&self.inner.thread_id, self.id()))
    }

    /// `steer` without waiting: the answer completes the returned request.
    pub fn steer_async(&self, input: &str) -> Result<Pending> {
        self.control_async("turn/steer", &self.steer_params(input))
    }

    /// `interrupt` without waiting.
    pub fn interrupt_async(&self) -> Result<Pending> {
        self.control_async("turn/interrupt", &interrupt_params(&self.inner.thread_id, self.id()))
    }

    /// Steer and interrupt need the turn's id, which an asynchronous start learns later.
    fn control_async(&self, method: &str, params: &str) -> Result<Pending> {
        if self.id().is_empty() {
            return Err(Error::invalid_argument(
                "turn: its id is not known yet (its turn/start answer has not arrived; \
                 codex_turn_id is empty until then)",
            ));
        }
        let shared = &self.inner.shared;
        let limit = self.in_flight.clone().unwrap_or_else(|| InFlight::new(usize::MAX));
        let timeout = Timeout::After(shared.control_timeout);
        Pending::start(shared, &limit, method, Some(params), timeout, any_result)
    }

    /// Steer and interrupt wait the control timeout: a user is waiting on them.
    fn control(&self, method: &str, params: &str) -> Result<()> {
        let timeout = Timeout::After(self.inner.shared.control_timeout);
        self.inner.shared.call(method, Some(params), timeout).map(drop)
    }

    /// Events of this turn dropped: on overflow, the buffered ones and every later one.
    pub fn dropped_events(&self) -> u64 {
        self.inner.queue.dropped()
    }

    /// Runs the turn to its end and summarizes all of it, including events already handed out
    /// by `next_event` or a callback; `wait` gives the bound of each wait.
    pub fn run(&self, wait: impl Fn() -> Wait) -> Result<TurnOutcome> {
        match &self.dispatcher {
            Some(dispatcher) => dispatcher.wait(wait())?,
            None => while let Next::Event(_) = self.next_event(wait())? {},
        }
        Ok(self.inner.consumed().summary.outcome())
    }
}

impl TurnInner {
    fn consumed(&self) -> std::sync::MutexGuard<'_, Consumed> {
        self.stream.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn")
            .field("thread_id", &self.inner.thread_id)
            .field("turn_id", &self.inner.ids.current())
            .finish()
    }
}

impl Turn {
    /// Stops reporting this turn to the event descriptor, and drops a report already made.
    /// Detach first, then forget: the reader may be marking this turn right now (its
    /// completion arriving), and a mark after the forget would hand the turn back from
    /// `next_ready` (after a free, a freed handle).
    fn leave_event_loop(&self) {
        if let (Some(tag), Some(set)) = (self.ready_tag, self.inner.shared.ready_set()) {
            self.inner.queue.unwatch_ready();
            set.forget(tag);
        }
    }
}

impl Drop for Turn {
    /// The turn goes on in the server: its later events go to the client stream, its open
    /// server requests are declined, and its callback (if any) is called no more.
    fn drop(&mut self) {
        let inner = &self.inner;
        self.leave_event_loop();
        if !inner.queue.is_finished() {
            inner.shared.router.detach(&inner.thread_id, &inner.queue);
            for id in inner.ids.all() {
                inner.shared.pending.fail_turn(id);
            }
        }
        // From inside another callback of this client, the free does not wait for this turn's
        // running call (it may be waiting for that callback in turn): see
        // `Dispatcher::stop_unless_in_callback`.
        if let Some(mut dispatcher) = self.dispatcher.take() {
            dispatcher.stop_unless_in_callback();
        }
    }
}
