//! Cancelling a start in flight from another thread (a pool closing while a member starts).
//! Whatever the start is blocked on registers how to stop it: shut the socket of an upgrade,
//! close a connection waiting for `initialize`. A start that begins after the cancel fails at
//! once.

use crate::core::error::{Error, ErrorKind, Result};
use std::sync::{Arc, Mutex};

type Stop = Box<dyn FnOnce() + Send>;

/// Shared by the starting thread and whoever may cancel it; clones are the same switch.
#[derive(Clone, Default)]
pub struct Cancel(Arc<Mutex<CancelState>>);

#[derive(Default)]
struct CancelState {
    cancelled: bool,
    /// How to stop what the start is blocked on now.
    stop: Option<Stop>,
}

impl Cancel {
    /// Cancels for good: stops what the start is blocked on (on this thread, before returning)
    /// and makes every later step fail.
    pub fn cancel(&self) {
        let stop = {
            let mut state = self.lock();
            state.cancelled = true;
            state.stop.take()
        };
        if let Some(stop) = stop {
            stop();
        }
    }

    /// Registers how to stop the step about to block (replacing the previous one). Already
    /// cancelled: runs `stop` at once and returns the cancel's error.
    pub fn on_cancel(&self, stop: impl FnOnce() + Send + 'static) -> Result<()> {
        let mut state = self.lock();
        if state.cancelled {
            drop(state);
            stop();
            return Err(cancelled());
        }
        state.stop = Some(Box::new(stop));
        Ok(())
    }

    /// The start is over: nothing is left to stop.
    pub fn clear(&self) {
        self.lock().stop = None;
    }

    /// `Err` once cancelled: checked after a step that failed, so the error says why.
    pub fn check(&self) -> Result<()> {
        match self.lock().cancelled {
            true => Err(cancelled()),
            false => Ok(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CancelState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn cancelled() -> Error {
    Error::new(ErrorKind::Closed, "the start was cancelled: the pool was closed by the program")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_cancel_stops_the_registered_step_once_and_every_later_one_at_once() {
        let stops = Arc::new(AtomicUsize::new(0));
        let count = || {
            let stops = stops.clone();
            move || {
                stops.fetch_add(1, Ordering::SeqCst);
            }
        };
        let cancel = Cancel::default();
        cancel.on_cancel(count()).unwrap();
        cancel.on_cancel(count()).unwrap(); // replaces the first
        assert!(cancel.check().is_ok());
        cancel.cancel();
        assert_eq!(stops.load(Ordering::SeqCst), 1);
        assert_eq!(cancel.check().unwrap_err().kind, ErrorKind::Closed);
        assert!(cancel.on_cancel(count()).is_err());
        assert_eq!(stops.load(Ordering::SeqCst), 2, "a step after the cancel is stopped at once");
        cancel.cancel();
        assert_eq!(stops.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_cleared_start_has_nothing_to_stop() {
        let stopped = Arc::new(AtomicUsize::new(0));
        let cancel = Cancel::default();
        let s = stopped.clone();
        cancel
            .on_cancel(move || {
                s.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        cancel.clear();
        cancel.cancel();
        assert_eq!(stopped.load(Ordering::SeqCst), 0);
    }
}
