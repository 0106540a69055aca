//! `journal`: any bytes as a journal file, read back by the CLI for a resumed run of
//! `projects.csv` (columns `project_code,hs_name`, id property `project_code`).
//!
//! The CLI reads journals from a path, so each input is written to a file in a temporary
//! directory of the process's own first.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hubspot_projects_cli::input::InputFormat;
use hubspot_projects_cli::journal::{
    JournalEntry, JournalError, JournalHeader, JournalLimits, RowMismatch, Verdict, entries,
    mismatch_error, read_confirmed,
};

use super::rows::{ID_PROPERTY, options};

/// The name the expected header gives the input.
pub const INPUT: &str = "projects.csv";

/// The header of the run the journal is read for.
pub fn expected_header() -> JournalHeader {
    let columns = [ID_PROPERTY.to_string(), "hs_name".to_string()];
    JournalHeader::new(INPUT, InputFormat::Csv, &options(false), &columns)
}

thread_local! {
    static DIRECTORY: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

/// Writes `data` to this thread's journal file and returns its path.
fn journal_file(data: &[u8]) -> PathBuf {
    DIRECTORY.with_borrow_mut(|directory| {
        let directory = directory.get_or_insert_with(|| {
            tempfile::Builder::new()
                .prefix("fuzz-journal-")
                .tempdir()
                .expect("a temporary directory")
        });
        let path = directory.path().join("run.journal");
        std::fs::write(&path, data).expect("the journal file is written");
        path
    })
}

/// Runs one input; panics when a check fails.
pub fn run(data: &[u8]) {
    let path = journal_file(data);
    // An input of 40 bytes has at most 41 lines; a pipe bounds nothing.
    for limits in [
        JournalLimits::for_input_size(Some(40)),
        JournalLimits::for_input_size(None),
    ] {
        check(&path, data, limits);
    }
}

/// What [`entries`] gave: no journal, or its header and its entries up to the first damage.
type Opened = Option<(JournalHeader, Vec<Result<JournalEntry, JournalError>>)>;

fn check(path: &Path, data: &[u8], limits: JournalLimits) {
    let opened: Result<Opened, JournalError> = entries(path, limits)
        .map(|found| found.map(|(header, entries)| (header, entries.collect())));
    if let Err(error) = &opened {
        names_the_journal(error, path);
    }
    if let Ok(Some((_, items))) = &opened {
        check_entries(items, data, limits, path);
    }

    let expected = expected_header();
    let confirmed = read_confirmed(path, &expected, limits);
    if let Err(error) = &confirmed {
        names_the_journal(error, path);
    }
    // What `read_confirmed` must answer, from the entries alone.
    match (&opened, &confirmed) {
        (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
        (Ok(Some((header, items))), _) => {
            let written: Vec<&JournalEntry> = items
                .iter()
                .filter_map(|item| item.as_ref().ok())
                .filter(|entry| entry.outcome.is_written())
                .collect();
            let mut lines = BTreeSet::new();
            let twice = written.iter().any(|entry| !lines.insert(entry.line));
            let refused = !header.differences(&expected).is_empty()
                || items.iter().any(Result::is_err)
                || written.len() as u64 > limits.max_input_line
                || twice;
            match confirmed {
                Err(_) => assert!(
                    refused,
                    "a journal whose entries are sound is refused: {confirmed:?}"
                ),
                Ok(None) => panic!("a journal with a whole header is not taken for none"),
                Ok(Some(rows)) => {
                    assert!(!refused, "a journal that cannot be trusted is taken");
                    assert_eq!(
                        rows.len(),
                        written.len(),
                        "every written entry is confirmed"
                    );
                    let mut sorted = written.clone();
                    sorted.sort_by_key(|entry| entry.line);
                    let mut walk = rows.check();
                    for entry in &sorted {
                        assert_eq!(
                            walk.check(entry.line, Some(entry.row_hash), Some(&entry.id)),
                            Verdict::Skip,
                            "the row confirmed at line {} is skipped",
                            entry.line
                        );
                    }
                    assert_eq!(walk.finish(), Ok(()));
                    if let Some(entry) = sorted.first() {
                        let mismatch = RowMismatch::Changed {
                            line: entry.line,
                            input_id: Some(format!("{}-changed", entry.id)),
                        };
                        let message = mismatch_error(path, INPUT, &mismatch, limits).to_string();
                        assert!(
                            message.contains(&format!("line {}", entry.line)),
                            "{message}"
                        );
                    }
                }
            }
        }
        (opened, confirmed) => panic!(
            "entries and read_confirmed disagree on whether there is a journal: {:?} then {confirmed:?}",
            opened.as_ref().map(|o| o.is_some())
        ),
    }
}

/// Entries stay within the input's lines, end at the first error, and are at most one per
/// line of the file after the header.
fn check_entries(
    items: &[Result<JournalEntry, JournalError>],
    data: &[u8],
    limits: JournalLimits,
    path: &Path,
) {
    if let Some(at) = items.iter().position(Result::is_err) {
        assert_eq!(at + 1, items.len(), "nothing comes after a damaged line");
    }
    let complete_lines = data.iter().filter(|b| **b == b'\n').count();
    assert!(
        items.len() < complete_lines.max(1),
        "{} entries from {complete_lines} complete lines, the header included",
        items.len()
    );
    for item in items {
        match item {
            Ok(entry) => assert!(
                (1..=limits.max_input_line).contains(&entry.line),
                "entry for line {} of an input of at most {} lines",
                entry.line,
                limits.max_input_line
            ),
            Err(error) => names_the_journal(error, path),
        }
    }
}

fn names_the_journal(error: &JournalError, path: &Path) {
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "an error names the journal: {message}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smoke::{files_in, fuzz_dir};

    #[test]
    fn the_seeds_reach_every_verdict() {
        let mut seen = BTreeSet::new();
        for (_, seed) in files_in(&fuzz_dir().join("seeds/journal")) {
            let path = journal_file(&seed);
            let limits = JournalLimits::for_input_size(Some(40));
            let verdict = match read_confirmed(&path, &expected_header(), limits) {
                Ok(None) => "none",
                Ok(Some(rows)) if rows.is_empty() => "empty",
                Ok(Some(_)) => "confirmed",
                Err(JournalError::Damaged { .. }) => "damaged",
                Err(JournalError::HeaderMismatch { .. }) => "header mismatch",
                Err(JournalError::OtherFormat { .. }) => "other format",
                Err(JournalError::NotAJournal { .. }) => "not a journal",
                Err(other) => panic!("{other}"),
            };
            seen.insert(verdict);
        }
        for verdict in [
            "none",
            "empty",
            "confirmed",
            "damaged",
            "header mismatch",
            "other format",
            "not a journal",
        ] {
            assert!(seen.contains(verdict), "no seed is {verdict}: {seen:?}");
        }
    }
}
