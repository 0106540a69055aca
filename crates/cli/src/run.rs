//! `hubspot-projects upsert`: a file in, every row accounted for.
//!
//! The input is read lazily on a thread of its own and flows through the client's stream API
//! in bounded channels, so memory stays flat however large the file. Each completed batch is
//! written to the journal and the report (when given) before the next one is looked at.
//!
//! A resumed run first checks the journal against the input (the file up to its last confirmed
//! row, before anything is sent, when the input is a regular file), writes the rows the journal
//! confirmed at the head of the report, then sends only the rest.

use crate::client;
use crate::feed::{self, ReaderEvent, ReaderSettings, Row, RowTag};
use crate::interrupt::{self, Interrupts};
use crate::options::{Source, UpsertOptions};
use crate::output_paths;
use crate::outputs::{OutputError, Outputs};
use crate::progress::Progress;
use crate::tally::Tally;
use futures::StreamExt;
use hubspot_projects::{BatchReport, MAX_BATCH_SIZE, NotAttempted};
use hubspot_projects_cli::input::{InputError, InputFormat, Records};
use hubspot_projects_cli::journal::{
    self, ConfirmedRows, JournalEntry, JournalError, JournalHeader, JournalLimits, RowMismatch,
    Verdict,
};
use hubspot_projects_cli::report::{OutcomeKind, ReportLine};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// Why a run ended before the end of its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The client stopped sending: HubSpot's daily limit, a refused token, credentials that
    /// no longer work, an endpoint that answers nothing, a shared budget that cannot be
    /// reached. The reason says which.
    Client(NotAttempted),
    /// Ctrl-C: what was in flight finished, nothing more was sent.
    Interrupted {
        /// Whether the rest of the input was left unread (a pipe or standard input), so that
        /// it is not in the counts.
        rest_unread: bool,
    },
    /// Ctrl-C twice: stopped at once; the outcomes of the requests in flight are unknown.
    Aborted,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunResult {
    /// What became of the rows.
    pub tally: Tally,
    /// Why the run ended early, if it did.
    pub stop: Option<Stop>,
    /// With --strict, the row that stopped the run.
    pub strict_stop: Option<InputError>,
    /// The first failures, for the closing message.
    pub first_failures: Vec<ReportLine>,
    /// A dry run's plan: valid rows and requests.
    pub plan: Option<Plan>,
    /// Access tokens the client got from HubSpot's token endpoint (OAuth apps).
    pub token_refreshes: u64,
    /// The requests in flight the client settled on at the end.
    pub in_flight: usize,
    /// Wall time.
    pub elapsed: Duration,
}

impl RunResult {
    /// Keeps `line` for the closing message if it is among the first failures.
    fn note_failure(&mut self, line: &ReportLine) {
        if self.first_failures.len() < FIRST_FAILURES {
            self.first_failures.push(line.clone());
        }
    }
}

/// What a dry run would send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Rows that would be sent.
    pub valid: u64,
    /// Requests they would take.
    pub requests: u64,
}

/// Errors that end a run before or outside the rows: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),
    /// The input cannot be opened, or its header is unusable.
    #[error("{0}")]
    Input(String),
    /// The journal cannot be used.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The report or the journal cannot be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

const FIRST_FAILURES: usize = 10;

/// The reason written for rows not sent after Ctrl-C.
const INTERRUPTED: &str =
    "not sent: the run was interrupted (Ctrl-C); run the same command with --resume to send it";
/// The reason written for rows not sent after the input was found not to match the journal.
const MISMATCHED: &str = "not sent: the input does not match the journal being resumed";

fn open_records(options: &UpsertOptions) -> Result<(Records, Option<u64>), RunError> {
    let source = options.source.open().map_err(RunError::Input)?;
    let records = Records::open(source.reader, options.format, options.read.clone())
        .map_err(|e| RunError::Input(format!("{}: {e}", options.source.name())))?;
    Ok((records, source.regular_size))
}

/// Runs an upsert (or a dry run).
pub async fn run(options: &UpsertOptions) -> Result<RunResult, RunError> {
    let started = Instant::now();
    output_paths::check(
        &options.source,
        options.report.as_deref(),
        options.journal.as_deref(),
    )
    .map_err(RunError::Usage)?;
    let (records, regular_size) = open_records(options)?;
    let header = JournalHeader::new(
        &options.source.name(),
        options.format,
        &options.read,
        records.columns(),
    );
    let limits = JournalLimits::for_input_size(regular_size);
    let confirmed = match (&options.journal, options.resume) {
        (Some(path), true) => journal::read_confirmed(path, &header, limits)?,
        _ => None,
    };
    if let (Some(path), Some(rows), Some(_)) = (&options.journal, &confirmed, regular_size)
        && !rows.is_empty()
    {
        check_whole_input(options, &header, rows, path, limits)?;
    }
    if options.dry_run {
        let mut result = dry_run(records, confirmed, options.strict).map_err(|found| {
            let path = options.journal.as_deref().unwrap_or(Path::new("-"));
            journal::mismatch_error(path, &options.source.name(), &found, limits)
        })?;
        result.elapsed = started.elapsed();
        return Ok(result);
    }

    let client = client::build(options).map_err(RunError::Usage)?;
    // From here on Ctrl-C is the run's to handle (before, it ends a process that has written
    // nothing); one that comes while the report is being prepared is handled once sending
    // starts.
    let mut interrupts = match Interrupts::listen() {
        Ok(interrupts) => Some(interrupts),
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "warning: Ctrl-C cannot be caught ({e}); it will end the run without a summary"
            );
            None
        }
    };
    let outputs = Outputs::open(
        options.report.as_deref(),
        options.journal.as_deref(),
        &header,
        options.resume,
    )?;
    let mut run = Run {
        result: RunResult::default(),
        outputs,
        progress: Progress::new(None, true),
        mismatch: None,
    };
    // A resumed run's report covers the whole input: what the journal confirmed comes first.
    if let (Some(path), Some(_)) = (&options.journal, &confirmed) {
        run.report_confirmed(path, limits)?;
    }
    // The total only serves the progress display: no scan when it is off or cannot be done.
    let total = match (options.quiet, &options.source, regular_size) {
        (false, Source::File(path), Some(_)) => count_rows(path, options.format),
        _ => None,
    };
    run.progress = Progress::new(total, options.quiet);
    run.progress.update(&run.result.tally);

    // A pipe cannot be scanned to its end after Ctrl-C: its reader stops at once instead.
    let stop_reading = Arc::new(AtomicBool::new(false));
    let reader = feed::spawn_reader(
        records,
        ReaderSettings {
            confirmed,
            hash_rows: run.outputs.has_journal(),
            strict: options.strict,
            stop: regular_size.is_none().then(|| stop_reading.clone()),
        },
    )
    .map_err(|e| RunError::Input(format!("cannot start reading the input: {e}")))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (inputs, given_back) = feed::until_stopped(reader.rows, stop_rx);
    let mut events = reader.events;
    let mut reports = std::pin::pin!(client.upsert_stream(inputs));

    let mut interrupted = false;
    let (mut reports_done, mut events_done) = (false, false);
    // A source whose reader stops on Ctrl-C may be blocked reading: its end is not awaited.
    while !(reports_done && (events_done || (interrupted && regular_size.is_none()))) {
        tokio::select! {
            report = reports.next(), if !reports_done => match report {
                Some(report) => {
                    run.absorb(&report)?;
                    run.outputs.batch_done()?;
                }
                None => reports_done = true,
            },
            event = events.recv(), if !events_done => match event {
                Some(ReaderEvent::Invalid(error)) => run.invalid(error, options.strict)?,
                Some(ReaderEvent::Mismatch(found)) => {
                    run.mismatch = Some(found);
                    stop_tx.send_replace(true);
                }
                None => events_done = true,
            },
            Some(()) = interrupt::next(&mut interrupts) => {
                if interrupted {
                    return run.abort();
                }
                interrupted = true;
                stop_reading.store(true, Ordering::Relaxed);
                stop_tx.send_replace(true);
                run.progress.note(
                    "interrupted: no more records are sent; waiting for the requests in flight \
                     (Ctrl-C again to stop at once)",
                );
            }
        }
        run.progress.update(&run.result.tally);
    }

    // Rows read but never handed to the client, and for a file the rows after them, are
    // accounted for as not sent.
    if interrupted || run.mismatch.is_some() {
        let reason = if run.mismatch.is_some() {
            MISMATCHED
        } else {
            INTERRUPTED
        };
        if let Ok(rows) = given_back.await {
            let scan_rest = regular_size.is_some() || run.mismatch.is_some();
            if let Some(stop) = run
                .account_unsent(rows, &mut events, scan_rest, reason, &mut interrupts)
                .await?
            {
                return Ok(stop);
            }
        }
    }
    let rest_unread = regular_size.is_none();
    if interrupted
        && run.result.stop.is_none()
        && (rest_unread || run.result.tally.not_attempted > 0)
    {
        run.result.stop = Some(Stop::Interrupted { rest_unread });
    }
    run.outputs.finish()?;
    run.progress.finish();
    if let (Some(found), Some(path)) = (&run.mismatch, &options.journal) {
        return Err(journal::mismatch_error(path, &options.source.name(), found, limits).into());
    }
    run.result.elapsed = started.elapsed();
    run.result.token_refreshes = client.token_refreshes();
    run.result.in_flight = client.in_flight_limit();
    Ok(run.result)
}

struct Run {
    result: RunResult,
    outputs: Outputs,
    progress: Progress,
    /// How the input differs from the journal being resumed, once found.
    mismatch: Option<RowMismatch>,
}

impl Run {
    fn absorb(&mut self, report: &BatchReport<RowTag>) -> Result<(), RunError> {
        self.result.tally.add_requests(report);
        if let Some(reason) = &report.stopped
            && self.result.stop.is_none()
        {
            self.result.stop = Some(Stop::Client(reason.clone()));
        }
        for outcome in &report.outcomes {
            let line = ReportLine::from_outcome(outcome.tag.line, &outcome.id, &outcome.outcome);
            self.result.tally.record(&line);
            if line.outcome == OutcomeKind::Failed {
                self.result.note_failure(&line);
            }
            self.outputs.report(&line)?;
            if let Some(entry) = JournalEntry::confirmed(&line, outcome.tag.hash) {
                self.outputs.confirm(&entry)?;
            }
        }
        Ok(())
    }

    fn invalid(&mut self, error: InputError, strict: bool) -> Result<(), RunError> {
        let line = ReportLine::invalid(&error);
        self.result.tally.record(&line);
        self.result.note_failure(&line);
        self.outputs.report(&line)?;
        if strict {
            self.result.strict_stop = Some(error);
        }
        Ok(())
    }

    fn report_confirmed(&mut self, path: &Path, limits: JournalLimits) -> Result<(), RunError> {
        let Some((_, entries)) = journal::entries(path, limits)? else {
            return Ok(());
        };
        for entry in entries {
            let entry = entry?;
            if entry.outcome.is_written() {
                let line = entry.report_line();
                self.result.tally.record_earlier(&line);
                self.outputs.report(&line)?;
            }
        }
        Ok(())
    }

    /// Accounts for the rows left in the channel and, with `scan_rest`, those the reader still
    /// reads, as not sent. Returns the result of an abort if Ctrl-C comes again meanwhile.
    async fn account_unsent(
        &mut self,
        mut rows: mpsc::Receiver<Row>,
        events: &mut mpsc::Receiver<ReaderEvent>,
        scan_rest: bool,
        reason: &str,
        interrupts: &mut Option<Interrupts>,
    ) -> Result<Option<RunResult>, RunError> {
        if !scan_rest {
            while let Ok((tag, input)) = rows.try_recv() {
                self.unsent(tag, input.id, reason)?;
            }
            while let Ok(event) = events.try_recv() {
                if let ReaderEvent::Invalid(error) = event {
                    self.invalid(error, false)?;
                }
            }
            return Ok(None);
        }
        let (mut rows_done, mut events_done) = (false, false);
        while !(rows_done && events_done) {
            tokio::select! {
                row = rows.recv(), if !rows_done => match row {
                    Some((tag, input)) => self.unsent(tag, input.id, reason)?,
                    None => rows_done = true,
                },
                event = events.recv(), if !events_done => match event {
                    Some(ReaderEvent::Invalid(error)) => self.invalid(error, false)?,
                    Some(ReaderEvent::Mismatch(found)) => self.mismatch = Some(found),
                    None => events_done = true,
                },
                Some(()) = interrupt::next(interrupts) => return self.abort().map(Some),
            }
            self.progress.update(&self.result.tally);
        }
        Ok(None)
    }

    fn unsent(&mut self, tag: RowTag, id: String, reason: &str) -> Result<(), RunError> {
        let line = ReportLine::not_attempted(tag.line, id, reason.to_string());
        self.result.tally.record(&line);
        self.outputs.report(&line)?;
        Ok(())
    }

    /// The second Ctrl-C: what is written reaches the disk, and the run ends now.
    fn abort(&mut self) -> Result<RunResult, RunError> {
        self.progress.finish();
        self.outputs.finish()?;
        self.result.stop = Some(Stop::Aborted);
        Ok(std::mem::take(&mut self.result))
    }
}

/// Reads a regular input file once more, before anything is sent, to check every row against
/// what the journal confirmed. Reading stops once every confirmed row is met: no row after it
/// can differ from the journal.
fn check_whole_input(
    options: &UpsertOptions,
    header: &JournalHeader,
    confirmed: &ConfirmedRows,
    journal_path: &Path,
    limits: JournalLimits,
) -> Result<(), RunError> {
    let (records, _) = open_records(options)?;
    let input = options.source.name();
    if records.columns() != header.columns.as_slice() {
        return Err(RunError::Input(format!(
            "{input} changed while it was being read; run again once it stays the same"
        )));
    }
    let mut check = confirmed.check();
    for item in records {
        if let Verdict::Mismatch(found) = check.check_row(&item) {
            return Err(journal::mismatch_error(journal_path, &input, &found, limits).into());
        }
        if check.skipped() == confirmed.len() {
            break;
        }
    }
    check
        .finish()
        .map_err(|found| journal::mismatch_error(journal_path, &input, &found, limits).into())
}

/// Validates every row and counts the requests a run would send: at most 100 inputs each,
/// never two for the same record in one request. With a journal being resumed, only the rows
/// it does not confirm are planned.
fn dry_run(
    records: Records,
    confirmed: Option<ConfirmedRows>,
    strict: bool,
) -> Result<RunResult, RowMismatch> {
    let mut result = RunResult::default();
    let mut plan = Plan::default();
    let mut planner = hubspot_projects::BatchPlanner::new(MAX_BATCH_SIZE);
    let mut check = confirmed.as_ref().map(ConfirmedRows::check);
    for item in records {
        if let Some(check) = &mut check {
            match check.check_row(&item) {
                Verdict::Skip => {
                    result.tally.earlier += 1;
                    continue;
                }
                Verdict::Send => {}
                Verdict::Mismatch(found) => return Err(found),
            }
        }
        match item {
            Ok(record) => {
                plan.valid += 1;
                planner.push(record.input);
            }
            Err(error) => {
                let line = ReportLine::invalid(&error);
                result.tally.record(&line);
                result.note_failure(&line);
                if strict {
                    result.strict_stop = Some(error);
                    break;
                }
            }
        }
    }
    if result.strict_stop.is_none()
        && let Some(Err(found)) = check.as_ref().map(|check| check.finish())
    {
        return Err(found);
    }
    plan.requests = planner.finish();
    result.plan = Some(plan);
    Ok(result)
}

/// The number of rows of a regular file, for the progress bar: its lines, less the header.
/// An estimate (a quoted field may hold a line break); reads the file once.
fn count_rows(path: &Path, format: InputFormat) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
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
    Some(match format {
        InputFormat::Csv => lines.saturating_sub(1),
        InputFormat::Ndjson => lines,
    })
}
