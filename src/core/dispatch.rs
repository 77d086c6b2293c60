//! Callback delivery. Each callback consumer (a turn, or the client stream) gets a library
//! thread of its own, so a slow callback delays only its own events; the stdout reader thread
//! never runs a callback, and no internal lock is held while one runs.

use super::error::{Error, ErrorKind, Result};
use super::event::{Event, EventKind, EventParts};
use super::queue::{StreamEnd, Taken, Wait};
use super::router::TurnQueue;
use super::transport::panic_text;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{JoinHandle, ThreadId};
use std::time::Instant;

/// A program's callback; it gets each event by value and drops it after the call. Dropping the
/// callback releases the program's data (its `userdata_free`): exactly once, after its last call.
pub type Callback = Box<dyn FnMut(Event) + Send>;

/// How delivery ended: `Ok` after `turn/completed`, else the stream's failure.
type Finished = Option<Result<()>>;

#[derive(Default)]
struct Done {
    finished: Mutex<Finished>,
    changed: Condvar,
}

pub struct Dispatcher {
    queue: Arc<TurnQueue>,
    stopped: Arc<AtomicBool>,
    done: Arc<Done>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

impl Dispatcher {
    /// Starts delivering `queue` to `callback`; `observe` sees each event first (for summaries).
    pub fn spawn(
        name: String,
        queue: Arc<TurnQueue>,
        mut callback: Callback,
        mut observe: impl FnMut(&Event) + Send + 'static,
    ) -> Dispatcher {
        let stopped = Arc::new(AtomicBool::new(false));
        let done = Arc::new(Done::default());
        let thread = {
            let (queue, stopped, done) = (queue.clone(), stopped.clone(), done.clone());
            std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let delivered = catch_unwind(AssertUnwindSafe(|| {
                        deliver(&queue, &stopped, &mut callback, &mut observe)
                    }));
                    // A bug here must still end the wait of `run` (and never unwind into C).
                    let finished = delivered.unwrap_or_else(|panic| {
                        Err(Error::new(
                            ErrorKind::Internal,
                            format!("the callback thread failed: {}", panic_text(panic.as_ref())),
                        ))
                    });
                    drop(callback); // the program's userdata_free: after the last call
                    *done.finished.lock().unwrap_or_else(|p| p.into_inner()) = Some(finished);
                    done.changed.notify_all();
                })
                .expect("cannot spawn a callback thread")
        };
        let thread_id = thread.thread().id();
        Dispatcher { queue, stopped, done, thread: Some(thread), thread_id }
    }

    /// Waits until the stream's end has been delivered (and the callback released).
    pub fn wait(&self, wait: Wait) -> Result<()> {
        if std::thread::current().id() == self.thread_id {
            return Err(Error::invalid_argument(
                "turn: waiting for a turn's end from inside its own callback would wait forever",
            ));
        }
        let mut finished = self.done.finished.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(result) = &*finished {
                return result.clone();
            }
            finished = match wait {
                Wait::Forever => {
                    self.done.changed.wait(finished).unwrap_or_else(|p| p.into_inner())
                }
                Wait::Until(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Error::new(
                            ErrorKind::Timeout,
                            "the callback stream has not ended in time",
                        ));
                    }
                    self.done
                        .changed
                        .wait_timeout(finished, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }

    /// Stops delivery: no call starts after this returns. Waits for a running call to return,
    /// unless called from that call itself (then the thread ends right after it).
    pub fn stop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.queue.interrupt_waiters();
        if let Some(thread) = self.thread.take() {
            if std::thread::current().id() != self.thread_id {
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Dispatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn deliver(
    queue: &TurnQueue,
    stopped: &AtomicBool,
    callback: &mut Callback,
    observe: &mut impl FnMut(&Event),
) -> Result<()> {
    let mut batch = VecDeque::new();
    loop {
        match queue.take_all(&mut batch, Wait::Forever) {
            Taken::Got(()) => {
                for event in batch.drain(..) {
                    if stopped.load(Ordering::SeqCst) {
                        return Err(stopped_error());
                    }
                    observe(&event);
                    callback(event);
                }
            }
            Taken::Ended(StreamEnd::Completed) => return Ok(()),
            Taken::Ended(StreamEnd::Failed(err)) => {
                if !stopped.load(Ordering::SeqCst) {
                    callback(stream_error_event(&err));
                }
                return Err(err);
            }
            Taken::Interrupted | Taken::TimedOut => return Err(stopped_error()),
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
