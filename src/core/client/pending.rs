//! Asynchronous starts: a request sent without waiting for its answer. `Pending` is the
//! program's handle on it; the answer completes it on the reader thread (or the connection's
//! failure on whichever thread sees it, or its timeout on the timer thread), and the completion
//! is reported the way the program chose: by marking the event loop's ready set, by a callback
//! on the client's callback workers, or to a caller blocked in `wait`. Dropping a `Pending`
//! cancels it: its waiter goes, so a late answer is dropped as one nobody waits for.
//!
//! Starts in flight are bounded per client (`InFlight`): beyond the bound a start is refused
//! with `TooManyPending` before anything is sent, so nothing is queued without bound.

use crate::core::connection::{Connection, Timeout};
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::routing::dispatch::{Executor, Task};
use crate::core::routing::queue::Wait;
use crate::core::routing::ready::ReadySet;
use crate::core::routing::rpc::{OnAnswer, OnDone};
use crate::core::timer;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::ThreadId;

/// The bound of one client's asynchronous starts waiting for their answer.
pub struct InFlight {
    count: AtomicUsize,
    max: usize,
}

impl InFlight {
    pub fn new(max: usize) -> Arc<InFlight> {
        Arc::new(InFlight { count: AtomicUsize::new(0), max })
    }

    /// A place for one more start, or `TooManyPending`.
    fn acquire(self: &Arc<Self>, method: &str) -> Result<Slot> {
        if self.count.fetch_add(1, Ordering::AcqRel) >= self.max {
            self.count.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::new(
                ErrorKind::TooManyPending,
                format!(
                    "{method}: refused, {} asynchronous starts already wait for their answer \
                     (codex_options_set_max_pending_requests); retry once some complete",
                    self.max
                ),
            ));
        }
        Ok(Slot(self.clone()))
    }

    /// Starts waiting for their answer now.
    pub fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

/// One start's place in the bound: given back when its waiter goes (answered, failed, timed
/// out or cancelled).
struct Slot(Arc<InFlight>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Sends `method` without waiting: `done` gets the outcome once (not when cancelled through
/// the returned id). Counts against `limit` until then; `timeout` fails it with `Timeout`.
pub(crate) fn start_request(
    shared: &Connection,
    limit: &Arc<InFlight>,
    method: &str,
    params: Option<&str>,
    timeout: Timeout,
    on_answer: Option<OnAnswer>,
    done: OnDone,
) -> Result<u64> {
    // As `Connection::call` and `call_then` do: a turn on a thread lost in a reconnect is
    // refused, and a thread this start names is resumed after the next reconnect.
    shared.reconnect.subscriptions.check(method, params)?;
    let slot = limit.acquire(method)?;
    let (reconnect, method_seen) = (shared.reconnect.clone(), method.to_owned());
    let params_seen = params.map(str::to_owned);
    let done: OnDone = Box::new(move |outcome: Result<String>| {
        drop(slot);
        if let Ok(result) = &outcome {
            reconnect.subscriptions.observe(&method_seen, params_seen.as_deref(), result);
        }
        done(outcome)
    });
    let id = shared.rpc.start(&shared.transport, method, params, on_answer, done)?;
    if let Some(after) = shared.timeout(timeout) {
        let (rpc, method) = (Arc::downgrade(&shared.rpc), method.to_owned());
        timer::after(after, move || {
            if let Some(rpc) = rpc.upgrade() {
                let ms = after.as_millis();
                let why = format!("{method}: no response within {ms} ms");
                rpc.expire(id, Error::new(ErrorKind::Timeout, why));
            }
        });
    }
    Ok(id)
}

/// How a completion is reported, chosen by the program (at most one way), and the handle's
/// state.
#[derive(Default)]
struct State {
    /// Marks this tag in the event loop's ready set.
    ready: Option<(Arc<ReadySet>, usize)>,
    /// Runs on a worker; taken when it runs.
    callback: Option<Task>,
    /// A callback was given (it may have run already).
    calls_back: bool,
    /// The handle was dropped: nothing more is reported.
    freed: bool,
    /// The worker running the callback right now.
    running_on: Option<ThreadId>,
}

/// What the request's waiter and the handle share.
struct Shared {
    /// Set once, under `state`'s lock; read without it afterwards.
    outcome: OnceLock<Result<String>>,
    state: Mutex<State>,
    changed: Condvar,
    executor: Arc<Executor>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The request is over: keep the outcome and report it as chosen.
    fn complete(self: &Arc<Self>, outcome: Result<String>) {
        let state = self.state();
        if state.freed || self.outcome.set(outcome).is_err() {
            return;
        }
        // Under the lock: a drop after this finds the mark and forgets it.
        if let Some((set, tag)) = &state.ready {
            set.mark(*tag);
        }
        let call = state.callback.is_some();
        drop(state);
        self.changed.notify_all();
        if call {
            self.schedule_callback();
        }
    }

    fn schedule_callback(self: &Arc<Self>) {
        let me = self.clone();
        if let Err(err) = self.executor.run_task(Box::new(move || me.run_callback())) {
            log::error!("a pending request's callback cannot run: {}", err.message);
            let callback = self.state().callback.take();
            drop(callback); // its userdata is released
        }
    }

    /// On a worker: the program's callback, unless the handle went meanwhile.
    fn run_callback(&self) {
        let callback = {
            let mut state = self.state();
            if state.freed {
                return;
            }
            let Some(callback) = state.callback.take() else { return };
            state.running_on = Some(std::thread::current().id());
            callback
        };
        callback();
        self.state().running_on = None;
        self.changed.notify_all();
    }
}

/// A request sent and not yet answered, or answered and not yet read.
pub struct Pending {
    connection: Arc<Connection>,
    id: u64,
    method: String,
    shared: Arc<Shared>,
}

impl Pending {
    /// Sends `method`; `check` turns a result into the outcome (a result the caller cannot
    /// use becomes an error, as the blocking form would return).
    pub(crate) fn start(
        connection: &Arc<Connection>,
        limit: &Arc<InFlight>,
        method: &str,
        params: Option<&str>,
        timeout: Timeout,
        check: fn(&str, &str) -> Result<()>,
    ) -> Result<Pending> {
        let shared = Arc::new(Shared {
            outcome: OnceLock::new(),
            state: Mutex::default(),
            changed: Condvar::new(),
            executor: connection.callbacks.clone(),
        });
        let (completing, name) = (shared.clone(), method.to_owned());
        let done: OnDone = Box::new(move |outcome: Result<String>| {
            let outcome = outcome.and_then(|r| check(&r, &name).map(|()| r));
            completing.complete(outcome)
        });
        let id = start_request(connection, limit, method, params, timeout, None, done)?;
        Ok(Pending { connection: connection.clone(), id, method: method.to_owned(), shared })
    }

    pub fn method(&self) -> &str {
        &self.method
    }

    /// The outcome once the request is over; `None` before.
    pub fn outcome(&self) -> Option<&Result<String>> {
        self.shared.outcome.get()
    }

    /// Waits for the outcome; `Timeout` when it does not come within `wait`.
    pub fn wait(&self, wait: Wait) -> Result<&Result<String>> {
        let until = wait.deadline();
        let mut state = self.shared.state();
        loop {
            if let Some(outcome) = self.shared.outcome.get() {
                return Ok(outcome);
            }
            state = match until {
                None => self.shared.changed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(at) => {
                    let left = at.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            format!("{}: no response yet", self.method),
                        ));
                    }
                    let waited = self.shared.changed.wait_timeout(state, left);
                    waited.unwrap_or_else(|p| p.into_inner()).0
                }
            };
        }
    }

    /// Reports the completion under `tag` to the client's event loop (marked at once when it
    /// is over already). Fails when the client has no event descriptor.
    pub fn report_ready_as(&self, tag: usize) -> Result<()> {
        let Some(set) = self.connection.ready_set() else {
            return Err(Error::invalid_argument(
                "client: no event descriptor; call codex_client_event_fd first",
            ));
        };
        let mut state = self.shared.state();
        check_unreported(&state)?;
        if self.shared.outcome.get().is_some() {
            set.mark(tag);
        }
        state.ready = Some((set, tag));
        Ok(())
    }

    /// Runs `callback` once on a callback worker when the request is over (at once when it is
    /// over already).
    pub fn on_complete(&self, callback: Task) -> Result<()> {
        let mut state = self.shared.state();
        if let Err(err) = check_unreported(&state) {
            drop(state);
            drop(callback);
            return Err(err);
        }
        state.callback = Some(callback);
        state.calls_back = true;
        let over = self.shared.outcome.get().is_some();
        drop(state);
        if over {
            self.shared.schedule_callback();
        }
        Ok(())
    }
}

fn check_unreported(state: &State) -> Result<()> {
    match state.ready.is_some() || state.calls_back {
        false => Ok(()),
        true => Err(Error::invalid_argument(
            "pending: its completion is reported already (to one callback or one event loop)",
        )),
    }
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let done = self.outcome().is_some();
        f.debug_struct("Pending").field("method", &self.method).field("done", &done).finish()
    }
}

impl Drop for Pending {
    /// Cancels the request if it is still waiting (a late answer is dropped), and stops its
    /// report: no callback starts after this returns (a running one is waited for, unless this
    /// is that callback), and the event loop never hands the handle out again.
    fn drop(&mut self) {
        if self.shared.outcome.get().is_none() {
            self.connection.rpc.cancel(self.id);
        }
        let mut state = self.shared.state();
        state.freed = true;
        let callback = state.callback.take();
        let ready = state.ready.take();
        let me = Some(std::thread::current().id());
        while state.running_on.is_some() && state.running_on != me {
            state = self.shared.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        drop(state);
        if let Some((set, tag)) = ready {
            set.forget(tag);
        }
        // A callback never called releases its userdata here, outside the lock.
        drop(callback);
    }
}
/// A result any request may have.
pub(crate) fn any_result(_result: &str, _method: &str) -> Result<()> {
    Ok(())
}
