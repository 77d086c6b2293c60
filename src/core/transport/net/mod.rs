//! The platform parts of the socket transports, one file per platform; `stream.rs` uses only
//! what this module exports: the Unix socket type (refused on Windows), a socket's raw handle,
//! and blocking or non-blocking reads and writes on it that never raise SIGPIPE.

#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub use unix::*;
#[cfg(windows)]
pub use windows::*;
