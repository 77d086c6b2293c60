//! The event queue behind a turn's stream and the client stream.
//!
//! The reader thread pushes; consumers take. Wake-ups are deferred to the end of a read batch
//! (`push` says when one is owed, `wake` pays it), so a flood costs one wake per queue per
//! batch rather than one per event. A turn's consumer takes everything queued at once.
//!
//! A consumer either waits on the queue (polling), or subscribes (callbacks): then a wake calls
//! the subscriber, which is scheduled once until it finds the queue empty (`take_ready`), so
//! one delivery at a time runs for a queue, and none runs while nothing is queued.
//!
//! A turn's queue may have a limit: when that many events wait unconsumed, the queue is
//! emptied and the stream fails (the caller decides with what), and later events are counted
//! and discarded. It may also have an idle limit: nothing pushed for that long ends the stream
//! with the error its hook builds (checked on the process's timer).

use super::ready::ReadySet;
use crate::core::error::Error;
use crate::core::timer;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
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
    /// This long from when it first has to block: a call that finds events waiting reads no
    /// clock (a polled turn takes most of its events that way).
    After(Duration),
}

impl Wait {
    /// `timeout_ms`: negative waits forever, 0 polls.
    pub fn from_millis(timeout_ms: i64) -> Wait {
        if timeout_ms < 0 {
            Wait::Forever
        } else {
            Wait::After(Duration::from_millis(timeout_ms as u64))
        }
    }

    /// The deadline, fixed now for `After`; `None` for `Forever`.
    pub fn deadline(self) -> Option<Instant> {
        match self {
            Wait::Forever => None,
            Wait::Until(deadline) => Some(deadline),
            Wait::After(limit) => Some(Instant::now() + limit),
        }
    }
}

/// What `push` did with an event.
#[derive(Debug)]
pub enum Pushed<E> {
    /// Queued; `wake_owed`: the caller owes a `wake()` (a consumer waits, or a subscriber is
    /// to be scheduled, and no wake is owed yet).
    Queued { wake_owed: bool },
    /// This event reached the limit: the `buffered` events before it were dropped, and so is
    /// this one once the caller, who ends the stream with `finish`, has read it.
    Overflowed { buffered: usize, event: E },
    /// The queue overflowed earlier: the event was dropped and counted.
    Discarded,
    /// The stream has ended; the event is handed back.
    Refused(E),
}

pub enum Taken<T> {
    Got(T),
    Ended(StreamEnd),
    /// Nothing within the wait (for `take_ready`: nothing queued, and the subscriber is no
    /// longer scheduled).
    TimedOut,
}

/// A subscribed consumer: told when the queue has something for it.
pub trait Notify: Send + Sync {
    /// Runs on the thread that made the queue ready (the reader, or whoever ended it); must
    /// only schedule the delivery, not perform it.
    fn notify(self: Arc<Self>);
}

/// Builds the error of a stream that went idle (and may act on it, e.g. interrupt the turn).
pub type OnIdle = Box<dyn FnMut(Duration) -> Error + Send>;

struct Idle {
    limit: Duration,
    last: Instant,
    on_idle: OnIdle,
}

struct State<E> {
    events: VecDeque<E>,
    end: Option<StreamEnd>,
    /// Consumers blocked in a wait.
    waiting: usize,
    /// They have been woken and not all of them have come back to wait again: another wake
    /// would be a futex call for nothing.
    woken: bool,
    /// A wake is owed and the reader will pay it at the end of its batch.
    wake_owed: bool,
    dropped: u64,
    overflowed: bool,
    idle: Option<Idle>,
    subscriber: Option<Arc<dyn Notify>>,
    /// The subscriber has been (or, with `wake_owed`, is about to be) told, and has not yet
    /// found the queue empty.
    scheduled: bool,
    /// An event loop watches: the set this stream is reported to, and its tag there.
    ready: Option<(Arc<ReadySet>, usize)>,
    /// Reported ready (or about to be, with `wake_owed`) since a take last emptied the queue.
    marked: bool,
}

impl<E> State<E> {
    /// Reports the stream to its event loop's set, if one watches. Under the queue's lock, on
    /// purpose: a mark made after unlocking could land after `unwatch_ready` and the set's
    /// `forget`, and report a freed turn (the set's lock is a leaf: it never waits for a queue).
    fn mark_ready(&self) {
        if let Some((set, tag)) = &self.ready {
            set.mark(*tag);
        }
    }
}

pub struct EventQueue<E> {
    state: Mutex<State<E>>,
    /// A subscriber has the stream (mirrors `State::subscriber`, read without the lock).
    subscribed: AtomicBool,
    ready: Condvar,
    /// Bounded queues drop their oldest event when full (the client stream).
    capacity: Option<usize>,
    /// Limited queues overflow when this many events wait (turn streams).
    limit: Option<usize>,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue").field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

impl<E> EventQueue<E> {
    pub fn unbounded() -> Self {
        Self::with_capacity(None, None)
    }

    /// Drops its oldest event when `capacity` wait.
    pub fn bounded(capacity: usize) -> Self {
        Self::with_capacity(Some(capacity.max(1)), None)
    }

    /// Overflows when `limit` events wait (0: never).
    pub fn limited(limit: usize) -> Self {
        Self::with_capacity(None, (limit > 0).then_some(limit))
    }

    fn with_capacity(capacity: Option<usize>, limit: Option<usize>) -> Self {
        EventQueue {
            state: Mutex::new(State {
                events: VecDeque::new(),
                end: None,
                waiting: 0,
                woken: false,
                wake_owed: false,
                dropped: 0,
                overflowed: false,
                idle: None,
                subscriber: None,
                scheduled: false,
                ready: None,
                marked: false,
            }),
            subscribed: AtomicBool::new(false),
            ready: Condvar::new(),
            capacity,
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<E>> {
        // A consumer that panicked while holding the lock leaves consistent state behind.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an event (see `Pushed`).
    #[inline]
    pub fn push(&self, event: E) -> Pushed<E> {
        self.push_keeping(event, &mut None)
    }

    /// `push`, handing back the event a full bounded queue dropped to make room, if it did.
    pub fn push_evicting(&self, event: E) -> (Pushed<E>, Option<E>) {
        let mut evicted = None;
        let pushed = self.push_keeping(event, &mut evicted);
        (pushed, evicted)
    }

    #[inline]
    fn push_keeping(&self, event: E, evicted: &mut Option<E>) -> Pushed<E> {
        let mut s = self.lock();
        if s.overflowed {
            s.dropped += 1;
            return Pushed::Discarded;
        }
        if s.end.is_some() {
            return Pushed::Refused(event);
        }
        if let Some(idle) = &mut s.idle {
            idle.last = Instant::now();
        }
        if self.limit.is_some_and(|limit| s.events.len() >= limit) {
            let buffered = s.events.len();
            s.events = VecDeque::new();
            s.overflowed = true;
            s.dropped += buffered as u64 + 1;
            return Pushed::Overflowed { buffered, event };
        }
        if let Some(cap) = self.capacity {
            while s.events.len() >= cap {
                *evicted = s.events.pop_front();
                s.dropped += 1;
            }
        }
        s.events.push_back(event);
        let wanted = if s.subscriber.is_some() { !s.scheduled } else { s.waiting > 0 && !s.woken };
        let to_mark = s.ready.is_some() && !s.marked;
        let owe = (wanted || to_mark) && !s.wake_owed;
        if owe {
            s.wake_owed = true;
            s.scheduled |= s.subscriber.is_some();
        }
        s.marked |= to_mark;
        Pushed::Queued { wake_owed: owe }
    }

    /// Pays a wake owed by `push`.
    pub fn wake(&self) {
        let mut s = self.lock();
        let owed = std::mem::take(&mut s.wake_owed);
        let subscriber = if owed { s.subscriber.clone() } else { None };
        if owed && s.marked {
            s.mark_ready();
        }
        let notify = owed && s.waiting > 0;
        let alone = s.waiting == 1;
        s.woken |= notify;
        drop(s);
        // After unlocking: a waiter woken under the lock would only block on it again. One
        // waiter (a turn's consumer) is woken alone: the kernel stops looking through its
        // futex hash bucket at the first match instead of scanning all of it (with thousands of
        // blocked threads, a bucket holds hundreds).
        if notify && alone {
            self.ready.notify_one();
        } else if notify {
            self.ready.notify_all();
        }
        if let Some(subscriber) = subscriber {
            subscriber.notify();
        }
    }

    /// Reports this stream to `set` under `tag` whenever it has something (events, or its end)
    /// after a take emptied it; reported at once if it has something now.
    pub fn watch_ready(&self, set: Arc<ReadySet>, tag: usize) {
        let mut s = self.lock();
        let now = !s.events.is_empty() || s.end.is_some();
        s.ready = Some((set, tag));
        s.marked = now;
        if now {
            s.mark_ready();
        }
    }

    /// Stops reporting this stream: once this returns, no mark of it is on its way to the set
    /// (marks are made under this queue's lock), so the set may forget its tag for good.
    pub fn unwatch_ready(&self) {
        self.lock().ready = None;
    }

    /// Ends the stream (first end wins); consumers get the queued events, then the end.
    pub fn finish(&self, end: StreamEnd) {
        let mut s = self.lock();
        if s.end.is_none() {
            s.end = Some(end);
        }
        self.ready.notify_all();
        // A subscriber not yet told (idle, or owed a wake by a push of this batch) is told now;
        // so is an event loop.
        let untold = !s.scheduled || s.wake_owed;
        if !s.marked || s.wake_owed {
            s.mark_ready();
        }
        s.marked = true;
        s.wake_owed = false;
        let subscriber = s.subscriber.clone().filter(|_| untold);
        s.scheduled |= subscriber.is_some();
        drop(s);
        if let Some(subscriber) = subscriber {
            subscriber.notify();
        }
    }

    /// Hands the stream to `subscriber` (told at once if something is queued or it ended).
    pub fn subscribe(&self, subscriber: Arc<dyn Notify>) {
        let mut s = self.lock();
        let ready = !s.events.is_empty() || s.end.is_some();
        s.subscriber = Some(subscriber.clone());
        self.subscribed.store(true, Ordering::Relaxed);
        s.scheduled = ready;
        s.wake_owed = false;
        drop(s);
        if ready {
            subscriber.notify();
        }
    }

    /// Takes the stream back from `subscriber` (polling works again); a subscriber that has
    /// replaced it meanwhile keeps the stream.
    pub fn unsubscribe_if(&self, subscriber: &Arc<dyn Notify>) {
        let mut s = self.lock();
        if !s.subscriber.as_ref().is_some_and(|now| Arc::ptr_eq(now, subscriber)) {
            return;
        }
        s.subscriber = None;
        s.scheduled = false;
        self.subscribed.store(false, Ordering::Relaxed);
    }

    /// Returns events a consumer took but did not deliver to the front of the queue, in their
    /// order, for whoever consumes next; told like a push (a bounded queue drops and counts
    /// what no longer fits).
    pub fn put_back(&self, mut events: VecDeque<E>) {
        if events.is_empty() {
            return;
        }
        let mut s = self.lock();
        events.append(&mut s.events);
        if let Some(cap) = self.capacity {
            while events.len() > cap {
                events.pop_front();
                s.dropped += 1;
            }
        }
        s.events = events;
        let subscriber = s.subscriber.clone().filter(|_| !s.scheduled);
        s.scheduled |= subscriber.is_some();
        if s.ready.is_some() && !s.marked {
            s.marked = true;
            s.mark_ready();
        }
        let waiting = s.waiting > 0;
        drop(s);
        if waiting {
            self.ready.notify_all();
        }
        if let Some(subscriber) = subscriber {
            subscriber.notify();
        }
    }

    /// For the subscriber: everything queued, or the end; `TimedOut` when nothing is queued,
    /// which also unschedules it until the next wake.
    pub fn take_ready(&self, out: &mut VecDeque<E>) -> Taken<()> {
        let mut s = self.lock();
        if !s.events.is_empty() {
            std::mem::swap(&mut s.events, out);
            return Taken::Got(());
        }
        if let Some(end) = &s.end {
            return Taken::Ended(end.clone());
        }
        s.scheduled = false;
        Taken::TimedOut
    }

    /// Whether a subscriber (a callback delivery) has the stream: its wake schedules the
    /// delivery on the worker pool rather than waking a blocked thread.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed)
    }

    pub fn is_finished(&self) -> bool {
        self.lock().end.is_some()
    }

    /// Events dropped because a bounded queue was full, or a limited one overflowed.
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
        let mut deadline = None;
        loop {
            if let Some(got) = take(&mut s) {
                // Emptied: the next push reports the stream to its event loop again.
                s.marked &= !s.events.is_empty();
                return Taken::Got(got);
            }
            s.marked = false;
            if let Some(end) = &s.end {
                return Taken::Ended(end.clone());
            }
            if matches!(wait, Wait::After(limit) if limit.is_zero()) {
                return Taken::TimedOut; // a poll: no clock to read
            }
            s.waiting += 1;
            s.woken = false;
            // Fixed the first time this call has to block.
            let until = *deadline.get_or_insert_with(|| wait.deadline());
            s = match until {
                None => self.ready.wait(s).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
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

    /// Waits until the queue holds an event or has ended, taking nothing (`Got` then; the
    /// caller takes with a poll).
    pub fn wait_ready(&self, wait: Wait) -> Taken<()> {
        match self.wait_for(wait, |s| (!s.events.is_empty()).then_some(())) {
            Taken::Ended(_) => Taken::Got(()),
            other => other,
        }
    }

    /// Takes one event (for queues with several consumers, like the client stream).
    pub fn take_one(&self, wait: Wait) -> Taken<E> {
        self.wait_for(wait, |s| s.events.pop_front())
    }
}

impl<E: Send + 'static> EventQueue<E> {
    /// Ends the stream with the error `on_idle` builds once nothing has been pushed for
    /// `limit` (checked on the process's timer, whether or not a consumer waits).
    pub fn watch_idle(self: &Arc<Self>, limit: Duration, on_idle: OnIdle) {
        self.lock().idle = Some(Idle { limit, last: Instant::now(), on_idle });
        Self::check_idle_after(Arc::downgrade(self), limit);
    }

    fn check_idle_after(queue: Weak<Self>, delay: Duration) {
        timer::after(delay, move || {
            let Some(queue) = queue.upgrade() else { return };
            let mut s = queue.lock();
            if s.end.is_some() {
                return;
            }
            let Some(idle) = s.idle.as_mut() else { return };
            let quiet_until = idle.last + idle.limit;
            let now = Instant::now();
            if now < quiet_until {
                drop(s);
                return Self::check_idle_after(Arc::downgrade(&queue), quiet_until - now);
            }
            let error = (idle.on_idle)(idle.limit);
            s.idle = None;
            drop(s);
            queue.finish(StreamEnd::Failed(error));
        });
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
            assert!(matches!(q.push(i), Pushed::Queued { .. }));
        }
        assert_eq!(q.dropped(), 3);
        assert!(matches!(q.take_one(Wait::from_millis(0)), Taken::Got(3)));
        assert!(matches!(q.take_one(Wait::from_millis(0)), Taken::Got(4)));
        assert!(matches!(q.take_one(Wait::from_millis(0)), Taken::TimedOut));
    }

    #[test]
    fn events_then_end_then_end_again() {
        let q = EventQueue::unbounded();
        assert!(matches!(q.push(1), Pushed::Queued { wake_owed: false }));
        q.finish(StreamEnd::Completed);
        assert!(matches!(q.push(2), Pushed::Refused(2)));
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
        assert!(matches!(q.push(7), Pushed::Queued { wake_owed: true }));
        // A second push before the wake is paid owes nothing more.
        assert!(matches!(q.push(8), Pushed::Queued { wake_owed: false }));
        q.wake();
        assert!(consumer.join().unwrap());
    }

    #[test]
    fn a_limited_queue_overflows_once_then_discards_and_counts() {
        let q = EventQueue::limited(3);
        for i in 0..3 {
            assert!(matches!(q.push(i), Pushed::Queued { .. }));
        }
        assert!(matches!(q.push(3), Pushed::Overflowed { buffered: 3, event: 3 }));
        q.finish(StreamEnd::Failed(Error::new(crate::core::ErrorKind::Overflow, "full")));
        assert!(matches!(q.push(4), Pushed::Discarded));
        assert_eq!(q.dropped(), 5);
        // The buffered events are gone: the consumer gets the failure at once.
        let mut out = VecDeque::new();
        assert!(matches!(q.take_all(&mut out, Wait::Forever), Taken::Ended(StreamEnd::Failed(_))));
        assert!(out.is_empty());
        // Consumed events do not count toward the limit.
        let q = EventQueue::limited(2);
        for i in 0..10 {
            assert!(matches!(q.push(i), Pushed::Queued { .. }));
            assert!(matches!(q.take_one(Wait::from_millis(0)), Taken::Got(_)));
        }
    }

    #[test]
    fn an_idle_queue_ends_and_the_hook_runs_once() {
        let q: Arc<EventQueue<u32>> = Arc::new(EventQueue::unbounded());
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = calls.clone();
        q.watch_idle(
            Duration::from_millis(1),
            Box::new(move |limit| {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Error::new(crate::core::ErrorKind::Timeout, format!("idle {limit:?}"))
            }),
        );
        let mut out = VecDeque::new();
        // Waits without limit: only the idle limit can end this wait.
        assert!(
            matches!(q.take_all(&mut out, Wait::Forever), Taken::Ended(StreamEnd::Failed(e)) if e.message.contains("idle"))
        );
        assert!(matches!(q.take_all(&mut out, Wait::Forever), Taken::Ended(StreamEnd::Failed(_))));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    #[cfg(unix)] // the ready set has no descriptor on Windows yet
    fn an_unwatched_stream_is_never_reported_again() {
        let set = Arc::new(ReadySet::new().unwrap());
        let q = EventQueue::unbounded();
        q.watch_ready(set.clone(), 7);
        assert!(matches!(q.push(1), Pushed::Queued { wake_owed: true }));
        q.wake();
        assert_eq!(set.next(), Some(7));
        // The turn is freed while its next event (owing a wake) and its end arrive: after
        // `unwatch_ready` and `forget`, neither the owed wake nor the end marks the tag.
        assert!(matches!(q.push(2), Pushed::Queued { .. }));
        let mut out = VecDeque::new();
        assert!(matches!(q.take_all(&mut out, Wait::from_millis(0)), Taken::Got(())));
        assert!(matches!(q.push(3), Pushed::Queued { wake_owed: true }));
        q.unwatch_ready();
        set.forget(7);
        q.wake();
        q.finish(StreamEnd::Completed);
        assert_eq!(set.next(), None);
    }

    /// Counts how often it is told.
    struct Counter(std::sync::atomic::AtomicU32);
    impl Notify for Counter {
        fn notify(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_subscriber_is_told_once_per_batch_until_it_finds_the_queue_empty() {
        let q = EventQueue::unbounded();
        let counter = Arc::new(Counter(Default::default()));
        let told = || counter.0.load(std::sync::atomic::Ordering::SeqCst);
        q.subscribe(counter.clone());
        assert_eq!(told(), 0, "nothing queued yet");
        assert!(matches!(q.push(1), Pushed::Queued { wake_owed: true }));
        assert!(matches!(q.push(2), Pushed::Queued { wake_owed: false }));
        assert_eq!(told(), 0, "told at the end of the batch");
        q.wake();
        assert_eq!(told(), 1);
        // Still scheduled: more events owe nothing until the subscriber finds it empty.
        assert!(matches!(q.push(3), Pushed::Queued { wake_owed: false }));
        let mut out = VecDeque::new();
        assert!(matches!(q.take_ready(&mut out), Taken::Got(())));
        assert_eq!(out, [1, 2, 3]);
        assert!(matches!(q.take_ready(&mut out), Taken::TimedOut));
        assert!(matches!(q.push(4), Pushed::Queued { wake_owed: true }));
        // The end tells at once, even with a wake owed by this batch.
        q.finish(StreamEnd::Completed);
        assert_eq!(told(), 2);
        out.clear();
        assert!(matches!(q.take_ready(&mut out), Taken::Got(())));
        assert!(matches!(q.take_ready(&mut out), Taken::Ended(StreamEnd::Completed)));
        // Subscribing to a queue that already holds something tells at once.
        let q = EventQueue::unbounded();
        assert!(matches!(q.push(1), Pushed::Queued { wake_owed: false }));
        q.subscribe(counter.clone());
        assert_eq!(told(), 3);
    }
}
