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
use std::collections::VecDeque;
use std::ffi::c_int;
use std::sync::{Mutex, MutexGuard};

/// The tag of the client stream; turns are tagged by the program-facing handle's address.
pub const CLIENT_STREAM: usize = 0;

pub struct ReadySet {
    tags: Mutex<VecDeque<usize>>,
    signal: Signal,
}

impl ReadySet {
    pub fn new() -> Result<ReadySet> {
        Ok(ReadySet { tags: Mutex::new(VecDeque::new()), signal: Signal::new()? })
    }

    fn tags(&self) -> MutexGuard<'_, VecDeque<usize>> {
        self.tags.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor to watch for reading; owned by this set.
    pub fn fd(&self) -> c_int {
        self.signal.read_end()
    }

    /// A stream became ready (events arrived, or it ended).
    pub fn mark(&self, tag: usize) {
        let mut tags = self.tags();
        if tags.contains(&tag) {
            return;
        }
        if tags.is_empty() {
            self.signal.raise();
        }
        tags.push_back(tag);
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
        let before = tags.len();
        tags.retain(|&t| t != tag);
        if before > 0 && tags.is_empty() {
            self.signal.lower();
        }
    }
}
