//! The client core: safe Rust, no C types.
//!
//! Data flows one way per direction. Inbound: transport (the one reader thread: the child's
//! stdout, or a WebSocket) → inbound (one parse per message via `wire`) → rpc waiters /
//! router → per-turn queues → consumer.
//! Outbound: caller → rpc → transport writer thread.

pub mod client;
pub mod dispatch;
pub mod error;
pub mod event;
pub(crate) mod inbound;
pub(crate) mod keys;
pub mod options;
pub mod pool;
pub mod queue;
pub mod ready;
pub mod requests;
pub(crate) mod router;
pub(crate) mod rpc;
mod timer;
pub(crate) mod transport;
pub mod turn;
pub mod turn_summary;
pub mod wire;

pub use client::Client;
pub use error::{Error, ErrorKind};
pub use event::{Event, EventKind};
pub use options::Options;
pub use pool::Pool;
pub use turn::Turn;
