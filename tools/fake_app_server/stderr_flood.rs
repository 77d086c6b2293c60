//! `test/stderr_flood`: a server that blocks on its stderr while the client writes to it. The
//! thread that reads stdin writes stderr lines, first until the client's next message is
//! waiting on stdin (so the client is writing while the flood goes on), then `FLOOD_AFTER`
//! bytes more, and only then answers and reads on. A client that does not drain stderr while
//! it writes a long message deadlocks here: the fake blocked on stderr, the client on stdin.
//!
//! It says it started with a `test/flooding` notification, so a test sends its next message
//! only once the flood runs. Where stdin cannot be polled (Windows) only the second part runs.

use crate::json::{obj, Json};
use crate::output::{log, send};
use crate::turn::note;
use std::io;

/// Stderr written after the client's message began to arrive: far more than a pipe holds.
const FLOOD_AFTER: usize = 16 << 20;

pub fn stderr_flood(rid: &Json) -> io::Result<()> {
    send(&note("test/flooding", obj! { "requestId" => rid.clone() }))?;
    let line = "x".repeat(200);
    let mut lines = 0u64;
    while !stdin_waiting() {
        for _ in 0..100 {
            log(&line);
        }
        lines += 100;
    }
    let mut written = 0;
    while written < FLOOD_AFTER {
        log(&line);
        written += line.len() + 7; // "fake: " and the newline
        lines += 1;
    }
    crate::server::result(rid, obj! { "lines" => lines as i64 })
}

/// Whether bytes wait on stdin (the client has begun its next message).
#[cfg(unix)]
fn stdin_waiting() -> bool {
    let mut fd = libc::pollfd { fd: 0, events: libc::POLLIN, revents: 0 };
    unsafe { libc::poll(&mut fd, 1, 0) == 1 }
}

#[cfg(not(unix))]
fn stdin_waiting() -> bool {
    // Cannot tell here: flood the fixed amount only.
    true
}
