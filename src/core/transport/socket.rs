//! A connected socket (TCP or Unix), shared by clones, with reads and writes that never raise
//! SIGPIPE and can be cancelled from another thread; and connecting one within a deadline.
//! The plain layer under both the TLS session (`tls`) and the stream's halves (`stream`).
//! Connecting may be cancelled (`connect_or_cancel`).

use super::cancel::Cancel;
use super::net::{self, AsRawSocket, RawSocket, UnixStream};
use super::url::Endpoint;
use crate::core::error::{Error, ErrorKind, Result};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::{Duration, Instant};

/// A connected socket. Clones (`try_clone`) share the connection.
pub enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Socket {
    pub fn try_clone(&self) -> io::Result<Socket> {
        Ok(match self {
            Socket::Tcp(s) => Socket::Tcp(s.try_clone()?),
            Socket::Unix(s) => Socket::Unix(s.try_clone()?),
        })
    }

    /// Ends the connection both ways: blocked reads and writes on every clone return.
    pub fn shutdown(&self) {
        let _ = match self {
            Socket::Tcp(s) => s.shutdown(Shutdown::Both),
            Socket::Unix(s) => s.shutdown(Shutdown::Both),
        };
        net::cancel_blocked_io(self.raw());
    }

    /// The limit of each blocking read and write; `None`: none. A zero duration is taken as
    /// the smallest positive one (the OS refuses zero).
    pub fn set_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let timeout = timeout.map(|t| t.max(Duration::from_millis(1)));
        match self {
            Socket::Tcp(s) => {
                s.set_read_timeout(timeout).and_then(|()| s.set_write_timeout(timeout))
            }
            Socket::Unix(s) => {
                s.set_read_timeout(timeout).and_then(|()| s.set_write_timeout(timeout))
            }
        }
    }

    fn raw(&self) -> RawSocket {
        match self {
            Socket::Tcp(s) => s.raw_socket(),
            Socket::Unix(s) => s.raw_socket(),
        }
    }

    /// A blocking read.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        net::recv(self.raw(), buf, false)
    }

    /// Reads what has arrived without blocking; `WouldBlock` when nothing has.
    pub fn read_now(&self, buf: &mut [u8]) -> io::Result<usize> {
        net::recv(self.raw(), buf, true)
    }

    /// A blocking write; a peer that is gone gives an error, never SIGPIPE.
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        net::send(self.raw(), buf)
    }

    pub fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf)? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }
}

/// `Read`/`Write` over a shared socket, for handshakes that want a stream.
impl Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Socket::read(self, buf)
    }
}

impl Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Socket::write(self, buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `connect` on a helper thread, so that neither a cancel nor `deadline` waits for it (a TCP
/// connect or a name lookup cannot be interrupted, a Unix socket connect into a full queue
/// has no timeout): an abandoned connect is left to end by itself, and its socket is dropped.
pub fn connect_or_cancel(
    endpoint: &Endpoint,
    unix_path: Option<&Path>,
    deadline: Instant,
    cancel: &Cancel,
) -> Result<Socket> {
    let (done_tx, done) = crossbeam_channel::bounded(1);
    let (target, path) = (endpoint.clone(), unix_path.map(Path::to_path_buf));
    std::thread::Builder::new()
        .name("codex-connect".into())
        .spawn(move || {
            let _ = done_tx.send(connect(&target, path.as_deref(), deadline));
        })
        .map_err(|e| {
            Error::new(ErrorKind::Transport, format!("cannot connect to {endpoint}: {e}"))
        })?;
    let (stop_tx, mut stop) = crossbeam_channel::bounded::<()>(1);
    cancel.on_cancel(move || {
        let _ = stop_tx.try_send(());
    })?;
    // Also bounds what cannot bound itself (a Unix socket connect into a full queue).
    let timeout = crossbeam_channel::at(deadline);
    loop {
        crossbeam_channel::select! {
            recv(done) -> connected => {
                return connected.unwrap_or_else(|_| Err(connect_thread_died()))
            }
            recv(stop) -> _ => {
                cancel.check()?;
                stop = crossbeam_channel::never(); // dropped without a cancel
            }
            recv(timeout) -> _ => {
                return Err(Error::new(
                    ErrorKind::Transport,
                    format!("cannot connect to {endpoint}: not connected within the connect timeout"),
                ))
            }
        }
    }
}

fn connect_thread_died() -> Error {
    Error::new(ErrorKind::Internal, "the connecting thread ended without an answer")
}

/// Connects to a TCP endpoint or a Unix socket before `deadline`. The error names the address.
pub fn connect(endpoint: &Endpoint, unix_path: Option<&Path>, deadline: Instant) -> Result<Socket> {
    let transport = |message: String| Error::new(ErrorKind::Transport, message);
    match (endpoint, unix_path) {
        (Endpoint::Tcp { host, port, .. }, _) => {
            let addrs = resolve(host, *port, deadline).map_err(|e| {
                transport(format!("cannot connect to {endpoint}: cannot resolve \"{host}\": {e}"))
            })?;
            let mut failures = Vec::new();
            for addr in &addrs {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    failures.push(format!("{addr}: not tried, the connect timeout passed"));
                    continue;
                }
                match TcpStream::connect_timeout(addr, left) {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(Socket::Tcp(s));
                    }
                    Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                        failures.push(format!("{addr}: timed out"))
                    }
                    Err(e) => failures.push(format!("{addr}: {e}")),
                }
            }
            Err(transport(format!("cannot connect to {endpoint}: {}", failures.join("; "))))
        }
        (Endpoint::Unix { path }, Some(socket_path)) => {
            UnixStream::connect(socket_path).map(Socket::Unix).map_err(|e| {
                let hint = match (path, e.kind()) {
                    (_, io::ErrorKind::Unsupported) => "", // the platform has no unix://
                    (None, _) => " (is the daemon running? `codex app-server daemon start`)",
                    (Some(_), io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused) => {
                        " (is `codex app-server --listen unix://PATH` running?)"
                    }
                    _ => "",
                };
                transport(format!(
                    "cannot connect to {endpoint} ({}): {e}{hint}",
                    socket_path.display()
                ))
            })
        }
        _ => Err(Error::new(ErrorKind::Internal, format!("connect: not a socket URL: {endpoint}"))),
    }
}

/// The addresses of `host`. Name resolution cannot be given a timeout, so a name (not an IP
/// literal) is resolved on a helper thread and waited for until `deadline`.
fn resolve(host: &str, port: u16, deadline: Instant) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = crossbeam_channel::bounded(1);
    let name = (host.to_owned(), port);
    std::thread::Builder::new().name("codex-resolve".into()).spawn(move || {
        let _ = tx.send(name.to_socket_addrs().map(Iterator::collect::<Vec<_>>));
    })?;
    match rx.recv_deadline(deadline) {
        Ok(Ok(addrs)) if addrs.is_empty() => Err(io::Error::other("no addresses")),
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
    }
}
