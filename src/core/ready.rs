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

pub struct ReadySet {
    tags: Mutex<Tags>,
    signal: Signal,
}

/// The ready streams in the order they became ready, and the same as a set: with thousands of
/// turns ready at once, asking whether one is already there must not walk the queue.
#[derive(Default)]
struct Tags {
    order: VecDeque<usize>,
    members: HashSet<usize>,
}

impl Tags {
    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// False when `tag` was there already.
    fn push_back(&mut self, tag: usize) -> bool {
        let new = self.members.insert(tag);
        if new {
            self.order.push_back(tag);
        }
        new
    }

    fn pop_front(&mut self) -> Option<usize> {
        let tag = self.order.pop_front()?;
        self.members.remove(&tag);
        Some(tag)
    }

    fn remove(&mut self, tag: usize) {
        if self.members.remove(&tag) {
            self.order.retain(|&t| t != tag);
        }
    }
}

impl ReadySet {
    pub fn new() -> Result<ReadySet> {
        Ok(ReadySet { tags: Mutex::new(Tags::default()), signal: Signal::new()? })
    }

    fn tags(&self) -> MutexGuard<'_, Tags> {
        self.tags.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor to watch for reading; owned by this set.
    pub fn fd(&self) -> c_int {
        self.signal.read_end()
    }

    /// A stream became ready (events arrived, or it ended).
    pub fn mark(&self, tag: usize) {
        let mut tags = self.tags();
        let was_empty = tags.is_empty();
        if tags.push_back(tag) && was_empty {
            self.signal.raise();
        }
    }

    /// The next ready stream, oldest first; the descriptor stops being readable once the set
    /// is empty.
    pub fn next(&self) -> Option<usize> {
        let mut tags = self.tags();
        let tag = tags.pop_front();
        if tag.is_some() && tags.is_empty() {
            self.signal.lower();
        }
        tag
    }

    /// A stream that is gone (its handle freed) is never reported again.
    pub fn forget(&self, tag: usize) {
        let mut tags = self.tags();
        let before = !tags.is_empty();
        tags.remove(tag);
        if before && tags.is_empty() {
            self.signal.lower();
        }
    }
}
