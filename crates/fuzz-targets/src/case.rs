//! The text form of inputs that carry more than one thing (a status and headers and a body,
//! several requests): a head of lines, a blank line, then a body of raw bytes, like an HTTP
//! message. Any bytes are a case; the form only makes seeds easy to write by hand.
//!
//! ```
//! use hubspot_projects_fuzz_targets::case::Case;
//! let case = Case::parse(b"429\r\nretry-after: 3\n\n{\"message\":\"x\"}");
//! assert_eq!(case.head, [&b"429"[..], &b"retry-after: 3"[..]]);
//! assert_eq!(case.header_lines().collect::<Vec<_>>(), [(&b"retry-after"[..], &b"3"[..])]);
//! assert_eq!(case.body, b"{\"message\":\"x\"}");
//! ```

/// A head of lines and a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case<'a> {
    /// The lines before the first blank line, without their line breaks (a `\r` before the
    /// `\n` is dropped too). Without a blank line, every line is head and the body is empty.
    pub head: Vec<&'a [u8]>,
    /// Everything after the first blank line, as it is.
    pub body: &'a [u8],
}

impl<'a> Case<'a> {
    /// Splits `data` at its first blank line (`\n\n` or `\n\r\n`).
    pub fn parse(data: &'a [u8]) -> Self {
        let (head, body) = match blank_line(data) {
            Some((end, body_start)) => (&data[..end], &data[body_start..]),
            None => (data, &data[data.len()..]),
        };
        let head = if head.is_empty() {
            Vec::new()
        } else {
            head.split(|b| *b == b'\n')
                .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
                .collect()
        };
        Self { head, body }
    }

    /// The first line of the head (a status, or a method and a path), empty when there is
    /// none.
    pub fn first_line(&self) -> &'a [u8] {
        self.head.first().copied().unwrap_or_default()
    }

    /// The lines after the first, as `name: value` pairs, both trimmed of spaces and tabs;
    /// a line without a colon is skipped.
    pub fn header_lines(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + '_ {
        self.head.iter().skip(1).filter_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            Some((trim(&line[..colon]), trim(&line[colon + 1..])))
        })
    }
}

/// The end of the head and the start of the body, when there is a blank line.
fn blank_line(data: &[u8]) -> Option<(usize, usize)> {
    let mut at = 0;
    while let Some(offset) = data[at..].iter().position(|b| *b == b'\n') {
        let line_break = at + offset;
        let rest = &data[line_break + 1..];
        if rest.starts_with(b"\n") {
            return Some((line_break, line_break + 2));
        }
        if rest.starts_with(b"\r\n") {
            return Some((line_break, line_break + 3));
        }
        at = line_break + 1;
    }
    None
}

/// `bytes` without leading and trailing spaces and tabs.
pub fn trim(bytes: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |at| at + 1);
    &bytes[start..end]
}

/// Splits `data` at each line that is exactly `separator`, into at most `most` parts (the last
/// part keeps the rest).
pub fn split_parts<'a>(data: &'a [u8], separator: &[u8], most: usize) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while parts.len() + 1 < most {
        let Some(offset) = find(&data[at..], separator) else {
            break;
        };
        let found = at + offset;
        let line_start = found == 0 || data[found - 1] == b'\n';
        let after = found + separator.len();
        let line_end = after == data.len() || data[after] == b'\n';
        if line_start && line_end {
            let part_end = found.saturating_sub(1).max(start);
            parts.push(&data[start..part_end]);
            start = (after + 1).min(data.len());
        }
        at = after;
    }
    parts.push(&data[start..]);
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_without_a_blank_line_is_all_head() {
        let case = Case::parse(b"500\nx-a: b");
        assert_eq!(case.head.len(), 2);
        assert!(case.body.is_empty());
        assert_eq!(Case::parse(b"").head.len(), 0);
        assert_eq!(Case::parse(b"\n\nbody").body, b"body");
        assert_eq!(Case::parse(b"\n\nbody").first_line(), b"");
    }

    #[test]
    fn parts_split_only_at_whole_separator_lines() {
        let data = b"a\n===\nb===\n===\nc";
        assert_eq!(split_parts(data, b"===", 8), [&b"a"[..], b"b===", b"c"]);
        assert_eq!(split_parts(data, b"===", 2), [&b"a"[..], b"b===\n===\nc"]);
        assert_eq!(split_parts(b"===\n", b"===", 8), [&b""[..], b""]);
        assert_eq!(split_parts(b"x", b"===", 8), [&b"x"[..]]);
    }
}
