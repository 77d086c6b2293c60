//! Watching a spawned app-server: its stderr into the tail, and its exit (even while a
//! grandchild keeps its pipes open). On Linux one process-wide thread watches every child
//! (`linux_watch`); where that is not available each child gets two threads of its own.

use super::super::stderr_tail::StderrTail;
use super::super::threads::{spawn_named, IoThread};
use std::io::Read;
use std::process::ChildStderr;
use std::sync::{Arc, Mutex};

pub type OnExit = Box<dyn FnOnce() + Send>;

pub struct ChildWatch {
    pub pid: u32,
    pub stderr: ChildStderr,
    pub tail: Arc<Mutex<StderrTail>>,
    /// Called once the child has exited (not reaped: whoever holds the `Child` collects it).
    /// Must not block.
    pub on_exit: OnExit,
}

/// Starts watching; returns the threads this needed (none with the shared watcher).
pub fn watch_child(watch: ChildWatch) -> Vec<IoThread> {
    #[cfg(target_os = "linux")]
    let watch = match super::linux_watch::watch(watch) {
        Ok(()) => return Vec::new(),
        Err(watch) => watch, // no pidfd on this kernel
    };
    let ChildWatch { pid, mut stderr, tail, on_exit } = watch;
    let reader = spawn_named("codex-stderr", move || {
        let mut buf = [0u8; 8192];
        loop {
            match stderr.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => lock(&tail).feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        lock(&tail).finish();
    });
    let exit = spawn_named("codex-exit-watch", move || {
        if super::wait_exit_without_reaping(pid) {
            on_exit();
        }
    });
    vec![reader, exit]
}

pub fn lock(tail: &Mutex<StderrTail>) -> std::sync::MutexGuard<'_, StderrTail> {
    tail.lock().unwrap_or_else(|p| p.into_inner())
}
