//! Readiness for event loops: a set of streams (turns, and the client stream) that have
//! something to deliver, and a file descriptor that is readable while the set is not empty, for
//! a program's poll/epoll/libuv/asyncio loop to watch instead of blocking a thread per turn.
//! On Linux the descriptor is an eventfd; elsewhere the read end of a pipe.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Mutex, MutexGuard};

/// The tag of the client stream; turns are tagged by the program-facing handle's address.
pub const CLIENT_STREAM: usize = 0;

pub struct ReadySet {
    tags: Mutex<VecDeque<usize>>,
    signal: Signal,
}

impl ReadySet {
    pub fn new() -> io::Result<ReadySet> {
        Ok(ReadySet { tags: Mutex::new(VecDeque::new()), signal: Signal::new()? })
    }

    fn tags(&self) -> MutexGuard<'_, VecDeque<usize>> {
        self.tags.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The descriptor to watch for reading; owned by this set.
    pub fn fd(&self) -> RawFd {
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

/// A level the program's loop can watch: raised (readable) or lowered. Only changed under the
/// set's lock, so raise and lower alternate.
struct Signal {
    read: OwnedFd,
    #[cfg(not(target_os = "linux"))]
    write: OwnedFd,
}

impl Signal {
    #[cfg(target_os = "linux")]
    fn new() -> io::Result<Signal> {
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Signal { read: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    #[cfg(not(target_os = "linux"))]
    fn new() -> io::Result<Signal> {
        let mut fds = [0; 2];
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        for fd in fds {
            unsafe {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK);
            }
        }
        unsafe {
            Ok(Signal { read: OwnedFd::from_raw_fd(fds[0]), write: OwnedFd::from_raw_fd(fds[1]) })
        }
    }

    fn read_end(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    fn raise(&self) {
        let one: u64 = 1;
        #[cfg(target_os = "linux")]
        let fd = self.read.as_raw_fd();
        #[cfg(not(target_os = "linux"))]
        let fd = self.write.as_raw_fd();
        // Cannot fail but by overflow, which alternation rules out.
        unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }

    fn lower(&self) {
        let mut buf = [0u8; 8];
        unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readable(fd: RawFd) -> bool {
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }

    #[test]
    fn the_fd_is_readable_exactly_while_something_is_ready() {
        let set = ReadySet::new().unwrap();
        assert!(!readable(set.fd()));
        set.mark(7);
        set.mark(9);
        set.mark(7); // already there
        assert!(readable(set.fd()));
        assert_eq!(set.next(), Some(7));
        assert!(readable(set.fd()));
        assert_eq!(set.next(), Some(9));
        assert!(!readable(set.fd()));
        assert_eq!(set.next(), None);
        set.mark(3);
        set.forget(3);
        assert!(!readable(set.fd()));
        set.mark(4);
        assert!(readable(set.fd()));
    }
}
