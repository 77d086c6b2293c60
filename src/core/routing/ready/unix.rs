//! Unix: the event descriptor is an eventfd on Linux, elsewhere the read end of a pipe.

use crate::core::error::{Error, ErrorKind, Result};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A level the program's loop can watch: raised (readable) or lowered. Only changed under the
/// set's lock, so raise and lower alternate.
pub struct Signal {
    read: OwnedFd,
    #[cfg(not(target_os = "linux"))]
    write: OwnedFd,
}

impl Signal {
    /// The error names what failed.
    pub fn new() -> Result<Signal> {
        Signal::make().map_err(|e| {
            Error::new(ErrorKind::Internal, format!("cannot make the event descriptor: {e}"))
        })
    }

    #[cfg(target_os = "linux")]
    fn make() -> io::Result<Signal> {
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Signal { read: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    #[cfg(not(target_os = "linux"))]
    fn make() -> io::Result<Signal> {
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

    pub fn read_end(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    pub fn raise(&self) {
        let one: u64 = 1;
        #[cfg(target_os = "linux")]
        let fd = self.read.as_raw_fd();
        #[cfg(not(target_os = "linux"))]
        let fd = self.write.as_raw_fd();
        // Cannot fail but by overflow, which alternation rules out.
        unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }

    pub fn lower(&self) {
        let mut buf = [0u8; 8];
        unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    }
}

#[cfg(test)]
mod tests {
    use super::super::ReadySet;
    use std::os::fd::RawFd;

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

    #[test]
    fn next_where_skips_unwanted_streams_in_place_and_forget_still_reaches_them() {
        let set = ReadySet::new().unwrap();
        set.mark(3); // unwanted (odd)
        set.mark(4);
        set.mark(5);
        let even = |t: usize| t % 2 == 0;
        assert_eq!(set.next_where(even), Some(4));
        assert_eq!(set.next_where(even), None);
        assert!(readable(set.fd()), "3 and 5 are still ready");
        set.forget(3); // a freed handle: never handed out
        set.mark(6);
        assert_eq!(set.next_where(even), Some(6));
        assert_eq!(set.next(), Some(5));
        assert_eq!(set.next(), None);
        assert!(!readable(set.fd()));
    }

    #[test]
    fn marks_while_the_loop_holds_a_batch_come_after_it_and_forget_reaches_both() {
        let set = ReadySet::new().unwrap();
        set.mark(1);
        set.mark(2);
        set.mark(5);
        assert_eq!(set.next(), Some(1)); // the loop took 1, 2 and 5 at once
        set.mark(3);
        set.forget(5); // from the batch taken
        set.mark(6);
        set.forget(6); // from the marks since
        assert_eq!(set.next(), Some(2));
        assert!(readable(set.fd()), "3 is still to come");
        assert_eq!(set.next(), Some(3));
        assert!(!readable(set.fd()));
        assert_eq!(set.next(), None);
    }
}
