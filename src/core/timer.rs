//! One timer thread for the whole process: every client's deadlines (server-request answer
//! timeouts, checks after a child's exit) run on it, instead of a thread per client.
//! Tasks must be short and must not block; one that has real work to do starts it elsewhere.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

type Task = Box<dyn FnOnce() + Send>;

struct Entry {
    at: Instant,
    /// Keeps tasks due at the same instant in the order they were scheduled.
    seq: u64,
    task: Task,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    due: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

struct Timer {
    queue: Mutex<Queue>,
    changed: Condvar,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let timer: &'static Timer =
            Box::leak(Box::new(Timer { queue: Mutex::default(), changed: Condvar::new() }));
        std::thread::Builder::new()
            .name("codex-timer".into())
            .spawn(move || timer.run())
            .expect("cannot spawn the timer thread");
        timer
    })
}

/// Runs `task` on the timer thread once `delay` has passed.
pub fn after(delay: Duration, task: impl FnOnce() + Send + 'static) {
    let timer = timer();
    let mut queue = timer.queue.lock().unwrap_or_else(|p| p.into_inner());
    queue.seq += 1;
    let entry = Entry { at: Instant::now() + delay, seq: queue.seq, task: Box::new(task) };
    let sooner = queue.due.peek().is_none_or(|Reverse(first)| entry.at < first.at);
    queue.due.push(Reverse(entry));
    if sooner {
        timer.changed.notify_one();
    }
}

impl Timer {
    fn run(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = Instant::now();
            match queue.due.peek().map(|Reverse(e)| e.at) {
                Some(at) if at <= now => {
                    let Reverse(entry) = queue.due.pop().expect("peeked");
                    drop(queue);
                    // A task's panic must not stop every other client's timers.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(entry.task));
                    queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
                }
                Some(at) => {
                    queue = self
                        .changed
                        .wait_timeout(queue, at - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => queue = self.changed.wait(queue).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn tasks_run_in_deadline_order_and_a_panic_stops_nothing() {
        let (tx, rx) = mpsc::channel();
        for (delay, label) in [(30, "c"), (10, "a"), (20, "b")] {
            let tx = tx.clone();
            after(Duration::from_millis(delay), move || tx.send(label).unwrap());
        }
        after(Duration::from_millis(5), || panic!("a failing task"));
        let got: Vec<&str> = (0..3).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got, ["a", "b", "c"]);
    }
}
