//! Watching a spawned app-server: its stderr into the tail, and its exit (even while a
//! grandchild keeps its pipes open). What a watch is given, and the portable way: two threads
//! of the child's own. (On Linux one process-wide thread watches every child instead,
//! `linux_watch`; `watch_child` in the module picks.)

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

/// Watches with two threads of the child's own; returns them.
pub fn with_threads(watch: ChildWatch) -> Vec<IoThread> {
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
