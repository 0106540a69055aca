//! Reading a journal back, trusting nothing that cannot be checked.

use super::check::{ConfirmedRows, RowMismatch};
use super::entry::JournalEntry;
use super::error::{JournalError, START_OVER};
use super::header::{FORMAT_VERSION, JournalHeader};
use super::lines::{LineError, Lines};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// Bounds a journal's entries must stay within, from what is known of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalLimits {
    /// The highest line a row of the input can start on.
    pub max_input_line: u64,
}

impl JournalLimits {
    /// The limits for an input of `size` bytes (a regular file): no row starts past line
    /// `size + 1`. `None` (standard input, a pipe) bounds nothing but the journal's own size.
    ///
    /// ```
    /// use hubspot_projects_cli::journal::JournalLimits;
    /// assert_eq!(JournalLimits::for_input_size(Some(10)).max_input_line, 11);
    /// ```
    pub fn for_input_size(size: Option<u64>) -> Self {
        Self {
            max_input_line: size.map_or(u64::MAX, |size| size.saturating_add(1)),
        }
    }
}

/// The entries of a journal, in file order, after its header. A last line without a line
/// break (left by a killed run) is not returned; the first damaged line ends the entries with
/// an error.
pub struct Entries {
    path: PathBuf,
    lines: Lines<BufReader<File>>,
    limits: JournalLimits,
    done: bool,
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entries")
            .field("path", &self.path)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Entries {
    fn next_entry(&mut self) -> Result<Option<JournalEntry>, JournalError> {
        let damaged = |message: String| JournalError::Damaged {
            path: self.path.clone(),
            message,
        };
        let line = match self.lines.next_line() {
            Ok(Some(line)) if line.complete => line,
            Ok(_) => return Ok(None),
            Err(LineError::Io(source)) => {
                return Err(JournalError::Io {
                    path: self.path.clone(),
                    source,
                });
            }
            Err(LineError::TooLong(number)) => {
                return Err(damaged(format!(
                    "line {number} is longer than {} MiB, far longer than any entry",
                    super::MAX_LINE_BYTES >> 20
                )));
            }
        };
        let number = line.number;
        let entry: JournalEntry = serde_json::from_slice(line.text)
            .map_err(|e| damaged(format!("line {number}: damaged entry ({e})")))?;
        if entry.line == 0 || entry.line > self.limits.max_input_line {
            return Err(damaged(format!(
                "line {number}: the entry names input line {}, which the input cannot have \
                 (it has at most {} lines)",
                entry.line, self.limits.max_input_line
            )));
        }
        Ok(Some(entry))
    }
}

impl Iterator for Entries {
    type Item = Result<JournalEntry, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_entry();
        self.done = !matches!(next, Ok(Some(_)));
        next.transpose()
    }
}

/// Opens `path` if it exists; refuses anything but a regular file.
pub(super) fn open_regular(path: &Path) -> Result<Option<File>, JournalError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(JournalError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let metadata = file.metadata().map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !metadata.is_file() {
        return Err(JournalError::NotRegular(path.to_path_buf()));
    }
    Ok(Some(file))
}

/// Opens a journal: its header and its entries. `None` when there is no journal to resume: no
/// file, an empty one, or one whose header never reached the disk whole.
pub fn entries(
    path: &Path,
    limits: JournalLimits,
) -> Result<Option<(JournalHeader, Entries)>, JournalError> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let mut lines = Lines::new(BufReader::with_capacity(256 * 1024, file));
    let header = match lines.next_line() {
        Ok(None) => return Ok(None),
        Ok(Some(line)) if !line.complete => return Ok(None),
        Ok(Some(line)) => parse_header(path, line.text)?,
        Err(LineError::Io(source)) => {
            return Err(JournalError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
        Err(LineError::TooLong(_)) => {
            return Err(JournalError::NotAJournal {
                path: path.to_path_buf(),
                detail: format!(
                    "its first line is longer than {} MiB",
                    super::MAX_LINE_BYTES >> 20
                ),
            });
        }
    };
    Ok(Some((
        header,
        Entries {
            path: path.to_path_buf(),
            lines,
            limits,
            done: false,
        },
    )))
}

fn parse_header(path: &Path, text: &[u8]) -> Result<JournalHeader, JournalError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        hubspot_projects_journal: Option<serde_json::Value>,
    }
    let not_a_journal = |detail: String| JournalError::NotAJournal {
        path: path.to_path_buf(),
        detail,
    };
    let probe: Probe = serde_json::from_slice(text)
        .map_err(|e| not_a_journal(format!("its first line is not a journal header: {e}")))?;
    let version = probe
        .hubspot_projects_journal
        .ok_or_else(|| not_a_journal("its first line has no \"hubspot_projects_journal\"".into()))?
        .as_u64()
        .ok_or_else(|| not_a_journal("its format version is not a number".into()))?;
    if version != u64::from(FORMAT_VERSION) {
        return Err(JournalError::OtherFormat {
            path: path.to_path_buf(),
            version,
            why: if version < u64::from(FORMAT_VERSION) {
                " (it keys rows by line number alone, so it cannot show that the input is still \
                 the one it was written for)"
            } else {
                " (it was written by a newer version)"
            },
        });
    }
    serde_json::from_slice(text).map_err(|e| JournalError::Damaged {
        path: path.to_path_buf(),
        message: format!("line 1: the header is damaged ({e})"),
    })
}

/// Reads what a journal confirmed, for a run whose header is `expected`. `None` when there is
/// no journal to resume. Refuses a journal written for another input or other options, a
/// damaged one, and one whose entries the input cannot match (see [`JournalLimits`]).
pub fn read_confirmed(
    path: &Path,
    expected: &JournalHeader,
    limits: JournalLimits,
) -> Result<Option<ConfirmedRows>, JournalError> {
    let Some((header, entries)) = entries(path, limits)? else {
        return Ok(None);
    };
    let differences = header.differences(expected);
    if !differences.is_empty() {
        return Err(JournalError::HeaderMismatch {
            path: path.to_path_buf(),
            input: header.input,
            differences,
        });
    }
    // Sized once from the journal's line count, so that a million entries take 16 MB and no
    // more, rather than twice that while a growing vector is copied.
    let mut rows = Vec::with_capacity(entry_lines(path)?.min(limits.max_input_line) as usize);
    for entry in entries {
        let entry = entry?;
        if !entry.outcome.is_written() {
            continue;
        }
        if rows.len() as u64 >= limits.max_input_line {
            return Err(JournalError::Damaged {
                path: path.to_path_buf(),
                message: format!(
                    "it confirms more rows than the input can have ({})",
                    limits.max_input_line
                ),
            });
        }
        rows.push((entry.line, entry.row_hash));
    }
    ConfirmedRows::new(rows)
        .map(Some)
        .map_err(|line| JournalError::Damaged {
            path: path.to_path_buf(),
            message: format!("input line {line} is confirmed twice"),
        })
}

/// The number of line breaks after the journal's first line: at least its entries.
fn entry_lines(path: &Path) -> Result<u64, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let Some(mut file) = open_regular(path)? else {
        return Ok(0);
    };
    let mut buffer = vec![0u8; 256 * 1024];
    let mut lines = 0u64;
    loop {
        let read = std::io::Read::read(&mut file, &mut buffer).map_err(io)?;
        if read == 0 {
            return Ok(lines.saturating_sub(1));
        }
        lines += buffer[..read].iter().filter(|b| **b == b'\n').count() as u64;
    }
}

/// The error for an input that does not match its journal, with the ids on both sides.
pub fn mismatch_error(
    path: &Path,
    input: &str,
    mismatch: &RowMismatch,
    limits: JournalLimits,
) -> JournalError {
    let line = match mismatch {
        RowMismatch::Changed { line, .. } | RowMismatch::NoRow { line, .. } => *line,
    };
    // The error path alone reads the journal again, for the id it confirmed at that line.
    let confirmed_id = entries(path, limits)
        .ok()
        .flatten()
        .and_then(|(_, entries)| {
            entries
                .map_while(Result::ok)
                .filter(|e| e.line == line && e.outcome.is_written())
                .last()
        })
        .map(|e| e.id);
    let journal_id = confirmed_id
        .as_deref()
        .map_or_else(|| "a row".to_string(), |id| format!("id {id:?}"));
    let path = path.display();
    let what = match mismatch {
        RowMismatch::Changed {
            line,
            input_id: Some(id),
        } if confirmed_id.as_deref() == Some(id.as_str()) => format!(
            "journal {path} does not match {input} at line {line}: the journal confirmed id \
             {id:?} there, and the input now has the same id with other values"
        ),
        RowMismatch::Changed {
            line,
            input_id: Some(id),
        } => format!(
            "journal {path} does not match {input} at line {line}: the journal confirmed \
             {journal_id} there, and the input now has id {id:?}"
        ),
        RowMismatch::Changed {
            line,
            input_id: None,
        } => format!(
            "journal {path} does not match {input} at line {line}: the journal confirmed \
             {journal_id} there, and the input's row there is now invalid"
        ),
        RowMismatch::NoRow {
            line,
            next_row: Some(next),
        } => format!(
            "journal {path} does not match {input}: it confirmed {journal_id} at line {line}, \
             where no row of the input starts (the next one starts at line {next})"
        ),
        RowMismatch::NoRow {
            line,
            next_row: None,
        } => format!(
            "journal {path} does not match {input}: it confirmed {journal_id} at line {line}, \
             but the input ends before it"
        ),
    };
    JournalError::InputMismatch(format!(
        "{what}. The input changed since the journal was written, so the journal cannot tell \
         which rows were written. Resume with the input it was written for, or {START_OVER}"
    ))
}
