//! The files a run writes as it goes: the report (every row) and the journal (confirmed rows).

use hubspot_projects_cli::journal::{JournalEntry, JournalError, JournalHeader, JournalWriter};
use hubspot_projects_cli::report::ReportLine;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A report that cannot be written.
#[derive(Debug, thiserror::Error)]
#[error("report {path}: {source}")]
pub struct ReportError {
    path: PathBuf,
    source: std::io::Error,
}

/// Why an output failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The report.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The journal.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

struct ReportWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

/// The report and the journal of a run, each optional.
pub struct Outputs {
    report: Option<ReportWriter>,
    journal: Option<JournalWriter>,
}

impl Outputs {
    /// Opens the journal (continuing it with `resume`), then creates the report: a journal
    /// that cannot be used leaves an earlier report untouched.
    pub fn open(
        report: Option<&Path>,
        journal: Option<&Path>,
        header: &JournalHeader,
        resume: bool,
    ) -> Result<Self, OutputError> {
        let journal = match journal {
            Some(path) if resume => Some(JournalWriter::resume(path, header)?),
            Some(path) => Some(JournalWriter::create(path, header)?),
            None => None,
        };
        let report = match report {
            Some(path) => Some(ReportWriter {
                path: path.to_path_buf(),
                out: BufWriter::with_capacity(
                    256 * 1024,
                    File::create(path).map_err(|source| ReportError {
                        path: path.to_path_buf(),
                        source,
                    })?,
                ),
            }),
            None => None,
        };
        Ok(Self { report, journal })
    }

    /// Writes a row's report line.
    pub fn report(&mut self, line: &ReportLine) -> Result<(), OutputError> {
        if let Some(report) = &mut self.report {
            line.write_to(&mut report.out)
                .map_err(|source| ReportError {
                    path: report.path.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Records a confirmed row in the journal.
    pub fn confirm(&mut self, entry: &JournalEntry) -> Result<(), OutputError> {
        if let Some(journal) = &mut self.journal {
            journal.append(entry)?;
        }
        Ok(())
    }

    /// Whether confirmed rows are journaled.
    pub fn has_journal(&self) -> bool {
        self.journal.is_some()
    }

    /// Called after each batch: the journal reaches the file (and, a few times a second, the
    /// disk) before the next batch is looked at.
    pub fn batch_done(&mut self) -> Result<(), OutputError> {
        if let Some(journal) = &mut self.journal {
            journal.batch_done()?;
        }
        Ok(())
    }

    /// Flushes the report and syncs the journal.
    pub fn finish(&mut self) -> Result<(), OutputError> {
        if let Some(report) = &mut self.report {
            report.out.flush().map_err(|source| ReportError {
                path: report.path.clone(),
                source,
            })?;
        }
        if let Some(journal) = &mut self.journal {
            journal.sync()?;
        }
        Ok(())
    }
}
