//! Readiness for event loops: a set of streams (turns, and the client stream) that have
//! something to deliver, and a file descriptor that is readable while the set is not empty, for
//! a program's poll/epoll/libuv/asyncio loop to watch instead of blocking a thread per turn.
//! The descriptor is the platform's (`ready/unix.rs`: an eventfd on Linux, elsewhere the read
//! end of a pipe; `ready/windows.rs`: none yet, the call is refused).

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
use unix::Signal;
#[cfg(windows)]
use windows::Signal;

use crate::core::error::Result;
use std::collections::{HashSet, VecDeque};
use std::ffi::c_int;
use std::sync::{Mutex, MutexGuard};

/// The tag of the client stream; turns are tagged by the program-facing handle's address.
pub const CLIENT_STREAM: usize = 0;

/// Two stages, so the reader marking streams and the loop taking them seldom meet on one lock:
/// the reader adds to `marked`; the loop takes the whole of it at once into `taken` and hands
/// that out one by one. The descriptor is raised while either holds a stream.
pub struct ReadySet {
    marked: Mutex<Marked>,
    taken: Mutex<VecDeque<usize>>,
    signal: Signal,
}

/// The streams marked since the loop last took them, in order and as a set (with thousands of
/// turns ready at once, asking whether one is already there must not walk the queue), and
/// whether the descriptor is raised.
#[derive(Default)]
struct Marked {
    order: VecDeque<usize>,
    members: HashSet<usize>,
    raised: bool,
}

impl ReadySet {
    pub fn new() -> Result<ReadySet> {
        Ok(ReadySet {
            marked: Mutex::new(Marked::default()),
            taken: Mutex::new(VecDeque::new()),
            signal: Signal::new()?,
        })
    }

    fn marked(&self) -> MutexGuard<'_, Marked> {
        self.marked.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn taken(&self) -> MutexGuard<'_, VecDeque<usize>> {
        self.taken.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor to watch for reading; owned by this set.
    pub fn fd(&self) -> c_int {
        self.signal.read_end()
    }

    /// A stream became ready (events arrived, or it ended). A stream already marked is not
    /// marked twice; one already taken by the loop but not yet handed out can be (it was
    /// drained by other means and got new events): it is then reported twice, the second time
    /// with nothing to take.
    pub fn mark(&self, tag: usize) {
        let mut marked = self.marked();
        if marked.members.insert(tag) {
            marked.order.push_back(tag);
            if !marked.raised {
                marked.raised = true;
                self.signal.raise();
            }
        }
    }

    /// The next ready stream, oldest first; the descriptor stops being readable once nothing
    /// is left.
    pub fn next(&self) -> Option<usize> {
        let mut taken = self.taken();
        if taken.is_empty() {
            let mut marked = self.marked();
            std::mem::swap(&mut *taken, &mut marked.order);
            marked.members.clear();
        }
        let tag = taken.pop_front();
        if taken.is_empty() {
            self.lower_if_empty();
        }
        tag
    }

    /// The oldest ready stream `wanted` accepts; the others stay where they are, in order
    /// (so a `forget` of one of them still reaches it). `None` when no wanted one is ready;
    /// the descriptor then stays raised while unwanted ones remain.
    pub fn next_where(&self, wanted: impl Fn(usize) -> bool) -> Option<usize> {
        let mut taken = self.taken();
        if !taken.iter().any(|&t| wanted(t)) {
            let mut marked = self.marked();
            if taken.is_empty() {
                std::mem::swap(&mut *taken, &mut marked.order); // the common case: no copy
            } else {
                let order = std::mem::take(&mut marked.order);
                taken.extend(order);
            }
            marked.members.clear();
        }
        let tag = taken.iter().position(|&t| wanted(t)).and_then(|at| taken.remove(at));
        if taken.is_empty() {
            self.lower_if_empty();
        }
        tag
    }

    /// A stream that is gone (its handle freed) is never reported again.
    pub fn forget(&self, tag: usize) {
        let mut taken = self.taken();
        taken.retain(|&t| t != tag);
        let mut marked = self.marked();
        if marked.members.remove(&tag) {
            marked.order.retain(|&t| t != tag);
        }
        drop(marked);
        if taken.is_empty() {
            self.lower_if_empty();
        }
    }

    /// With `taken` empty (its lock held by the caller): lowers the descriptor unless something
    /// was marked meanwhile.
    fn lower_if_empty(&self) {
        let mut marked = self.marked();
        if marked.order.is_empty() && marked.raised {
            marked.raised = false;
            self.signal.lower();
        }
    }
}
