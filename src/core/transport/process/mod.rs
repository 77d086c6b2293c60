//! The platform parts of running the app-server as a child process, one file per platform;
//! `stdio.rs` uses only what this module exports.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;
