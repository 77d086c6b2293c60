//! Unix: sockets are file descriptors; `unix://` is a Unix domain socket.

use std::io;
use std::net::TcpStream;
use std::os::unix::io::AsRawFd;
pub use std::os::unix::net::UnixStream;

pub type RawSocket = std::os::unix::io::RawFd;

/// The raw socket of a TCP or Unix stream.
pub trait AsRawSocket {
    fn raw_socket(&self) -> RawSocket;
}

impl AsRawSocket for TcpStream {
    fn raw_socket(&self) -> RawSocket {
        self.as_raw_fd()
    }
}

impl AsRawSocket for UnixStream {
    fn raw_socket(&self) -> RawSocket {
        self.as_raw_fd()
    }
}

/// Reads; when `now`, without blocking (`WouldBlock` when nothing has arrived).
pub fn recv(socket: RawSocket, buf: &mut [u8], now: bool) -> io::Result<usize> {
    let flags = if now { libc::MSG_DONTWAIT } else { 0 };
    loop {
        let n = unsafe { libc::recv(socket, buf.as_mut_ptr().cast(), buf.len(), flags) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Nothing to do on Unix: `shutdown` already wakes a read blocked on the socket.
pub fn cancel_blocked_io(_socket: RawSocket) {}

/// A blocking write; a peer that is gone gives an error, never SIGPIPE.
pub fn send(socket: RawSocket, buf: &[u8]) -> io::Result<usize> {
    loop {
        let n = unsafe { libc::send(socket, buf.as_ptr().cast(), buf.len(), libc::MSG_NOSIGNAL) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
