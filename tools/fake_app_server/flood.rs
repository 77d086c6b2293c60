//! The benchmark's flood: every turn's deltas interleaved on the wire, then each turn's
//! completion, built before the first request so that writing it costs nothing but the writes.
//! bench/ reads it line by line; its bytes are those the Python fake wrote.

use crate::config::config;
use crate::output::{log, send_raw};
use crate::turn::completed_note;
use std::fmt::Write;
use std::io;
use std::time::Instant;

/// The size of each write, as the Python fake's.
const CHUNK: usize = 1 << 20;

pub fn build() -> Vec<u8> {
    let started = Instant::now();
    let cfg = config();
    let turns: Vec<(String, String)> = (1..=cfg.flood_turns.max(0))
        .map(|t| (format!("{}{t}", cfg.thread_prefix), format!("turn_{t}")))
        .collect();
    // Sized from the longest turn's line, so the text is never copied to grow.
    let longest = turns.last().map_or(0, |(thread, turn)| thread.len() + 2 * turn.len());
    let mut blob = String::with_capacity(cfg.deltas * turns.len() * (130 + longest));
    let mut lines = 0usize;
    for i in 0..cfg.deltas {
        for (thread, turn) in &turns {
            // Written by hand (the prefix unescaped, as the Python fake's %s did): this is the
            // hot loop of a flood of millions of lines.
            let _ = writeln!(
                blob,
                "{{\"method\":\"item/agentMessage/delta\",\"params\":{{\"threadId\":\"{thread}\",\
                 \"turnId\":\"{turn}\",\"itemId\":\"msg_{turn}\",\"delta\":\"tok{i:06} \"}},\
                 \"emittedAtMs\":1764000000000}}"
            );
            lines += 1;
        }
    }
    for (thread, turn) in &turns {
        blob.push_str(&completed_note(thread, turn, "completed").line());
        lines += 1;
    }
    log(&format!(
        "flood: {lines} lines, {} bytes, built in {:.2}s",
        blob.len(),
        started.elapsed().as_secs_f64()
    ));
    blob.into_bytes()
}

/// Writes the flood in 1 MiB writes. `crash_at` (FAKE_CRASH_AT) non-zero: only that fraction
/// of it, then exit 4, mid-line.
pub fn write(blob: &[u8], crash_at: f64) -> io::Result<()> {
    let end =
        if crash_at != 0.0 { (blob.len() as f64 * crash_at) as i64 } else { blob.len() as i64 };
    let stop = end.clamp(0, blob.len() as i64) as usize;
    for chunk in blob[..stop].chunks(CHUNK) {
        send_raw(chunk)?;
    }
    if crash_at != 0.0 {
        log(&format!("flood: crashing after {end} of {} bytes", blob.len()));
        std::process::exit(4);
    }
    Ok(())
}
