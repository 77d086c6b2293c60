//! The I/O threads of a connection: named, and joined with a bound at shutdown.

use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Instant;

/// An I/O thread; `done` disconnects when it ends, so shutdown can wait for it with a bound.
pub struct IoThread {
    handle: JoinHandle<()>,
    pub done: Receiver<()>,
}

pub fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) -> IoThread {
    let (alive, done) = crossbeam_channel::bounded::<()>(0);
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _alive = alive; // dropped when the thread ends
            f()
        })
        .expect("cannot spawn an I/O thread");
    IoThread { handle, done }
}

/// Joins the threads that end before `deadline`; one still blocked then (a grandchild holding
/// a pipe, a peer that never closes) is left to end by itself rather than hang the caller.
pub fn join_until(threads: &Mutex<Vec<IoThread>>, deadline: Instant) {
    let threads = std::mem::take(&mut *threads.lock().unwrap_or_else(|p| p.into_inner()));
    let me = std::thread::current().id();
    for t in threads {
        let ended = matches!(t.done.recv_deadline(deadline), Err(RecvTimeoutError::Disconnected));
        if ended && t.handle.thread().id() != me {
            let _ = t.handle.join();
        }
    }
}
