//! A connected byte stream (a TCP or Unix socket, plain or TLS) split in two halves, so that
//! one thread reads while another writes without a lock held across a blocking call:
//! - the read half, owned by the reader thread. Whatever the WebSocket library writes through
//!   it while reading (pongs, the reply to a close frame) is forwarded to the writer thread as
//!   whole frames, so those bytes are serialized with our own frames on the wire;
//! - the write half, owned by the writer thread, the only one that writes to the socket once
//!   the connection is up.

use super::socket::Socket;
use super::tls::{TlsReader, TlsWriter};
use crossbeam_channel::Sender;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When anything last arrived on a connection, for the keepalive.
pub struct Arrival {
    epoch: Instant,
    last_ms: AtomicU64,
}

impl Arrival {
    pub fn new() -> Arrival {
        Arrival { epoch: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn touch(&self) {
        self.last_ms.store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// When something last arrived.
    pub fn last(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// What the reader thread asks of the writer thread.
pub enum Control {
    /// Frames the WebSocket library wrote while reading (a pong, a close reply), whole.
    Frames(Vec<u8>),
    /// TLS wants to send something of its own (e.g. a key update answer).
    FlushTls,
    /// Send a close frame, then end.
    Close(tungstenite::protocol::CloseFrame),
}

enum Source {
    Plain(Socket),
    Tls(TlsReader),
}

/// Where the read half's writes go: the socket during the upgrade handshake (the only thread
/// then), the writer thread afterwards.
enum Out {
    Direct(WriteHalf),
    Forward(Sender<Control>),
}

pub struct ReadHalf {
    source: Source,
    out: Out,
    /// During the handshake: blocking reads end at this deadline.
    deadline: Option<Instant>,
    /// Once live: every read first takes what has arrived without blocking and, when nothing
    /// has, reports `WouldBlock` once, so the reader delivers its batch before it waits.
    probe: bool,
    probed: bool,
    arrival: Arc<Arrival>,
}

impl ReadHalf {
    pub fn plain(socket: Socket, write: WriteHalf, arrival: Arc<Arrival>) -> ReadHalf {
        ReadHalf::new(Source::Plain(socket), write, arrival)
    }

    pub fn tls(reader: TlsReader, write: WriteHalf, arrival: Arc<Arrival>) -> ReadHalf {
        ReadHalf::new(Source::Tls(reader), write, arrival)
    }

    fn new(source: Source, write: WriteHalf, arrival: Arc<Arrival>) -> ReadHalf {
        ReadHalf {
            source,
            out: Out::Direct(write),
            deadline: None,
            probe: false,
            probed: false,
            arrival,
        }
    }

    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// After the handshake: writes go to the writer thread through `control`, reads probe
    /// first. Returns the write half for the writer thread.
    pub fn go_live(&mut self, control: Sender<Control>) -> Option<WriteHalf> {
        self.deadline = None;
        self.probe = true;
        match std::mem::replace(&mut self.out, Out::Forward(control)) {
            Out::Direct(write) => Some(write),
            Out::Forward(_) => None,
        }
    }

    /// The writer thread's control queue, once live.
    pub fn control(&self) -> Option<Sender<Control>> {
        match &self.out {
            Out::Forward(control) => Some(control.clone()),
            Out::Direct(_) => None,
        }
    }

    fn wants_tls_flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Out::Direct(write) => write.flush_tls(),
            Out::Forward(control) => {
                let _ = control.send(Control::FlushTls);
                Ok(())
            }
        }
    }
}

impl Read for ReadHalf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let blocking = !self.probe || std::mem::take(&mut self.probed);
        if let (true, Some(deadline)) = (blocking, self.deadline) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.socket().set_timeout(Some(left))?;
        }
        let mut tls_flush = false;
        let result = match &mut self.source {
            Source::Plain(s) if blocking => s.read(buf),
            Source::Plain(s) => s.read_now(buf),
            Source::Tls(t) => t.read(buf, blocking, &mut tls_flush),
        };
        if tls_flush {
            self.wants_tls_flush()?;
        }
        match &result {
            Ok(n) if *n > 0 => self.arrival.touch(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && !blocking => self.probed = true,
            _ => {}
        }
        result
    }
}

impl ReadHalf {
    fn socket(&self) -> &Socket {
        match &self.source {
            Source::Plain(s) => s,
            Source::Tls(t) => t.socket(),
        }
    }
}

impl Write for ReadHalf {
    /// The WebSocket library writes its whole out-buffer (whole frames) in one call, and this
    /// takes all of it, so each forwarded chunk is a sequence of whole frames.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.out {
            Out::Direct(write) => write.write(buf),
            Out::Forward(control) => {
                // Fails only when the writer has ended, when nothing more is sent anyway.
                let _ = control.send(Control::Frames(buf.to_vec()));
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Out::Direct(write) => write.flush(),
            Out::Forward(_) => Ok(()),
        }
    }
}

pub enum WriteHalf {
    Plain(Socket),
    Tls(TlsWriter),
}

impl WriteHalf {
    /// Sends what TLS has queued of its own.
    pub fn flush_tls(&mut self) -> io::Result<()> {
        match self {
            WriteHalf::Plain(_) => Ok(()),
            WriteHalf::Tls(t) => t.flush_tls(),
        }
    }
}

impl Write for WriteHalf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            WriteHalf::Plain(s) => s.write(buf),
            WriteHalf::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The write half is never read (the WebSocket library's type wants both).
impl Read for WriteHalf {
    fn read(&mut self, _buf: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "the write half is not read"))
    }
}
