//! The platform parts of running the app-server as a child process, one file per platform;
//! `stdio.rs` uses only what this module exports.

#[cfg(target_os = "linux")]
mod linux_watch;
#[cfg(unix)]
mod unix;
mod watch;
#[cfg(windows)]
mod windows;

#[cfg(unix)]
pub use unix::*;
pub use watch::{lock as lock_tail, ChildWatch};
#[cfg(windows)]
pub use windows::*;

use super::threads::IoThread;
use std::ops::{Deref, DerefMut};
use std::process::Command;

/// Starts watching a child's stderr and exit; returns the threads this needed (none with
/// Linux's shared watcher).
pub fn watch_child(watch: ChildWatch) -> Vec<IoThread> {
    #[cfg(target_os = "linux")]
    let watch = match linux_watch::watch(watch) {
        Ok(()) => return Vec::new(),
        Err(watch) => watch, // no pidfd on this kernel
    };
    watch::with_threads(watch)
}

/// A spawned app-server: the standard library's child, and what ends its whole process tree
/// where the platform gives one (a Job Object on Windows). Everything else is the `Child`'s.
pub struct Child {
    child: std::process::Child,
    tree: ProcessTree,
}

/// Spawns `command` the platform's way (on Windows: no console window, in a Job Object).
pub fn spawn(command: &mut Command) -> std::io::Result<Child> {
    prepare(command);
    let child = match command.spawn() {
        Err(e) if is_transient_spawn_error(&e) => {
            log::debug!("spawning the app-server failed ({e}); trying once more");
            command.spawn()?
        }
        spawned => spawned?,
    };
    let tree = ProcessTree::adopt(&child);
    Ok(Child { child, tree })
}

impl Child {
    /// Kills the child, and on Windows every process it started.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.tree.kill();
        self.child.kill()
    }

    /// Ends what the child started and left running after it exited: on Windows the rest of
    /// its Job Object; nothing on Unix, where the child has no process group of its own.
    pub fn end_tree(&self) {
        self.tree.kill();
    }
}

impl Deref for Child {
    type Target = std::process::Child;
    fn deref(&self) -> &std::process::Child {
        &self.child
    }
}

impl DerefMut for Child {
    fn deref_mut(&mut self) -> &mut std::process::Child {
        &mut self.child
    }
}
