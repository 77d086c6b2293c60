//! Windows: sockets are WinSock handles (initialized by the standard library, which makes
//! every socket here). `unix://` is refused: the standard library has no AF_UNIX stream on
//! Windows, so the URL names ws:// as the way to reach a local app-server.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::os::windows::io::AsRawSocket as _;
use std::path::Path;
use std::time::Duration;
use windows_sys::Win32::Networking::WinSock::{
    ioctlsocket, recv as ws_recv, send as ws_send, WSAGetLastError, FIONREAD, SOCKET, SOCKET_ERROR,
};

pub type RawSocket = SOCKET;

/// The raw socket of a TCP stream.
pub trait AsRawSocket {
    fn raw_socket(&self) -> RawSocket;
}

impl AsRawSocket for TcpStream {
    fn raw_socket(&self) -> RawSocket {
        self.as_raw_socket() as SOCKET
    }
}

/// What `unix://` would connect with; there is none on Windows, so it cannot exist.
pub enum UnixStream {}

impl UnixStream {
    pub fn connect(_path: &Path) -> io::Result<UnixStream> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "unix:// is not available on Windows yet; start the app-server with \
             --listen ws://127.0.0.1:PORT and connect to that",
        ))
    }

    pub fn try_clone(&self) -> io::Result<UnixStream> {
        match *self {}
    }

    pub fn shutdown(&self, _how: Shutdown) -> io::Result<()> {
        match *self {}
    }

    pub fn set_read_timeout(&self, _timeout: Option<Duration>) -> io::Result<()> {
        match *self {}
    }

    pub fn set_write_timeout(&self, _timeout: Option<Duration>) -> io::Result<()> {
        match *self {}
    }
}

impl AsRawSocket for UnixStream {
    fn raw_socket(&self) -> RawSocket {
        match *self {}
    }
}

fn last_error() -> io::Error {
    io::Error::from_raw_os_error(unsafe { WSAGetLastError() })
}

/// Reads; when `now`, without blocking (`WouldBlock` when nothing has arrived). WinSock has no
/// per-call non-blocking flag, and switching the socket to non-blocking mode would affect the
/// writer thread too, so `now` asks how many bytes wait and reads only when some do (then the
/// read returns at once). At the peer's end of stream nothing waits either: the reader's next,
/// blocking, read sees it.
pub fn recv(socket: RawSocket, buf: &mut [u8], now: bool) -> io::Result<usize> {
    if now {
        let mut waiting: u32 = 0;
        if unsafe { ioctlsocket(socket, FIONREAD, &mut waiting) } == SOCKET_ERROR {
            return Err(last_error());
        }
        if waiting == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
    }
    let len = buf.len().min(i32::MAX as usize) as i32;
    let n = unsafe { ws_recv(socket, buf.as_mut_ptr(), len, 0) };
    if n == SOCKET_ERROR {
        return Err(last_error());
    }
    Ok(n as usize)
}

/// Ends a read or write blocked on the socket in another thread: on Windows `shutdown` does
/// not (a peer that says nothing leaves `recv` waiting), so the pending I/O of every thread
/// is cancelled, and fails with "operation aborted".
pub fn cancel_blocked_io(socket: RawSocket) {
    unsafe { windows_sys::Win32::System::IO::CancelIoEx(socket as _, std::ptr::null()) };
}

/// A blocking write; a peer that is gone gives an error (Windows has no SIGPIPE).
pub fn send(socket: RawSocket, buf: &[u8]) -> io::Result<usize> {
    let len = buf.len().min(i32::MAX as usize) as i32;
    let n = unsafe { ws_send(socket, buf.as_ptr(), len, 0) };
    if n == SOCKET_ERROR {
        return Err(last_error());
    }
    Ok(n as usize)
}
