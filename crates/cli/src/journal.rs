//! The journal: which input lines HubSpot has confirmed writing (created or updated), recorded
//! as answers arrive, so that a run killed at any point (a crash, `kill -9`, the daily limit)
//! resumes without loss and without sending those records again. Failed records are not
//! journaled: a resumed run sends them again, as a fixed token or scope would need.
//!
//! The file is NDJSON: a header that names the input, then one [`ReportLine`] per confirmed
//! record. Lines are appended as each batch completes and flushed to disk (fsync) at most a few
//! times a second and at the end. A half-written last line, as `kill -9` can leave, is ignored
//! on resume; the record it named is simply sent again, which an upsert makes harmless.

use crate::report::ReportLine;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a journal was written for. A journal only resumes the run it was written for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalHeader {
    /// Marks the file as a journal of this tool, and its format version.
    pub hubspot_projects_journal: u32,
    /// The input file, as given on the command line.
    pub input: String,
    /// The id property of the run.
    pub id_property: String,
}

/// Input line numbers, as a compact bit set: a million lines take 125 KiB.
#[derive(Clone, Debug, Default)]
pub struct LineSet {
    bits: Vec<u64>,
    len: usize,
}

impl LineSet {
    /// Adds a line; returns false when it was there already.
    pub fn insert(&mut self, line: u64) -> bool {
        let (word, bit) = ((line / 64) as usize, line % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let fresh = self.bits[word] & (1 << bit) == 0;
        self.bits[word] |= 1 << bit;
        self.len += usize::from(fresh);
        fresh
    }

    /// Whether the line is in the set.
    pub fn contains(&self, line: u64) -> bool {
        self.bits
            .get((line / 64) as usize)
            .is_some_and(|w| w & (1 << (line % 64)) != 0)
    }

    /// How many lines the set holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }
}

/// What a previous run confirmed.
#[derive(Debug, Default)]
pub struct Confirmed {
    /// The confirmed lines.
    pub lines: LineSet,
    /// Their report lines, in journal order.
    pub entries: Vec<ReportLine>,
}

/// Problems with the journal file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file cannot be read or written.
    #[error("journal {path}: {source}")]
    Io {
        /// The journal's path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a journal of this tool, or is damaged before its last line.
    #[error("journal {path}, line {line}: {message}")]
    Corrupt {
        /// The journal's path.
        path: PathBuf,
        /// The journal line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The journal was written for another input or id property.
    #[error(
        "journal {path} was written for input {:?} with id property {:?}, not {:?} with {:?}; \
         use another --journal file, or delete it to start over",
        found.input, found.id_property, expected.input, expected.id_property
    )]
    Mismatch {
        /// The journal's path.
        path: PathBuf,
        /// What the journal says.
        found: Box<JournalHeader>,
        /// What this run is.
        expected: Box<JournalHeader>,
    },
    /// Without --resume, an existing journal is not overwritten.
    #[error(
        "journal {0} already exists: add --resume to continue that run, or delete the file to start over"
    )]
    Exists(PathBuf),
}

/// Reads what a previous run confirmed. A missing file means nothing was confirmed.
pub fn load(path: &Path, expected: &JournalHeader) -> Result<Confirmed, JournalError> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Confirmed::default()),
        Err(e) => return Err(io(e)),
    };
    let mut confirmed = Confirmed::default();
    let mut reader = BufReader::new(file);
    let mut buffer = Vec::new();
    let mut number = 0;
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer).map_err(io)? == 0 {
            break;
        }
        number += 1;
        let complete = buffer.last() == Some(&b'\n');
        let corrupt = |message: String| JournalError::Corrupt {
            path: path.to_path_buf(),
            line: number,
            message,
        };
        if number == 1 {
            let header: JournalHeader = serde_json::from_slice(&buffer).map_err(|e| {
                corrupt(format!(
                    "not a hubspot-projects journal header ({e}); use another --journal file"
                ))
            })?;
            if header != *expected {
                return Err(JournalError::Mismatch {
                    path: path.to_path_buf(),
                    found: Box::new(header),
                    expected: Box::new(expected.clone()),
                });
            }
            continue;
        }
        match serde_json::from_slice::<ReportLine>(&buffer) {
            Ok(entry) => {
                if confirmed.lines.insert(entry.line) {
                    confirmed.entries.push(entry);
                }
            }
            // A run killed mid-write leaves at most one partial line, at the end.
            Err(_) if !complete => break,
            Err(e) => return Err(corrupt(format!("damaged entry ({e})"))),
        }
    }
    Ok(confirmed)
}

/// Appends confirmed records to the journal.
pub struct JournalWriter {
    path: PathBuf,
    out: BufWriter<File>,
    last_sync: Instant,
}

/// How often the journal reaches the disk while a run goes on.
const SYNC_EVERY: Duration = Duration::from_millis(250);

impl JournalWriter {
    /// Opens the journal for a run. With `resume`, appends to an existing journal (already
    /// checked by [`load`]); without it, refuses to overwrite one.
    pub fn open(path: &Path, header: &JournalHeader, resume: bool) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let exists = path.exists();
        if exists && !resume {
            return Err(JournalError::Exists(path.to_path_buf()));
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        let needs_header = file.metadata().map_err(io)?.len() == 0;
        let mut writer = Self {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            last_sync: Instant::now(),
        };
        if needs_header {
            let mut line = serde_json::to_string(header).expect("a header always serializes");
            line.push('\n');
            writer.out.write_all(line.as_bytes()).map_err(io)?;
            writer.sync()?;
        } else {
            writer.drop_partial_line()?;
        }
        Ok(writer)
    }

    /// Cuts a partial last line left by a killed run, so the next entry starts a line of its own.
    fn drop_partial_line(&mut self) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let text = std::fs::read(&self.path).map_err(io)?;
        if text.last().is_some_and(|b| *b != b'\n') {
            let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            self.out.get_ref().set_len(keep as u64).map_err(io)?;
        }
        Ok(())
    }

    /// Appends one confirmed record; reaches the disk at the next sync.
    pub fn append(&mut self, entry: &ReportLine) -> Result<(), JournalError> {
        self.out
            .write_all(entry.to_json_line().as_bytes())
            .map_err(|source| JournalError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Called after each batch: flushes, and syncs when enough time has passed.
    pub fn batch_done(&mut self) -> Result<(), JournalError> {
        self.out.flush().map_err(|source| JournalError::Io {
            path: self.path.clone(),
            source,
        })?;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Flushes and syncs the journal to disk.
    pub fn sync(&mut self) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        self.out.flush().map_err(io)?;
        self.out.get_ref().sync_data().map_err(io)?;
        self.last_sync = Instant::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::OutcomeKind;

    fn header() -> JournalHeader {
        JournalHeader {
            hubspot_projects_journal: 1,
            input: "in.csv".into(),
            id_property: "project_code".into(),
        }
    }

    fn entry(line: u64) -> ReportLine {
        ReportLine {
            line,
            id: format!("P-{line}"),
            outcome: OutcomeKind::Created,
            record_id: Some(line.to_string()),
            error_category: None,
            error_message: None,
            correlation_id: None,
            status: None,
        }
    }

    #[test]
    fn line_sets_count_and_find() {
        let mut set = LineSet::default();
        assert!(set.insert(2) && set.insert(1_000_000) && !set.insert(2));
        assert_eq!(set.len(), 2);
        assert!(set.contains(1_000_000) && !set.contains(3));
    }

    #[test]
    fn a_journal_round_trips_and_ignores_a_partial_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut writer = JournalWriter::open(&path, &header(), false).unwrap();
        writer.append(&entry(2)).unwrap();
        writer.append(&entry(3)).unwrap();
        writer.sync().unwrap();
        drop(writer);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"line\":4,\"id\":\"P-");
        std::fs::write(&path, &text).unwrap();

        let confirmed = load(&path, &header()).unwrap();
        assert_eq!(confirmed.lines.len(), 2);
        assert!(confirmed.lines.contains(3) && !confirmed.lines.contains(4));

        // Appending after the partial line starts on a fresh line.
        let mut writer = JournalWriter::open(&path, &header(), true).unwrap();
        writer.append(&entry(5)).unwrap();
        writer.sync().unwrap();
        let confirmed = load(&path, &header()).unwrap();
        assert!(confirmed.lines.contains(5));
    }

    #[test]
    fn a_journal_for_another_input_or_without_resume_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        JournalWriter::open(&path, &header(), false)
            .unwrap()
            .sync()
            .unwrap();
        let other = JournalHeader {
            input: "other.csv".into(),
            ..header()
        };
        let err = load(&path, &other).unwrap_err();
        assert!(err.to_string().contains("other.csv"), "{err}");
        let err = JournalWriter::open(&path, &header(), false).err().unwrap();
        assert!(err.to_string().contains("--resume"), "{err}");
    }

    #[test]
    fn damage_before_the_end_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let head = serde_json::to_string(&header()).unwrap();
        std::fs::write(
            &path,
            format!("{head}\ngarbage\n{}", entry(2).to_json_line()),
        )
        .unwrap();
        let err = load(&path, &header()).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
