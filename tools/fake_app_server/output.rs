//! Stdout and stderr. Every write holds the stdout lock for a whole message and flushes it, so
//! the lines of concurrent streams never mix and each one reaches the client at once.

use crate::json::Json;
use std::io::{self, Write};

/// Writes bytes (whole lines, or a chunk of the flood) at once.
pub fn send_raw(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Writes one message.
pub fn send(msg: &Json) -> io::Result<()> {
    send_raw(msg.line().as_bytes())
}

/// Closes the process's stdout (fd 1; the CRT's fd 1 and its handle on Windows) while no message
/// is half written: the client sees EOF while the process lives on. Later writes are dropped
/// (the standard library treats a closed stdout as a sink).
pub fn close_stdout() {
    let mut out = io::stdout().lock();
    let _ = out.flush();
    // SAFETY: fd 1 is not used by anything but the stdout handle, whose lock is held.
    unsafe { libc::close(1) };
}

/// One line on stderr, "fake: " first (tests and the library's stderr tail look for them).
pub fn log(msg: &str) {
    let line = format!("fake: {msg}\n");
    let mut err = io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
}

/// Python's repr of bytes (`b'...'`), for the first bytes of a line the fake cannot parse.
pub fn bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') { '"' } else { '\'' };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(quote);
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            _ if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote);
    out
}
