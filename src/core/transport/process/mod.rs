//! The platform parts of running the app-server as a child process, one file per platform;
//! `stdio.rs` uses only what this module exports.

#[cfg(target_os = "linux")]
mod linux_watch;
#[cfg(unix)]
mod unix;
mod watch;

#[cfg(unix)]
pub use unix::*;
pub use watch::{lock as lock_tail, watch_child, ChildWatch};
