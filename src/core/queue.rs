//! The event queue behind a turn's stream and the client stream.
//!
//! The reader thread pushes; consumers take. Wake-ups are deferred to the end of a read batch
//! (`push` says when one is owed, `wake` pays it), so a flood costs one wake per queue per
//! batch rather than one per event. A turn's consumer takes everything queued at once.

use super::error::Error;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why a stream has no more events.
#[derive(Clone, Debug)]
pub enum StreamEnd {
    /// `turn/completed` was delivered (turn streams only).
    Completed,
    /// The transport failed or the client was closed.
    Failed(Error),
}

/// How long a consumer waits.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    Forever,
    Until(Instant),
}

impl Wait {
    /// `timeout_ms`: negative waits forever, 0 polls.
    pub fn from_millis(timeout_ms: i64) -> Wait {
        if timeout_ms < 0 {
            Wait::Forever
        } else {
            Wait::Until(Instant::now() + Duration::from_millis(timeout_ms as u64))
        }
    }
}

pub enum Taken<T> {
    Got(T),
    Ended(StreamEnd),
    TimedOut,
    /// `interrupt_waiters` was called: the consumer is being stopped.
    Interrupted,
}

#[derive(Default)]
struct State<E> {
    events: VecDeque<E>,
    end: Option<StreamEnd>,
    /// A consumer is blocked in `wait`.
    waiting: usize,
    /// A wake is owed and the reader will pay it at the end of its batch.
    wake_owed: bool,
    dropped: u64,
    /// Set by `interrupt_waiters`: waits return `Interrupted` until `clear_interrupt`.
    interrupted: bool,
}

pub struct EventQueue<E> {
    state: Mutex<State<E>>,
    ready: Condvar,
    /// Bounded queues drop their oldest event when full (the client stream).
    capacity: Option<usize>,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue").field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

impl<E> EventQueue<E> {
    pub fn unbounded() -> Self {
        Self::with_capacity(None)
    }

    pub fn bounded(capacity: usize) -> Self {
        Self::with_capacity(Some(capacity.max(1)))
    }

    fn with_capacity(capacity: Option<usize>) -> Self {
        EventQueue {
            state: Mutex::new(State {
                events: VecDeque::new(),
                end: None,
                waiting: 0,
                wake_owed: false,
                dropped: 0,
                interrupted: false,
            }),
            ready: Condvar::new(),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // A consumer that panicked while holding the lock leaves consistent state behind.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an event. Returns true when the caller owes a `wake()` (a consumer is waiting
    /// and no wake is owed yet). Events after the end are refused (returned as `Err`).
    pub fn push(&self, event: E) -> Result<bool, E> {
        let mut s = self.lock();
        if s.end.is_some() {
            return Err(event);
        }
        if let Some(cap) = self.capacity {
            while s.events.len() >= cap {
                s.events.pop_front();
                s.dropped += 1;
            }
        }
        s.events.push_back(event);
        let owe = s.waiting > 0 && !s.wake_owed;
        if owe {
            s.wake_owed = true;
        }
        Ok(owe)
    }

    /// Pays a wake owed by `push`.
    pub fn wake(&self) {
        let mut s = self.lock();
        s.wake_owed = false;
        if s.waiting > 0 {
            self.ready.notify_all();
        }
    }

    /// Ends the stream (first end wins); consumers get the queued events, then the end.
    pub fn finish(&self, end: StreamEnd) {
        let mut s = self.lock();
        if s.end.is_none() {
            s.end = Some(end);
        }
        s.wake_owed = false;
        self.ready.notify_all();
    }

    /// Makes every wait return `Interrupted` (used to stop a callback thread).
    pub fn interrupt_waiters(&self) {
        self.lock().interrupted = true;
        self.ready.notify_all();
    }

    pub fn clear_interrupt(&self) {
        self.lock().interrupted = false;
    }

    pub fn is_finished(&self) -> bool {
        self.lock().end.is_some()
    }

    /// Events dropped because a bounded queue was full.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Removes and returns every queued event (used to hand them elsewhere).
    pub fn drain(&self) -> Vec<E> {
        self.lock().events.drain(..).collect()
    }

    fn wait_for<T>(
        &self,
        wait: Wait,
        mut take: impl FnMut(&mut State<E>) -> Option<T>,
    ) -> Taken<T> {
        let mut s = self.lock();
        loop {
            if let Some(got) = take(&mut s) {
                return Taken::Got(got);
            }
            if let Some(end) = &s.end {
                return Taken::Ended(end.clone());
            }
            if s.interrupted {
                return Taken::Interrupted;
            }
            s.waiting += 1;
            s = match wait {
                Wait::Forever => self.ready.wait(s).unwrap_or_else(|p| p.into_inner()),
                Wait::Until(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        s.waiting -= 1;
                        return Taken::TimedOut;
                    }
                    self.ready.wait_timeout(s, deadline - now).unwrap_or_else(|p| p.into_inner()).0
                }
            };
            s.waiting -= 1;
        }
    }

    /// Moves every queued event into `out` (waiting for at least one), or reports the end.
    pub fn take_all(&self, out: &mut VecDeque<E>, wait: Wait) -> Taken<()> {
        self.wait_for(wait, |s| {
            if s.events.is_empty() {
                None
            } else if out.is_empty() {
                std::mem::swap(&mut s.events, out);
                Some(())
            } else {
                out.extend(s.events.drain(..));
                Some(())
            }
        })
    }

    /// Takes one event (for queues with several consumers, like the client stream).
    pub fn take_one(&self, wait: Wait) -> Taken<E> {
        self.wait_for(wait, |s| s.events.pop_front())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn bounded_queue_drops_oldest_and_counts() {
        let q = EventQueue::bounded(2);
        for i in 0..5 {
            q.push(i).unwrap();
        }
        assert_eq!(q.dropped(), 3);
        assert!(matches!(q.take_one(Wait::from_millis(0)), Taken::Got(3)));
        assert!(matches!(q.take_one(Wait::from_millis(0)), Taken::Got(4)));
        assert!(matches!(q.take_one(Wait::from_millis(0)), Taken::TimedOut));
    }

    #[test]
    fn events_then_end_then_end_again() {
        let q = EventQueue::unbounded();
        q.push(1).unwrap();
        q.finish(StreamEnd::Completed);
        assert!(q.push(2).is_err());
        let mut out = VecDeque::new();
        assert!(matches!(q.take_all(&mut out, Wait::Forever), Taken::Got(())));
        assert_eq!(out, [1]);
        assert!(matches!(q.take_all(&mut out, Wait::Forever), Taken::Ended(StreamEnd::Completed)));
        assert!(matches!(q.take_one(Wait::Forever), Taken::Ended(StreamEnd::Completed)));
    }

    #[test]
    fn owed_wake_reaches_a_blocked_consumer() {
        let q = Arc::new(EventQueue::unbounded());
        let consumer = {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut out = VecDeque::new();
                matches!(q.take_all(&mut out, Wait::Forever), Taken::Got(()))
                    && out.front() == Some(&7)
            })
        };
        // Wait until the consumer blocks, so the push owes a wake.
        while q.lock().waiting == 0 {
            std::thread::yield_now();
        }
        assert!(q.push(7).unwrap());
        // A second push before the wake is paid owes nothing more.
        assert!(!q.push(8).unwrap());
        q.wake();
        assert!(consumer.join().unwrap());
    }
}
