//! `hubspot-projects upsert`: a file in, every record accounted for.
//!
//! The input is read lazily on a thread of its own and flows through the client's stream API
//! in bounded channels, so memory stays flat however large the file. Each completed batch is
//! written to the journal (when given) and the report (when given) before the next one is
//! looked at.

use crate::input::{self, InputError, InputFormat, ReadOptions};
use crate::journal::{self, JournalHeader, JournalWriter, LineSet};
use crate::progress::{Counts, Progress};
use crate::report::{OutcomeKind, ReportLine};
use futures::StreamExt;
use hubspot_projects::{BatchReport, Client, RateBudget, Summary, UpsertInput};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where records come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Source {
    /// The name used in messages and the journal header.
    pub fn name(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Stdin => "-".to_string(),
        }
    }
}

/// Everything a run needs.
#[derive(Clone)]
pub struct UpsertOptions {
    /// The input.
    pub source: Source,
    /// Its format.
    pub format: InputFormat,
    /// How rows become inputs.
    pub read: ReadOptions,
    /// HubSpot's (or the emulator's) base URL.
    pub base_url: String,
    /// The access token. Never printed.
    pub token: String,
    /// The request budget to pace under.
    pub rate: RateBudget,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Validate and plan only.
    pub dry_run: bool,
    /// No progress display.
    pub quiet: bool,
    /// Where to write one line per input.
    pub report: Option<PathBuf>,
    /// Where to record confirmed lines.
    pub journal: Option<PathBuf>,
    /// Continue the run the journal records.
    pub resume: bool,
    /// Stop at the first bad row.
    pub strict: bool,
}

impl std::fmt::Debug for UpsertOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpsertOptions")
            .field("source", &self.source)
            .field("base_url", &self.base_url)
            .field("token", &"<redacted>")
            .field("rate", &self.rate)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// The client's counts for this run (requests, retries, 429s, outcomes).
    pub client: Summary,
    /// Rows that could not be read or were invalid, never sent.
    pub invalid: u64,
    /// Records a previous run had confirmed (with --resume), not sent again.
    pub previously_confirmed: u64,
    /// Whether HubSpot's daily limit stopped the run.
    pub daily_limit_reached: bool,
    /// With --strict, the row that stopped the run.
    pub strict_stop: Option<InputError>,
    /// Rows a dry run found valid.
    pub valid: u64,
    /// Requests a dry run would send.
    pub planned_batches: u64,
    /// The first failures, for the closing message.
    pub first_failures: Vec<ReportLine>,
    /// Wall time.
    pub elapsed: Duration,
}

impl RunSummary {
    /// Records that failed, invalid ones included.
    pub fn failed(&self) -> u64 {
        self.client.failed + self.invalid
    }
}

/// Errors that end a run before or outside the records: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The input cannot be opened or its header is unusable.
    #[error("{0}")]
    Input(String),
    /// The journal cannot be used.
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    /// The report cannot be written.
    #[error("report {path}: {source}")]
    Report {
        /// The report's path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The client cannot be built from the options.
    #[error("{0}")]
    Client(String),
}

const FIRST_FAILURES: usize = 10;

fn open_source(source: &Source) -> Result<Box<dyn Read + Send>, RunError> {
    match source {
        Source::Stdin => Ok(Box::new(std::io::stdin())),
        Source::File(path) => File::open(path)
            .map(|f| Box::new(f) as Box<dyn Read + Send>)
            .map_err(|e| {
                RunError::Input(format!(
                    "cannot read {}: {e}; check the path and that you may read it",
                    path.display()
                ))
            }),
    }
}

/// An estimate of the number of records, for the progress bar: the file's lines, less the
/// header. Only for files; a quick scan that reads the file once.
fn estimate_total(options: &UpsertOptions) -> Option<u64> {
    let Source::File(path) = &options.source else {
        return None;
    };
    let mut file = File::open(path).ok()?;
    let mut buffer = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            break;
        }
        lines += buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
        last = buffer[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Some(match options.format {
        InputFormat::Csv => lines.saturating_sub(1),
        InputFormat::Ndjson => lines,
    })
}

struct Outputs {
    report: Option<(PathBuf, BufWriter<File>)>,
    journal: Option<JournalWriter>,
}

impl Outputs {
    fn write(&mut self, line: &ReportLine) -> Result<(), RunError> {
        if let Some((path, out)) = &mut self.report {
            out.write_all(line.to_json_line().as_bytes())
                .map_err(|source| RunError::Report {
                    path: path.clone(),
                    source,
                })?;
        }
        if let Some(journal) = &mut self.journal
            && line.is_confirmed()
        {
            journal.append(line)?;
        }
        Ok(())
    }

    fn batch_done(&mut self) -> Result<(), RunError> {
        if let Some(journal) = &mut self.journal {
            journal.batch_done()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), RunError> {
        if let Some((path, out)) = &mut self.report {
            out.flush().map_err(|source| RunError::Report {
                path: path.clone(),
                source,
            })?;
        }
        if let Some(journal) = &mut self.journal {
            journal.sync()?;
        }
        Ok(())
    }
}

/// The reader's two outputs: records for the client, and rows that cannot be sent.
struct ReaderChannels {
    records: tokio::sync::mpsc::Receiver<(u64, UpsertInput)>,
    bad: tokio::sync::mpsc::Receiver<InputError>,
}

/// Reads the input on its own thread into bounded channels, skipping confirmed lines. With
/// `strict`, reading stops after the first bad row.
fn spawn_reader(records: input::Records, skip: LineSet, strict: bool) -> ReaderChannels {
    let (record_tx, record_rx) = tokio::sync::mpsc::channel(4096);
    let (bad_tx, bad_rx) = tokio::sync::mpsc::channel(1024);
    std::thread::spawn(move || {
        for item in records {
            let sent = match item {
                Ok(record) if skip.contains(record.line) => continue,
                Ok(record) => record_tx.blocking_send((record.line, record.input)).is_ok(),
                Err(error) => bad_tx.blocking_send(error).is_ok() && !strict,
            };
            if !sent {
                return;
            }
        }
    });
    ReaderChannels {
        records: record_rx,
        bad: bad_rx,
    }
}

/// Runs an upsert (or a dry run).
pub async fn run(options: &UpsertOptions) -> Result<RunSummary, RunError> {
    let started = Instant::now();
    let header = JournalHeader {
        hubspot_projects_journal: 1,
        input: options.source.name(),
        id_property: options.read.id_property.clone(),
    };
    let confirmed = match (&options.journal, options.resume) {
        (Some(path), true) => journal::load(path, &header)?,
        _ => journal::Confirmed::default(),
    };
    let records = input::records(
        open_source(&options.source)?,
        options.format,
        options.read.clone(),
    )
    .map_err(|e| RunError::Input(format!("{}: {e}", options.source.name())))?;

    let mut summary = RunSummary {
        previously_confirmed: confirmed.entries.len() as u64,
        ..RunSummary::default()
    };
    if options.dry_run {
        dry_run(records, options.strict, &mut summary);
        summary.elapsed = started.elapsed();
        return Ok(summary);
    }

    let client = Client::builder()
        .access_token(options.token.clone())
        .base_url(options.base_url.clone())
        .rate_budget(options.rate)
        .max_in_flight(options.concurrency)
        .build()
        .map_err(|e| RunError::Client(e.to_string()))?;

    let mut outputs = Outputs {
        report: match &options.report {
            Some(path) => Some((
                path.clone(),
                BufWriter::new(File::create(path).map_err(|source| RunError::Report {
                    path: path.clone(),
                    source,
                })?),
            )),
            None => None,
        },
        journal: match &options.journal {
            Some(path) => Some(JournalWriter::open(path, &header, options.resume)?),
            None => None,
        },
    };
    // A resumed run's report covers the whole file: what was confirmed before comes first.
    if let Some((path, out)) = &mut outputs.report {
        for entry in &confirmed.entries {
            out.write_all(entry.to_json_line().as_bytes())
                .map_err(|source| RunError::Report {
                    path: path.clone(),
                    source,
                })?;
        }
    }

    // The total only serves the progress display: no scan of the file when it is off.
    let total = if options.quiet {
        None
    } else {
        estimate_total(options)
    };
    let mut progress = Progress::new(total, options.quiet);
    let mut counts = Counts::default();
    for entry in &confirmed.entries {
        count(&mut counts, entry.outcome);
    }
    progress.update(&counts);

    // Records go to the client, bad rows straight to the outputs.
    let ReaderChannels {
        records: record_rx,
        bad: mut bad_rx,
    } = spawn_reader(records, confirmed.lines, options.strict);
    let strict = options.strict;
    let inputs = futures::stream::unfold(record_rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut reports = std::pin::pin!(client.upsert_stream(inputs));

    let (mut reports_done, mut bad_done) = (false, false);
    while !(reports_done && bad_done) {
        tokio::select! {
            report = reports.next(), if !reports_done => match report {
                Some(report) => {
                    absorb(&report, &mut summary, &mut counts, &mut outputs)?;
                    outputs.batch_done()?;
                }
                None => reports_done = true,
            },
            bad = bad_rx.recv(), if !bad_done => match bad {
                Some(error) => {
                    let line = ReportLine::invalid(&error);
                    summary.invalid += 1;
                    counts.failed += 1;
                    note_failure(&mut summary, &line);
                    outputs.write(&line)?;
                    if strict {
                        summary.strict_stop = Some(error);
                    }
                }
                None => bad_done = true,
            },
        }
        progress.update(&counts);
    }
    outputs.finish()?;
    progress.finish();
    summary.elapsed = started.elapsed();
    summary.client.elapsed = summary.elapsed;
    Ok(summary)
}

fn count(counts: &mut Counts, kind: OutcomeKind) {
    match kind {
        OutcomeKind::Created => counts.created += 1,
        OutcomeKind::Updated => counts.updated += 1,
        OutcomeKind::Failed => counts.failed += 1,
        OutcomeKind::NotAttempted => counts.not_attempted += 1,
    }
}

fn note_failure(summary: &mut RunSummary, line: &ReportLine) {
    if summary.first_failures.len() < FIRST_FAILURES {
        summary.first_failures.push(line.clone());
    }
}

fn absorb(
    report: &BatchReport<u64>,
    summary: &mut RunSummary,
    counts: &mut Counts,
    outputs: &mut Outputs,
) -> Result<(), RunError> {
    summary.client.add(report);
    summary.daily_limit_reached |= report.stopped.is_some();
    for outcome in &report.outcomes {
        let line = ReportLine::from_outcome(outcome);
        count(counts, line.outcome);
        if line.outcome == OutcomeKind::Failed {
            note_failure(summary, &line);
        }
        outputs.write(&line)?;
    }
    Ok(())
}

/// Validates every row and counts the requests a run would send: at most 100 inputs each,
/// never two for the same record in one request.
fn dry_run(records: input::Records, strict: bool, summary: &mut RunSummary) {
    let mut planner = hubspot_projects::BatchPlanner::new(hubspot_projects::MAX_BATCH_SIZE);
    for item in records {
        match item {
            Ok(record) => {
                summary.valid += 1;
                planner.push(record.input);
            }
            Err(error) => {
                summary.invalid += 1;
                note_failure(summary, &ReportLine::invalid(&error));
                if strict {
                    summary.strict_stop = Some(error);
                    break;
                }
            }
        }
    }
    summary.planned_batches = planner.finish();
}
