//! The last lines of a spawned app-server's stderr, which its failure reports. Fed in chunks
//! as they arrive; a line is cut at `LINE_MAX` bytes as it streams in, so a server writing an
//! endless line costs no more memory than that.

use std::collections::VecDeque;

const TAIL_LINES: usize = 20;
const LINE_MAX: usize = 2000;

#[derive(Default)]
pub struct StderrTail {
    lines: VecDeque<String>,
    /// The line being received (its first `LINE_MAX` bytes).
    partial: Vec<u8>,
    /// Stderr reached its end (or failed): nothing more will come.
    pub done: bool,
}

impl StderrTail {
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while let Some(newline) = memchr::memchr(b'\n', bytes) {
            self.keep(&bytes[..newline]);
            self.end_line();
            bytes = &bytes[newline + 1..];
        }
        self.keep(bytes);
    }

    /// Stderr is closed: the last line counts even without its newline.
    pub fn finish(&mut self) {
        if !self.partial.is_empty() {
            self.end_line();
        }
        self.done = true;
    }

    /// `"; stderr was empty"` or `"; last stderr lines:\n..."`, to append to a failure.
    pub fn describe(&self) -> String {
        if self.lines.is_empty() {
            return "; stderr was empty".to_owned();
        }
        let lines: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        format!("; last stderr lines:\n{}", lines.join("\n"))
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = LINE_MAX.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn end_line(&mut self) {
        let line = String::from_utf8_lossy(&self.partial).trim_end().to_owned();
        self.partial.clear();
        if self.lines.len() == TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_lines_cut_and_in_order_across_chunks() {
        let mut tail = StderrTail::default();
        assert_eq!(tail.describe(), "; stderr was empty");
        for i in 0..25 {
            let line = format!("line {i}\n");
            let (a, b) = line.as_bytes().split_at(3);
            tail.feed(a);
            tail.feed(b);
        }
        tail.feed(&vec![b'x'; 100_000]);
        tail.feed(b"\nlast without newline");
        tail.finish();
        assert!(tail.done);
        let text = tail.describe();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(lines.len(), TAIL_LINES);
        assert_eq!(lines[0], "line 7");
        assert_eq!(lines[TAIL_LINES - 2].len(), LINE_MAX);
        assert_eq!(lines[TAIL_LINES - 1], "last without newline");
    }
}
