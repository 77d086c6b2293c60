//! The connection to the app-server, behind one interface: queue a message for the writer,
//! hand each inbound message to an `Inbound`, report the one failure through `OnFailure`.
//! Nothing above this module knows which kind of connection it is.
//!
//! Kinds, picked by the options' URL: `stdio` (a spawned `codex app-server`, JSON lines over
//! its stdin/stdout) and `websocket` (a remote one over `ws://`/`wss://`, or one on a Unix
//! socket, one message per text frame).

mod cancel;
mod framing;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use framing::{Frame, LineReader};
mod net;
mod process;
mod settings;
mod socket;
mod stderr_tail;
mod stdio;
mod stream;
mod threads;
mod tls;
mod url;
mod websocket;

pub use cancel::Cancel;
pub use settings::{Keepalive, Secret, Settings};
pub use url::{parse as parse_url, Endpoint};

/// Checks that a CA file (for `wss://`) can be read and holds certificates.
pub fn check_ca_file(path: &std::path::Path) -> Result<()> {
    tls::read_ca_file(path).map(|_| ())
}

use super::error::{Error, ErrorKind, Result};
use crossbeam_channel::{unbounded, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the reader thread hands each inbound message to.
pub trait Inbound: Send + 'static {
    /// One message (a line without its newline). Returns a message to write back (an answer to
    /// a server request), which the writer sends without the reader ever blocking on it.
    fn line(&mut self, line: &[u8]) -> Option<Vec<u8>>;
    /// A message longer than the limit was discarded as it streamed in; `bytes` is its length.
    fn oversized(&mut self, bytes: u64, limit: usize);
    /// The reader is about to block: deliver what this batch produced.
    fn batch_end(&mut self);
    /// Called first on the reader thread, before its first read: the layers above set up what
    /// belongs to that thread (this layer knows nothing of them).
    fn reader_started(&mut self);
}

/// Ends every waiter and stream with the transport's failure. The first call decides, later
/// ones change nothing.
pub type OnFailure = Arc<dyn Fn(Error) + Send + Sync>;

/// The writer thread's queue of outbound messages (each without framing).
type WriterSlot = Arc<Mutex<WriterState>>;

#[derive(Default)]
struct WriterState {
    /// `None` once shut down, or while the connection is down (`down` says why).
    queue: Option<Sender<Vec<u8>>>,
    /// Set while the connection is down and may come back (`Transport::suspend`).
    down: Option<Error>,
    /// Shut down for good: nothing is adopted any more.
    closed: bool,
}

/// A handle on the writer that other parts (server-request answers) can keep.
#[derive(Clone)]
pub struct Writer(WriterSlot);

impl Writer {
    fn new(queue: Sender<Vec<u8>>) -> Writer {
        Writer(Arc::new(Mutex::new(WriterState { queue: Some(queue), ..Default::default() })))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, WriterState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A writer whose messages go to `queue` (tests of what is sent, without a transport).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn to_channel(queue: Sender<Vec<u8>>) -> Writer {
        Writer::new(queue)
    }

    /// Queues one message; never blocks on the connection.
    pub fn send(&self, message: Vec<u8>) -> Result<()> {
        let state = self.state();
        match state.queue.as_ref().map(|w| w.send(message)) {
            Some(Ok(())) => Ok(()),
            _ => Err(state
                .down
                .clone()
                .unwrap_or_else(|| Error::new(ErrorKind::Closed, "the client is closed"))),
        }
    }

    /// Drops the queue: the writer thread ends once it has written what was queued.
    fn close(&self) {
        let mut state = self.state();
        state.queue = None;
        state.closed = true;
    }
}

/// The kind-specific part of a connection.
trait Link: Send + Sync {
    /// The app-server's process id, when this side spawned it.
    fn pid(&self) -> u32;
    /// Called after the writer's queue is closed: ends the connection within about `grace`
    /// and joins the I/O threads that end in time.
    fn shutdown(&self, grace: Duration);
}

pub struct Transport {
    writer: Writer,
    link: Mutex<Box<dyn Link>>,
    /// Kept so that the queue stays open after the writer thread has ended with the
    /// connection: a message sent then is dropped, and its caller gets the transport's failure
    /// (which is set by then) instead of a misleading "closed".
    _queue: Mutex<Receiver<Vec<u8>>>,
    /// The writer the current link was started with, after a reconnect (`adopt`): its reader
    /// writes replies through it, and the shutdown closes it too, so that the writer thread
    /// sees its queue end.
    link_writer: Mutex<Option<Writer>>,
}

impl Transport {
    /// Connects as the settings say (spawns the server, or connects to the URL) and starts the
    /// I/O threads. `cancel` ends a connect or upgrade in progress (a spawn is never long).
    pub fn start(
        settings: &Settings,
        inbound: impl Inbound,
        on_failure: OnFailure,
        cancel: &Cancel,
    ) -> Result<Transport> {
        settings.check_consistent()?;
        cancel.check()?;
        let (tx, queue) = unbounded::<Vec<u8>>();
        let writer = Writer::new(tx);
        let link: Box<dyn Link> = match settings.endpoint {
            Endpoint::Stdio => Box::new(stdio::spawn(
                settings,
                queue.clone(),
                writer.clone(),
                inbound,
                on_failure,
            )?),
            Endpoint::Tcp { .. } | Endpoint::Unix { .. } => Box::new(websocket::connect(
                settings,
                queue.clone(),
                writer.clone(),
                inbound,
                on_failure,
                cancel,
            )?),
        };
        Ok(Transport {
            writer,
            link: Mutex::new(link),
            _queue: Mutex::new(queue),
            link_writer: Mutex::new(None),
        })
    }

    /// The connection is down and may come back: messages sent from now until `adopt` fail at
    /// once with `error` (nothing is queued for a dead link).
    pub fn suspend(&self, error: Error) {
        let mut state = self.writer.state();
        if !state.closed {
            state.queue = None;
            state.down = Some(error);
        }
    }

    /// Connects again: `next` (a transport started with `start` and used on its own for the
    /// handshake) becomes this one's link, and messages sent through this transport's writer
    /// go to it. Refused, handing `next` back, once this transport is shut down.
    pub fn adopt(&self, next: Transport) -> std::result::Result<(), Transport> {
        let old = {
            let mut state = self.writer.state();
            if state.closed {
                return Err(next);
            }
            let Some(queue) = next.writer.state().queue.clone() else {
                return Err(next);
            };
            state.queue = Some(queue);
            state.down = None;
            let Transport { writer, link, _queue: queue, .. } = next;
            *self._queue.lock().unwrap_or_else(|p| p.into_inner()) =
                queue.into_inner().unwrap_or_else(|p| p.into_inner());
            let previous =
                self.link_writer.lock().unwrap_or_else(|p| p.into_inner()).replace(writer);
            if let Some(previous) = previous {
                previous.close();
            }
            let link = link.into_inner().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *self.link.lock().unwrap_or_else(|p| p.into_inner()), link)
        };
        // The old link is dead: its threads are joined outside the writer's lock.
        old.shutdown(Duration::ZERO);
        Ok(())
    }

    /// Queues one message for the writer thread (never blocks on the connection).
    pub fn send(&self, message: Vec<u8>) -> Result<()> {
        self.writer.send(message)
    }

    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// The app-server's process id; 0 when it was not spawned by this client.
    pub fn pid(&self) -> u32 {
        self.link.lock().unwrap_or_else(|p| p.into_inner()).pid()
    }

    /// Stops writing, ends the connection (a spawned server gets `grace` to exit before it is
    /// killed) and joins the I/O threads that end in time.
    pub fn shutdown(&self, grace: Duration) {
        self.writer.close();
        if let Some(writer) = self.link_writer.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            writer.close();
        }
        self.link.lock().unwrap_or_else(|p| p.into_inner()).shutdown(grace);
    }
}
