//! Line framing of a byte stream (the stdio transport): one JSON-RPC message per line, with a
//! limit on a line's length that is enforced as the bytes stream in, so an endless line costs
//! no more memory than the limit.

use std::io::{BufRead, BufReader, Read};

/// What `LineReader::next` found.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A line without its newline (the last line of the stream may lack one).
    Line(&'a [u8]),
    /// A line longer than the limit, discarded; `bytes` is its length without the newline.
    Oversized { bytes: u64 },
}

pub struct LineReader<R> {
    reader: BufReader<R>,
    /// Longest line kept; `None`: no limit.
    max_line: Option<usize>,
    /// A line that spans reads, collected here until its newline arrives.
    partial: Vec<u8>,
    /// Bytes of the line handed out last, still in the read buffer until the next call.
    consumed: usize,
    /// `partial` was handed out by the last call.
    partial_out: bool,
    /// Bytes of an over-long line seen so far, while it is being discarded.
    skipping: Option<u64>,
}

impl<R: Read> LineReader<R> {
    /// `buffer` is the size of each read; `max_line` 0 means no limit.
    pub fn new(source: R, buffer: usize, max_line: usize) -> Self {
        LineReader {
            reader: BufReader::with_capacity(buffer, source),
            max_line: (max_line > 0).then_some(max_line),
            partial: Vec::new(),
            consumed: 0,
            partial_out: false,
            skipping: None,
        }
    }

    /// The limit on a line's length; 0: none.
    pub fn max_line(&self) -> usize {
        self.max_line.unwrap_or(0)
    }

    /// Whether no whole line is left of what was read so far: the next call reads (and may
    /// block). A line cut by the end of the buffer counts as unread, or a stream that never
    /// pauses on a line boundary would never end a batch.
    pub fn drained(&self) -> bool {
        memchr::memchr(b'\n', &self.reader.buffer()[self.consumed..]).is_none()
    }

    /// The next line, or `None` at the end of the stream.
    pub fn next(&mut self) -> std::io::Result<Option<Frame<'_>>> {
        self.reader.consume(std::mem::take(&mut self.consumed));
        self.release_partial();
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(self.at_end());
            }
            let newline = memchr::memchr(b'\n', chunk);
            let take = newline.unwrap_or(chunk.len());
            if let Some(seen) = &mut self.skipping {
                *seen += take as u64;
                if newline.is_none() {
                    self.reader.consume(take);
                    continue;
                }
                let bytes = *seen;
                self.skipping = None;
                self.reader.consume(take + 1);
                return Ok(Some(Frame::Oversized { bytes }));
            }
            let length = self.partial.len() + take;
            if self.max_line.is_some_and(|max| length > max) {
                self.skipping = Some(self.partial.len() as u64);
                self.partial_out = true;
                self.release_partial();
                continue; // counts this chunk again, now as skipped
            }
            match newline {
                // The whole line is in the buffer: hand it out without copying.
                Some(end) if self.partial.is_empty() => {
                    self.consumed = end + 1;
                    return Ok(Some(Frame::Line(&self.reader.buffer()[..end])));
                }
                Some(end) => {
                    self.partial.extend_from_slice(&chunk[..end]);
                    self.reader.consume(end + 1);
                    return Ok(Some(Frame::Line(self.take_partial())));
                }
                None => {
                    self.partial.extend_from_slice(chunk);
                    self.reader.consume(take);
                }
            }
        }
    }

    /// The stream ended: a last line without a newline still counts.
    fn at_end(&mut self) -> Option<Frame<'_>> {
        if let Some(bytes) = self.skipping.take() {
            return Some(Frame::Oversized { bytes });
        }
        if self.partial.is_empty() {
            return None;
        }
        Some(Frame::Line(self.take_partial()))
    }

    /// Hands out the collected line; the next call clears it.
    fn take_partial(&mut self) -> &[u8] {
        self.partial_out = true;
        &self.partial
    }

    /// Clears a collected line handed out by the last call. Its buffer is kept for the next
    /// long line unless it grew large: a 60 MiB line should not pin 60 MiB for good.
    fn release_partial(&mut self) {
        const KEEP: usize = 1 << 20;
        if std::mem::take(&mut self.partial_out) {
            self.partial.clear();
            if self.partial.capacity() > KEEP {
                self.partial = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame of `input` read through a buffer of `buffer` bytes.
    fn frames(input: &[u8], buffer: usize, max: usize) -> Vec<Result<Vec<u8>, u64>> {
        let mut reader = LineReader::new(input, buffer, max);
        let mut out = Vec::new();
        while let Some(frame) = reader.next().unwrap() {
            out.push(match frame {
                Frame::Line(line) => Ok(line.to_vec()),
                Frame::Oversized { bytes } => Err(bytes),
            });
        }
        out
    }

    #[test]
    fn lines_across_buffer_boundaries_and_a_last_line_without_newline() {
        let input = b"{\"a\":1}\n\nsecond line\nlast";
        for buffer in [1, 2, 3, 7, 64] {
            let got = frames(input, buffer, 0);
            let want: Vec<Result<Vec<u8>, u64>> = vec![
                Ok(b"{\"a\":1}".to_vec()),
                Ok(vec![]),
                Ok(b"second line".to_vec()),
                Ok(b"last".to_vec()),
            ];
            assert_eq!(got, want, "buffer {buffer}");
        }
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_measured_and_the_next_one_arrives() {
        let mut input = b"ok\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1000));
        input.extend_from_slice(b"\nafter\n12345\n123456");
        for buffer in [1, 4, 16, 4096] {
            let got = frames(&input, buffer, 5);
            let want: Vec<Result<Vec<u8>, u64>> = vec![
                Ok(b"ok".to_vec()),
                Err(1000),
                Ok(b"after".to_vec()),
                Ok(b"12345".to_vec()),
                Err(6),
            ];
            assert_eq!(got, want, "buffer {buffer}");
        }
    }

    #[test]
    fn drained_tells_when_the_next_call_would_read() {
        let mut reader = LineReader::new(&b"a\nb\n"[..], 64, 0);
        assert_eq!(reader.next().unwrap(), Some(Frame::Line(b"a")));
        assert!(!reader.drained());
        assert_eq!(reader.next().unwrap(), Some(Frame::Line(b"b")));
        assert!(reader.drained());
        assert_eq!(reader.next().unwrap(), None);
        // A line cut by the end of what was read: the next call reads.
        let mut reader = LineReader::new(&b"a\nb\nc"[..], 4, 0);
        assert_eq!(reader.next().unwrap(), Some(Frame::Line(b"a")));
        assert!(!reader.drained());
        assert_eq!(reader.next().unwrap(), Some(Frame::Line(b"b")));
        assert!(reader.drained());
    }

    /// A source that yields an endless line, counting what it gave.
    struct Endless(u64);
    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 >= 64 << 20 {
                buf[0] = b'\n';
                self.0 += 1;
                return Ok(1);
            }
            buf.fill(b'x');
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
    }

    #[test]
    fn an_endless_line_is_discarded_without_buffering_it() {
        let mut reader = LineReader::new(Endless(0), 1 << 16, 1 << 20);
        assert_eq!(reader.next().unwrap(), Some(Frame::Oversized { bytes: 64 << 20 }));
        assert!(reader.partial.capacity() <= 2 << 20, "kept {}", reader.partial.capacity());
    }
}
