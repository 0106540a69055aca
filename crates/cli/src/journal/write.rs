//! Appending to a journal as HubSpot confirms writes.

use super::entry::JournalEntry;
use super::error::JournalError;
use super::header::JournalHeader;
use super::lines::Lines;
use super::read::{JournalLimits, entries, open_regular};
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the journal reaches the disk while a run goes on.
const SYNC_EVERY: Duration = Duration::from_millis(250);

/// Appends confirmed rows to a journal.
#[derive(Debug)]
pub struct JournalWriter {
    path: PathBuf,
    out: BufWriter<File>,
    last_sync: Instant,
}

impl JournalWriter {
    /// Starts a new journal at `path`. Refuses to overwrite a file that holds a line (a journal
    /// of an earlier run, or anything else); a file left empty or with half a header by a
    /// killed run is started over.
    pub fn create(path: &Path, header: &JournalHeader) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = match open_regular(path)? {
            None => OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(io)?,
            Some(file) => {
                let mut lines = Lines::new(BufReader::new(file));
                if matches!(lines.next_line(), Ok(Some(line)) if line.complete) {
                    return Err(JournalError::Exists(path.to_path_buf()));
                }
                OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(path)
                    .map_err(io)?
            }
        };
        let mut writer = Self {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(64 * 1024, file),
            last_sync: Instant::now(),
        };
        serde_json::to_writer(&mut writer.out, header)
            .map_err(io::Error::from)
            .and_then(|()| writer.out.write_all(b"\n"))
            .map_err(io)?;
        writer.sync()?;
        Ok(writer)
    }

    /// Continues the journal at `path`, which [`read_confirmed`](super::read_confirmed) has
    /// checked: cuts a half-written last line, so the next entry starts a line of its own. A
    /// missing journal, or one whose header never reached the disk whole, is started anew.
    pub fn resume(path: &Path, header: &JournalHeader) -> Result<Self, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        if entries(path, JournalLimits::for_input_size(None))?.is_none() {
            return Self::create(path, header);
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(io)?;
        cut_partial_line(&mut file).map_err(io)?;
        Ok(Self {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(64 * 1024, file),
            last_sync: Instant::now(),
        })
    }

    /// Appends one confirmed row; it reaches the disk at the next sync.
    pub fn append(&mut self, entry: &JournalEntry) -> Result<(), JournalError> {
        entry
            .write_to(&mut self.out)
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

/// Cuts the file after its last line break, reading only its tail.
fn cut_partial_line(file: &mut File) -> io::Result<()> {
    let len = file.metadata()?.len();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut end = len;
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let part = &mut chunk[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(part)?;
        if let Some(at) = part.iter().rposition(|b| *b == b'\n') {
            let keep = start + at as u64 + 1;
            if keep < len {
                file.set_len(keep)?;
            }
            return Ok(());
        }
        end = start;
    }
    file.set_len(0)
}

#[cfg(test)]
mod tests {
    use super::super::{ConfirmedRows, JournalError, read_confirmed};
    use super::*;
    use crate::input::{InputFormat, ReadOptions};
    use crate::report::OutcomeKind;
    use crate::row_hash::RowHash;

    fn header() -> JournalHeader {
        JournalHeader::new(
            "in.csv",
            InputFormat::Csv,
            &ReadOptions::new("project_code"),
            &["project_code".to_string(), "hs_name".to_string()],
        )
    }

    fn entry(line: u64, outcome: OutcomeKind) -> JournalEntry {
        JournalEntry {
            line,
            id: format!("P-{line}"),
            outcome,
            record_id: Some(line.to_string()),
            row_hash: RowHash(line * 10),
        }
    }

    fn limits() -> JournalLimits {
        JournalLimits::for_input_size(Some(1_000))
    }

    fn confirmed(path: &Path) -> Result<Option<ConfirmedRows>, JournalError> {
        read_confirmed(path, &header(), limits())
    }

    fn rows(pairs: &[(u64, u64)]) -> ConfirmedRows {
        ConfirmedRows::new(pairs.iter().map(|(l, h)| (*l, RowHash(*h))).collect()).unwrap()
    }

    #[test]
    fn a_journal_round_trips_and_ignores_a_partial_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut writer = JournalWriter::create(&path, &header()).unwrap();
        writer.append(&entry(3, OutcomeKind::Created)).unwrap();
        writer.append(&entry(2, OutcomeKind::Updated)).unwrap();
        writer.sync().unwrap();
        drop(writer);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"line\":4,\"id\":\"P-");
        std::fs::write(&path, &text).unwrap();

        assert_eq!(confirmed(&path).unwrap(), Some(rows(&[(2, 20), (3, 30)])));

        // Appending after the partial line starts on a fresh line.
        let mut writer = JournalWriter::resume(&path, &header()).unwrap();
        writer.append(&entry(5, OutcomeKind::Created)).unwrap();
        writer.sync().unwrap();
        assert_eq!(
            confirmed(&path).unwrap(),
            Some(rows(&[(2, 20), (3, 30), (5, 50)]))
        );
    }

    #[test]
    fn entries_that_are_not_confirmed_writes_are_never_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut writer = JournalWriter::create(&path, &header()).unwrap();
        writer.append(&entry(2, OutcomeKind::Failed)).unwrap();
        writer.append(&entry(3, OutcomeKind::NotAttempted)).unwrap();
        writer.append(&entry(4, OutcomeKind::Created)).unwrap();
        writer.sync().unwrap();
        assert_eq!(confirmed(&path).unwrap(), Some(rows(&[(4, 40)])));
    }

    #[test]
    fn a_missing_empty_or_headless_journal_confirms_nothing_and_is_started_anew() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        assert_eq!(confirmed(&path).unwrap(), None);
        std::fs::write(&path, "").unwrap();
        assert_eq!(confirmed(&path).unwrap(), None);
        std::fs::write(&path, "{\"hubspot_projects_jou").unwrap();
        assert_eq!(confirmed(&path).unwrap(), None);
        JournalWriter::resume(&path, &header()).unwrap();
        assert_eq!(confirmed(&path).unwrap(), Some(ConfirmedRows::default()));
    }

    #[test]
    fn an_existing_journal_is_not_overwritten_without_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        JournalWriter::create(&path, &header()).unwrap();
        let err = JournalWriter::create(&path, &header()).unwrap_err();
        assert!(err.to_string().contains("--resume"), "{err}");
        let other = dir.path().join("notes.txt");
        std::fs::write(&other, "my notes\n").unwrap();
        assert!(matches!(
            JournalWriter::create(&other, &header()),
            Err(JournalError::Exists(_))
        ));
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "my notes\n");
    }

    #[test]
    fn a_journal_for_other_options_is_refused_with_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        JournalWriter::create(&path, &header()).unwrap();
        let mut options = ReadOptions::new("project_code");
        options.empty_as_blank = true;
        let run = JournalHeader::new("in.csv", InputFormat::Csv, &options, &header().columns);
        let err = read_confirmed(&path, &run, limits())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--empty-as-blank") && err.contains("--resume"),
            "{err}"
        );
    }

    #[test]
    fn old_format_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        std::fs::write(
            &path,
            "{\"hubspot_projects_journal\":1,\"input\":\"in.csv\",\"id_property\":\"project_code\"}\n{\"line\":2,\"id\":\"P-1\",\"outcome\":\"created\"}\n",
        )
        .unwrap();
        let err = confirmed(&path).unwrap_err().to_string();
        assert!(err.contains("format 1") && err.contains("delete"), "{err}");
        std::fs::write(&path, "project_code,hs_name\nP-1,x\n").unwrap();
        let err = confirmed(&path).unwrap_err().to_string();
        assert!(err.contains("not a hubspot-projects journal"), "{err}");
    }

    fn with_entries(lines: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        JournalWriter::create(&path, &header()).unwrap();
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(lines);
        std::fs::write(&path, text).unwrap();
        confirmed(&path).unwrap_err().to_string()
    }

    #[test]
    fn damage_and_impossible_entries_are_refused() {
        let good = |line: u64| {
            let mut out = Vec::new();
            entry(line, OutcomeKind::Created)
                .write_to(&mut out)
                .unwrap();
            String::from_utf8(out).unwrap()
        };
        let err = with_entries(&format!("garbage\n{}", good(2)));
        assert!(err.contains("line 2: damaged entry"), "{err}");
        let err = with_entries(&good(99_999_999_999));
        assert!(
            err.contains("99999999999") && err.contains("at most 1001"),
            "{err}"
        );
        let err = with_entries(&good(0));
        assert!(err.contains("input line 0"), "{err}");
        let err = with_entries(&format!("{}{}", good(7), good(7)));
        assert!(err.contains("line 7 is confirmed twice"), "{err}");
        let err = with_entries(&format!(
            "{}\n",
            "x".repeat(super::super::MAX_LINE_BYTES + 1)
        ));
        assert!(err.contains("longer than 1 MiB"), "{err}");
        let err = with_entries(
            "{\"line\":2,\"id\":\"P-2\",\"outcome\":\"deleted\",\"row_hash\":\"0000000000000014\"}\n",
        );
        assert!(err.contains("damaged entry"), "{err}");
    }

    #[test]
    fn more_confirmed_rows_than_the_input_can_have_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut writer = JournalWriter::create(&path, &header()).unwrap();
        for line in 2..=6 {
            writer.append(&entry(line, OutcomeKind::Created)).unwrap();
        }
        writer.sync().unwrap();
        let small = JournalLimits::for_input_size(Some(3));
        let err = read_confirmed(&path, &header(), small)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot have"), "{err}");
    }

    #[test]
    fn arbitrary_journal_text_is_refused_or_read_never_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.ndjson");
        let mut head = Vec::new();
        serde_json::to_writer(&mut head, &header()).unwrap();
        head.push(b'\n');
        let pieces: [&[u8]; 10] = [
            b"{\"line\":",
            b"2",
            b"18446744073709551616",
            b",\"id\":\"P\"",
            b",\"outcome\":\"created\"",
            b",\"row_hash\":\"00000000000000aa\"",
            b"}",
            b"\n",
            b"\xff",
            b"{\"hubspot_projects_journal\":2}",
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let (mut read, mut refused) = (0, 0);
        for _ in 0..500 {
            let mut text = head.clone();
            for _ in 0..(state % 24) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.extend_from_slice(pieces[(state % pieces.len() as u64) as usize]);
            }
            std::fs::write(&path, &text).unwrap();
            match confirmed(&path) {
                Ok(_) => read += 1,
                Err(_) => refused += 1,
            }
        }
        assert!(read > 0 && refused > 0, "read {read}, refused {refused}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_not_a_journal() {
        let path = Path::new("/dev/full");
        if !path.exists() {
            return;
        }
        assert!(matches!(confirmed(path), Err(JournalError::NotRegular(_))));
        assert!(matches!(
            JournalWriter::create(path, &header()),
            Err(JournalError::NotRegular(_))
        ));
    }
}
