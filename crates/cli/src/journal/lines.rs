//! Journal lines, read with a bound on their length.

use std::io::{self, BufRead, Read};

/// The longest journal line accepted (header or entry). An entry holds an id, HubSpot's record
/// id and a hash: far less. A longer line is damage, or not a journal at all.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One line: its text (without the line break) and whether it was complete.
pub(super) struct Line<'a> {
    pub number: u64,
    pub text: &'a [u8],
    /// False for a last line without a line break, as a killed run can leave.
    pub complete: bool,
}

pub(super) enum LineError {
    Io(io::Error),
    TooLong(u64),
}

pub(super) struct Lines<R> {
    reader: R,
    buffer: Vec<u8>,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buffer: Vec::new(),
            number: 0,
        }
    }

    pub fn next_line(&mut self) -> Result<Option<Line<'_>>, LineError> {
        self.buffer.clear();
        let read = (&mut self.reader)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut self.buffer)
            .map_err(LineError::Io)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let complete = self.buffer.last() == Some(&b'\n');
        let text_len = self.buffer.len() - usize::from(complete);
        if text_len > MAX_LINE_BYTES {
            return Err(LineError::TooLong(self.number));
        }
        Ok(Some(Line {
            number: self.number,
            text: &self.buffer[..text_len],
            complete,
        }))
    }
}
