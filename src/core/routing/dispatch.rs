//! Callback delivery on a bounded pool of library threads (`Executor`, one per client, its
//! threads started on first use). Each callback consumer (a turn, the client stream, the
//! request handler) is a `Delivery` subscribed to its queue: a wake schedules it on the pool,
//! where it calls its callback for everything queued, in order, one call at a time, until the
//! queue is empty. So a slow callback holds one worker and delays only its own events while
//! other deliveries run on the other workers; when every worker is inside a slow callback, the
//! other deliveries wait for one to return. Callbacks never run on the reader thread, and no
//! internal lock is held while one runs.

use super::event::{Event, EventKind, EventParts};
use super::queue::{Notify, StreamEnd, Taken, Wait};
use super::router::TurnQueue;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::panic::panic_text;
use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::ThreadId;
use std::time::Instant;

/// A program's callback; it gets each event by value and drops it after the call. Dropping the
/// callback releases the program's data (its `userdata_free`): exactly once, after its last call.
pub type Callback = Box<dyn FnMut(Event) + Send>;

/// Sees each event before the callback (the turn's summary).
type Observe = Box<dyn FnMut(&Event) + Send>;

thread_local! {
    /// On a callback worker: the address of its executor's run queue (0 elsewhere), so a call
    /// made from inside a callback knows it must not wait for other callbacks of that client.
    static WORKER_OF: Cell<usize> = const { Cell::new(0) };
}

/// Starts a thread (a seam for the tests, which make it fail).
pub type Spawn = fn(std::thread::Builder, Box<dyn FnOnce() + Send>) -> std::io::Result<()>;

fn spawn_thread(
    builder: std::thread::Builder,
    body: Box<dyn FnOnce() + Send>,
) -> std::io::Result<()> {
    builder.spawn(body).map(drop)
}

/// The worker threads of one client; started when the first delivery is scheduled.
pub struct Executor {
    threads: usize,
    name: String,
    queue: Arc<RunQueue>,
    /// How starting the workers went: `Err` when not even one could be started.
    started: OnceLock<Result<()>>,
    spawn: Spawn,
}

impl Executor {
    /// `threads` workers (at least 1) named `name`.
    pub fn new(threads: usize, name: &str) -> Arc<Executor> {
        Self::with_spawn(threads, name, spawn_thread)
    }

    pub fn with_spawn(threads: usize, name: &str, spawn: Spawn) -> Arc<Executor> {
        Arc::new(Executor {
            threads: threads.max(1),
            name: name.into(),
            queue: Arc::default(),
            started: OnceLock::new(),
            spawn,
        })
    }

    /// Whether the calling thread is one of this executor's workers (inside a callback).
    pub fn on_worker_thread(&self) -> bool {
        WORKER_OF.with(Cell::get) == Arc::as_ptr(&self.queue) as usize
    }

    fn submit(&self, delivery: Arc<Delivery>) {
        match self.started.get_or_init(|| self.start_workers()) {
            Ok(()) => self.queue.push(Job::Deliver(delivery)),
            // No worker will ever run it: its turn fails instead of waiting forever.
            Err(err) => delivery.release(Err(err.clone())),
        }
    }

    /// Runs `task` once on a worker (a pending request's completion callback). When no worker
    /// can be started the task is dropped unrun, and the error returned.
    pub fn run_task(&self, task: Task) -> Result<()> {
        match self.started.get_or_init(|| self.start_workers()) {
            Ok(()) => {
                self.queue.push(Job::Run(task));
                Ok(())
            }
            Err(err) => Err(err.clone()),
        }
    }

    /// Starts the workers; fewer than asked is fine (logged), none is an error.
    fn start_workers(&self) -> Result<()> {
        let mut started = 0;
        for _ in 0..self.threads {
            let queue = self.queue.clone();
            let body = Box::new(move || {
                WORKER_OF.with(|w| w.set(Arc::as_ptr(&queue) as usize));
                prefer_short_slices();
                while let Some(job) = queue.next() {
                    match job {
                        Job::Deliver(delivery) => delivery.run(),
                        // A bug in a task must not end the worker.
                        Job::Run(task) => drop(catch_unwind(AssertUnwindSafe(task))),
                    }
                }
            });
            match (self.spawn)(std::thread::Builder::new().name(self.name.clone()), body) {
                Ok(()) => started += 1,
                Err(err) if started == 0 => {
                    return Err(Error::new(
                        ErrorKind::Internal,
                        format!("cannot start a callback worker thread: {err}"),
                    ))
                }
                Err(err) => {
                    log::warn!("started {started} of {} callback workers: {err}", self.threads);
                    break;
                }
            }
        }
        Ok(())
    }
}

impl Drop for Executor {
    /// The client and every delivery are gone: the workers end.
    fn drop(&mut self) {
        self.queue.close();
    }
}

/// The deliveries waiting for a worker. An idle worker sleeps on a condition variable at once:
/// crossbeam's channel, used before, has receivers spin and yield before they sleep, and at a
/// paced 100,000 events/s the two spinning workers took the CPU the reader needed (perf sched:
/// 1.7 s of worker CPU for 300,000 one-line callbacks; p99 delivery latency 0.2–1.2 ms).
#[derive(Default)]
struct RunQueue {
    state: Mutex<RunState>,
    ready: Condvar,
}

/// A one-off piece of work for a worker.
pub type Task = Box<dyn FnOnce() + Send>;

/// What a worker runs: a delivery (until its queue is empty), or a task once.
enum Job {
    Deliver(Arc<Delivery>),
    Run(Task),
}

#[derive(Default)]
struct RunState {
    deliveries: VecDeque<Job>,
    /// Workers asleep in `next`.
    idle: usize,
    /// Wakes sent that no worker has taken yet: a worker is woken only when more sleep than this.
    waking: usize,
    closed: bool,
}

impl RunQueue {
    fn lock(&self) -> MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, job: Job) {
        let mut state = self.lock();
        state.deliveries.push_back(job);
        let wake = state.idle > state.waking;
        state.waking += usize::from(wake);
        drop(state);
        if wake {
            self.ready.notify_one();
        }
    }

    /// The next job to run; `None` once closed.
    fn next(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if let Some(delivery) = state.deliveries.pop_front() {
                return Some(delivery);
            }
            if state.closed {
                return None;
            }
            state.idle += 1;
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
            state.idle -= 1;
            state.waking = state.waking.saturating_sub(1);
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

#[derive(Default)]
struct Status {
    /// The worker running the delivery right now.
    running_on: Option<ThreadId>,
    /// Threads waiting on `changed` (`wait`, `stop`): told only when there are some, since
    /// every notify is a futex call and a delivery runs once per batch of its events.
    waiters: usize,
    /// How delivery ended: `Ok` after `turn/completed`, else the stream's failure or the stop.
    finished: Option<Result<()>>,
}

struct Delivery {
    queue: Arc<TurnQueue>,
    executor: Arc<Executor>,
    /// The callback and observer; `None` once delivery finished (the callback dropped).
    consumer: Mutex<Option<(Callback, Observe)>>,
    /// No call may start any more (read before every call, so not behind the status lock).
    stopped: AtomicBool,
    status: Mutex<Status>,
    changed: Condvar,
}

impl Notify for Delivery {
    fn notify(self: Arc<Self>) {
        let executor = self.executor.clone();
        executor.submit(self);
    }
}

impl Delivery {
    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn status(&self) -> MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// On a worker: calls the callback for everything queued until the queue is empty.
    fn run(self: Arc<Self>) {
        {
            let mut status = self.status();
            if self.is_stopped() || status.finished.is_some() {
                return;
            }
            status.running_on = Some(std::thread::current().id());
        }
        let mut consumer = self.consumer.lock().unwrap_or_else(|p| p.into_inner());
        let outcome = match consumer.as_mut() {
            Some((callback, observe)) => {
                // A bug here must still end the wait of `run` (and never unwind into C).
                catch_unwind(AssertUnwindSafe(|| self.deliver(callback, observe))).unwrap_or_else(
                    |panic| {
                        Some(Err(Error::new(
                            ErrorKind::Internal,
                            format!("a callback worker failed: {}", panic_text(panic.as_ref())),
                        )))
                    },
                )
            }
            None => None,
        };
        if let Some(result) = outcome {
            // Dropping the callback runs the program's userdata_free, after the last call.
            *consumer = None;
            drop(consumer);
            self.release(result);
        } else {
            drop(consumer);
            // A job scheduled by a wake after our queue ran empty may have marked itself already.
            let mut status = self.status();
            if status.running_on == Some(std::thread::current().id()) {
                status.running_on = None;
            }
            // Halted while this call ran and found nothing more to deliver: no worker will
            // start again, so the callback is released here (`halt` left it to this worker).
            let orphaned = self.is_stopped() && status.finished.is_none();
            if status.waiters > 0 {
                self.changed.notify_all();
            }
            drop(status);
            if orphaned {
                self.release(Err(stopped_error()));
            }
        }
    }

    /// Delivers what is queued; `Some` when delivery is over.
    fn deliver(&self, callback: &mut Callback, observe: &mut Observe) -> Option<Result<()>> {
        let mut batch = VecDeque::new();
        loop {
            // Stopped (perhaps by the last call itself, freeing its own turn): release now.
            if self.is_stopped() {
                return Some(Err(stopped_error()));
            }
            match self.queue.take_ready(&mut batch) {
                Taken::Got(()) => {
                    while let Some(event) = batch.pop_front() {
                        if self.is_stopped() {
                            // What was taken and not delivered goes back, for the next consumer
                            // (a new callback, or polling): a stopped delivery loses nothing.
                            batch.push_front(event);
                            self.queue.put_back(batch);
                            return Some(Err(stopped_error()));
                        }
                        observe(&event);
                        callback(event);
                    }
                }
                Taken::TimedOut => return None, // empty: scheduled again by the next wake
                Taken::Ended(StreamEnd::Completed) => return Some(Ok(())),
                Taken::Ended(StreamEnd::Failed(err)) => {
                    if !self.is_stopped() {
                        callback(stream_error_event(&err));
                    }
                    return Some(Err(err));
                }
            }
        }
    }

    /// Ends delivery: the queue is no longer ours, the callback is dropped (the program's
    /// userdata_free, exactly once: the consumer is taken once), waiters learn `result`.
    fn release(self: &Arc<Self>, result: Result<()>) {
        let me: Arc<dyn Notify> = self.clone();
        self.queue.unsubscribe_if(&me);
        let consumer = self.consumer.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(consumer);
        self.finish(result);
    }

    fn finish(&self, result: Result<()>) {
        let mut status = self.status();
        status.running_on = None;
        status.finished.get_or_insert(result);
        self.changed.notify_all();
    }
}

/// A callback consumer of one queue; stopping it (or dropping it) ends delivery.
pub struct Dispatcher {
    delivery: Arc<Delivery>,
}

impl Dispatcher {
    /// Starts delivering `queue` to `callback` on `executor`; `observe` sees each event first.
    pub fn start(
        executor: &Arc<Executor>,
        queue: Arc<TurnQueue>,
        callback: Callback,
        observe: impl FnMut(&Event) + Send + 'static,
    ) -> Dispatcher {
        let delivery = Arc::new(Delivery {
            queue: queue.clone(),
            executor: executor.clone(),
            consumer: Mutex::new(Some((callback, Box::new(observe)))),
            stopped: AtomicBool::new(false),
            status: Mutex::default(),
            changed: Condvar::new(),
        });
        queue.subscribe(delivery.clone());
        Dispatcher { delivery }
    }

    /// Waits until the stream's end has been delivered (and the callback released).
    pub fn wait(&self, wait: Wait) -> Result<()> {
        let me = std::thread::current().id();
        let mut status = self.delivery.status();
        if status.running_on == Some(me) {
            return Err(Error::invalid_argument(
                "turn: waiting for a turn's end from inside its own callback would wait forever",
            ));
        }
        let deadline = wait.deadline();
        loop {
            if let Some(result) = &status.finished {
                return result.clone();
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            "the callback stream has not ended in time",
                        ));
                    }
                    Some(deadline - now)
                }
            };
            let changed = &self.delivery.changed;
            status.waiters += 1;
            status = match timeout {
                None => changed.wait(status).unwrap_or_else(|p| p.into_inner()),
                Some(left) => {
                    changed.wait_timeout(status, left).unwrap_or_else(|p| p.into_inner()).0
                }
            };
            status.waiters -= 1;
        }
    }

    /// Stops delivery without waiting: no call starts after this returns. A call running now
    /// ends delivery when it returns (its worker releases the callback); with none running, the
    /// callback is released here.
    pub fn halt(&self) {
        let delivery = &self.delivery;
        let status = delivery.status();
        delivery.stopped.store(true, Ordering::SeqCst);
        if status.running_on.is_some() || status.finished.is_some() {
            return;
        }
        drop(status);
        delivery.release(Err(stopped_error()));
    }

    /// Stops delivery: no call starts after this returns. Waits for a running call to return,
    /// unless called from that call itself (then delivery ends right after it).
    pub fn stop(&mut self) {
        self.halt();
        self.stopping().wait_idle();
    }

    /// `stop`, except from inside a callback of the same client, where it does not wait for a
    /// call running on another worker: that call may itself be waiting for this one (two
    /// callbacks freeing each other's turns). That call is then the last, and its worker
    /// releases the callback after it.
    pub fn stop_unless_in_callback(&mut self) {
        if self.delivery.executor.on_worker_thread() {
            self.halt();
        } else {
            self.stop();
        }
    }

    /// A handle to wait, without the dispatcher, until its running call has returned.
    pub fn stopping(&self) -> Stopping {
        Stopping(self.delivery.clone())
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop_unless_in_callback();
    }
}

/// A halted dispatcher's delivery, to wait for the call it may still be running.
#[derive(Clone)]
pub struct Stopping(Arc<Delivery>);

impl Stopping {
    /// Waits until no call of the (halted) delivery runs, unless the running call is this
    /// thread's own.
    pub fn wait_idle(&self) {
        let me = std::thread::current().id();
        let delivery = &self.0;
        let mut status = delivery.status();
        while status.running_on.is_some_and(|t| t != me) {
            status.waiters += 1;
            status = delivery.changed.wait(status).unwrap_or_else(|p| p.into_inner());
            status.waiters -= 1;
        }
    }
}

fn stopped_error() -> Error {
    Error::new(ErrorKind::Closed, "callback delivery was stopped")
}

/// The last event a callback gets when its stream fails: method `codex/streamError`, params
/// `{"kind": ..., "message": ...}`.
fn stream_error_event(err: &Error) -> Event {
    let params = serde_json::json!({ "kind": format!("{:?}", err.kind), "message": err.message });
    Event::new(
        EventKind::StreamError,
        &EventParts {
            method: "codex/streamError",
            params: &params.to_string(),
            ..Default::default()
        },
    )
}

/// Asks the scheduler to run the calling thread in short slices (Linux 6.12+: the EEVDF
/// custom slice, `sched_runtime` of `SCHED_OTHER`, allowed without privileges). Its share of
/// the CPU is unchanged, but a shorter slice means an earlier deadline: when such a thread
/// wakes with an event to deliver, it preempts a CPU-bound task of the host within about that
/// slice instead of waiting out the default one (about 3 ms). Best effort: older kernels and
/// other systems ignore it.
pub(crate) fn prefer_short_slices() {
    #[cfg(target_os = "linux")]
    {
        /// The shortest slice the kernel takes.
        const SLICE_NS: u64 = 100_000;
        #[repr(C)]
        struct SchedAttr {
            size: u32,
            policy: u32,
            flags: u64,
            nice: i32,
            priority: u32,
            runtime: u64,
            deadline: u64,
            period: u64,
        }
        let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let attr = SchedAttr {
            size: std::mem::size_of::<SchedAttr>() as u32,
            policy: libc::SCHED_OTHER as u32,
            flags: 0,
            nice,
            priority: 0,
            runtime: SLICE_NS,
            deadline: 0,
            period: 0,
        };
        unsafe {
            libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::routing::queue::Pushed;
    use std::sync::mpsc;

    /// Sends once when dropped: the program's userdata_free.
    struct Released(mpsc::Sender<()>);
    impl Drop for Released {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    #[test]
    fn a_worker_that_cannot_start_fails_the_delivery_not_the_reader() {
        let executor = Executor::with_spawn(4, "test", |_, _| {
            Err(std::io::Error::from_raw_os_error(libc::EAGAIN))
        });
        let queue = Arc::new(TurnQueue::unbounded());
        let (released, releases) = mpsc::channel();
        let guard = Released(released);
        let callback: Callback = Box::new(move |_| {
            let _ = &guard;
            panic!("no worker, so no call");
        });
        let dispatcher = Dispatcher::start(&executor, queue.clone(), callback, |_| {});
        let event = Event::new(
            EventKind::AgentMessageDelta,
            &EventParts { method: "item/agentMessage/delta", params: "{}", ..Default::default() },
        );
        // The reader's path: push, then pay the wake, which schedules the delivery.
        assert!(matches!(queue.push(event), Pushed::Queued { wake_owed: true }));
        queue.wake();
        let err = dispatcher.wait(Wait::Forever).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal);
        assert!(err.message.contains("cannot start a callback worker"), "{}", err.message);
        releases.try_recv().expect("the callback is released");
        drop(dispatcher);
        assert!(releases.try_recv().is_err(), "exactly once");
    }
}
