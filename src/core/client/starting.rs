//! A client start that returns at once: spawning or connecting and the `initialize` handshake
//! run on a library thread of their own (there is no client, and so no callback pool or event
//! descriptor, until it is done). Its end raises a descriptor an event loop can watch, runs
//! the program's callback on that thread, and wakes a blocked `wait`. Dropping the handle
//! before the end cancels the start (the child is killed, the socket shut); a client started
//! after that is closed.

use super::Client;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::options::Options;
use crate::core::routing::dispatch::Task;
use crate::core::routing::queue::Wait;
use crate::core::routing::ready::ReadySet;
use crate::core::transport::Cancel;
use std::ffi::c_int;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;

#[derive(Default)]
struct State {
    /// The start's outcome, until the program takes the client.
    outcome: Option<Result<Client>>,
    over: bool,
    callback: Option<Task>,
    calls_back: bool,
    freed: bool,
    running_on: Option<ThreadId>,
}

struct Inner {
    state: Mutex<State>,
    changed: Condvar,
    /// Raised once the start is over; made on first use.
    signal: Mutex<Option<Arc<ReadySet>>>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// On the start's thread: keep the outcome, raise the descriptor, run the callback.
    fn finish(&self, outcome: Result<Client>) {
        let mut state = self.state();
        if state.freed {
            drop(state);
            drop(outcome); // a client nobody will take: closed here
            return;
        }
        state.outcome = Some(outcome);
        state.over = true;
        let callback = state.callback.take();
        state.running_on = callback.as_ref().map(|_| std::thread::current().id());
        drop(state);
        self.changed.notify_all();
        // After `over` is set, and not under the state's lock (`fd` takes the signal's first).
        if let Some(signal) = &*self.signal.lock().unwrap_or_else(|p| p.into_inner()) {
            signal.mark(1);
        }
        if let Some(callback) = callback {
            callback();
            self.state().running_on = None;
            self.changed.notify_all();
        }
    }
}

/// A client being started.
pub struct Starting {
    inner: Arc<Inner>,
    cancel: Cancel,
}

impl Starting {
    /// Starts a client as `options` say, on a thread of its own.
    pub fn begin(options: &Options) -> Result<Starting> {
        let inner = Arc::new(Inner {
            state: Mutex::default(),
            changed: Condvar::new(),
            signal: Mutex::new(None),
        });
        let cancel = Cancel::default();
        let (finishing, cancelling, options) = (inner.clone(), cancel.clone(), options.clone());
        std::thread::Builder::new()
            .name("codex-start".into())
            .spawn(move || {
                let started = Client::start_observed(&options, Arc::new(|| {}), &cancelling);
                finishing.finish(started);
            })
            .map_err(|e| {
                Error::new(ErrorKind::Internal, format!("cannot start the start's thread: {e}"))
            })?;
        Ok(Starting { inner, cancel })
    }

    pub fn is_done(&self) -> bool {
        self.inner.state().over
    }

    /// Waits until the start is over; `Timeout` when it is not within `wait`.
    pub fn wait(&self, wait: Wait) -> Result<()> {
        let until = wait.deadline();
        let mut state = self.inner.state();
        while !state.over {
            state = match until {
                None => self.inner.changed.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(at) => {
                    let left = at.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Err(Error::new(ErrorKind::Timeout, "the client is still starting"));
                    }
                    let waited = self.inner.changed.wait_timeout(state, left);
                    waited.unwrap_or_else(|p| p.into_inner()).0
                }
            };
        }
        Ok(())
    }

    /// The started client (once), or the start's error (every time).
    pub fn take(&self) -> Result<Client> {
        let mut state = self.inner.state();
        if !state.over {
            return Err(Error::invalid_argument(
                "starting: the client is still starting (codex_client_starting_is_done)",
            ));
        }
        match state.outcome.take() {
            Some(Ok(client)) => Ok(client),
            Some(Err(err)) => {
                state.outcome = Some(Err(err.clone()));
                Err(err)
            }
            None => Err(Error::invalid_argument("starting: its client was taken already")),
        }
    }

    /// A descriptor readable once the start is over (level: it stays readable).
    pub fn fd(&self) -> Result<c_int> {
        let mut signal = self.inner.signal.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(set) = &*signal {
            return Ok(set.fd());
        }
        let set = Arc::new(ReadySet::new()?);
        // Under the signal's lock, which `finish` takes after setting `over`: one of the two
        // marks it (a second mark does nothing).
        if self.inner.state().over {
            set.mark(1);
        }
        let fd = set.fd();
        *signal = Some(set);
        Ok(fd)
    }

    /// Runs `callback` once on the start's thread when the start is over (on the calling
    /// thread at once when it is over already).
    pub fn on_complete(&self, callback: Task) -> Result<()> {
        let mut state = self.inner.state();
        if state.calls_back {
            drop(state);
            drop(callback);
            return Err(Error::invalid_argument("starting: it has a callback already"));
        }
        state.calls_back = true;
        if !state.over {
            state.callback = Some(callback);
            return Ok(());
        }
        drop(state);
        callback();
        Ok(())
    }
}

impl Drop for Starting {
    /// Cancels a start still under way; a client not taken is closed. Waits for a running
    /// callback unless called from inside it.
    fn drop(&mut self) {
        let mut state = self.inner.state();
        state.freed = true;
        let callback = state.callback.take();
        let outcome = state.outcome.take();
        if !state.over {
            self.cancel.cancel();
        }
        let me = Some(std::thread::current().id());
        while state.running_on.is_some() && state.running_on != me {
            state = self.inner.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        drop(state);
        drop(callback);
        drop(outcome);
    }
}
