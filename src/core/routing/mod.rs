//! Messages and routing: one pass over each inbound line (`wire`, `keys`), responses to their
//! waiters (`rpc`), notifications to the stream of their turn or the client stream (`router`,
//! `queue`, `event`), server requests to whoever answers them (`requests`), and delivery to
//! callbacks (`dispatch`) or an event loop (`ready`). `inbound` is the reader thread's entry.
//!
//! Below: the transport (lines in, lines out) and the protocol's pure data. Above: the
//! connection, which owns one of each of these per app-server.

pub mod dispatch;
pub mod event;
pub(crate) mod inbound;
#[cfg(test)]
mod interleavings;
pub(crate) mod keys;
pub mod queue;
pub mod ready;
pub(crate) mod replay;
pub mod requests;
pub(crate) mod router;
pub(crate) mod rpc;
pub mod wire;
