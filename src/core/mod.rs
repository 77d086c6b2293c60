//! The client core: safe Rust, no C types. Floors, each importing only the ones below it:
//!
//! ```text
//! pool         many connections: placement, health, restart
//! client/      what a program does on one connection: requests, threads, turns, summaries
//! connection   a transport and what lives on it: handshake, waiters, routing, close;
//!              reconnect beside it: a dropped socket connected again, threads resumed
//! routing/     messages: one parse per line, responses to waiters, events to their turn's
//!              queue, server requests to whoever answers, delivery to callbacks or a loop
//! protocol/    the protocol's data built and read without threads or I/O
//! transport/   bytes and frames: a spawned app-server over stdio, or a WebSocket (TCP, TLS,
//!              Unix socket); knows nothing above lines and its own failure
//! leaves       error, timer, panic (and options, the settings every floor reads its part of)
//! ```
//!
//! Data flows one way per direction. Inbound: transport (the one reader thread) → routing
//! (`inbound`: one parse per message via `wire`) → rpc waiters / router → per-turn queues →
//! consumer. Outbound: caller → rpc → transport writer thread.

pub mod client;
pub(crate) mod connection;
pub mod error;
pub mod options;
pub(crate) mod panic;
pub mod pool;
pub mod protocol;
pub(crate) mod reconnect;
pub mod routing;
mod timer;
pub(crate) mod transport;

pub use client::turn::Turn;
pub use client::Client;
pub use error::{Error, ErrorKind};
pub use options::Options;
pub use pool::Pool;
pub use routing::event::{Event, EventKind};
