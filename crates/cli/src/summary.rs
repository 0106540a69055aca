//! The closing summary of a run, and its exit code.
//!
//! The counts go to standard output, failures and the reason for a stop to standard error. A
//! closed output (`… | head -1`) ends what is printed there, never the process, and never
//! changes the exit code.

use crate::exit;
use crate::options::{Source, UpsertOptions};
use crate::run::{self, RunResult, Stop};
use hubspot_projects::NotAttempted;
use std::io::{self, Write};

/// How a run ended, for `main`.
pub struct Ending {
    /// The exit code.
    pub code: u8,
    /// Whether the process must exit at once, without waiting for work in flight (a second
    /// Ctrl-C).
    pub at_once: bool,
}

impl Ending {
    /// The ending of a run that produced `result`.
    pub fn after(result: &RunResult) -> Self {
        Self {
            code: exit_code(result),
            at_once: result.stop == Some(Stop::Aborted),
        }
    }

    /// The ending of a command that failed before or outside the rows: the message on standard
    /// error, and the usage exit code.
    pub fn error(message: impl std::fmt::Display) -> Self {
        let _ = writeln!(io::stderr(), "error: {message}");
        Self {
            code: exit::USAGE,
            at_once: false,
        }
    }
}

/// Runs an upsert, prints what it did and says how to end.
pub async fn run_and_report(options: &UpsertOptions) -> Ending {
    match run::run(options).await {
        Ok(result) => {
            print(options, &result);
            Ending::after(&result)
        }
        Err(error) => Ending::error(error),
    }
}

/// The exit code a run ends with.
fn exit_code(result: &RunResult) -> u8 {
    if result.strict_stop.is_some() {
        exit::USAGE
    } else if result.stop.is_some() {
        exit::STOPPED
    } else if result.tally.failed > 0 || result.tally.not_attempted > 0 {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// Prints the summary to standard output and the first failures and the reason for a stop to
/// standard error.
pub fn print(options: &UpsertOptions, result: &RunResult) {
    let _ = print_failures(&mut io::stderr().lock(), options, result);
    if result.stop != Some(Stop::Aborted) {
        let _ = print_counts(&mut io::stdout().lock(), options, result);
    }
    let _ = print_stop(&mut io::stderr().lock(), options, result);
}

fn print_failures(
    err: &mut impl Write,
    options: &UpsertOptions,
    result: &RunResult,
) -> io::Result<()> {
    for failure in &result.first_failures {
        let property = match (&failure.error_property, &failure.error_code) {
            (Some(property), Some(code)) => format!(" property {property} ({code}):"),
            (Some(property), None) => format!(" property {property}:"),
            _ => String::new(),
        };
        let message = failure.error_message.as_deref().unwrap_or("");
        writeln!(
            err,
            "line {} (id {:?}): {}:{property} {}{}",
            failure.line,
            failure.id,
            failure.error_category.as_deref().unwrap_or("FAILED"),
            message,
            failure
                .correlation_id
                .as_ref()
                // A whole request's error already names its correlation id in its message.
                .filter(|c| !message.contains(c.as_str()))
                .map(|c| format!(" (HubSpot correlation id {c})"))
                .unwrap_or_default()
        )?;
    }
    let shown = result.first_failures.len() as u64;
    if result.tally.failed > shown {
        let more = result.tally.failed - shown;
        match &options.report {
            Some(path) if !options.dry_run => {
                writeln!(err, "… and {more} more failures in {}", path.display())?
            }
            _ => writeln!(
                err,
                "… and {more} more failures; add --report FILE to see every one"
            )?,
        }
    }
    if let Some(stop) = &result.strict_stop {
        writeln!(
            err,
            "stopped at {stop} (--strict); fix the row and run again"
        )?;
    }
    Ok(())
}

fn print_counts(
    out: &mut impl Write,
    options: &UpsertOptions,
    result: &RunResult,
) -> io::Result<()> {
    let source = options.source.name();
    let tally = &result.tally;
    if let Some(plan) = &result.plan {
        write!(
            out,
            "dry run of {source}: {} valid records, {} invalid, {} requests planned",
            plan.valid, tally.invalid, plan.requests
        )?;
        if tally.earlier > 0 {
            write!(
                out,
                " ({} confirmed by the journal, not planned)",
                tally.earlier
            )?;
        }
        return writeln!(out, "; nothing was sent");
    }
    let secs = result.elapsed.as_secs_f64().max(0.001);
    writeln!(
        out,
        "{source}: {} records in {secs:.1} s ({:.0} records/s)",
        tally.rows(),
        tally.rows_this_run() as f64 / secs
    )?;
    writeln!(out, "  created        {:>10}", tally.created)?;
    writeln!(out, "  updated        {:>10}", tally.updated)?;
    writeln!(out, "  failed         {:>10}", tally.failed)?;
    if tally.invalid > 0 {
        writeln!(out, "    of which invalid input {:>7}", tally.invalid)?;
    }
    let why = match &result.stop {
        _ if tally.not_attempted == 0 => "",
        Some(Stop::Interrupted { .. }) => "  (interrupted)",
        Some(Stop::Client(NotAttempted::DailyLimitReached { .. })) => "  (daily limit)",
        Some(Stop::Client(_)) => "  (sending stopped)",
        _ => "",
    };
    writeln!(out, "  not attempted  {:>10}{why}", tally.not_attempted)?;
    if tally.earlier > 0 {
        writeln!(
            out,
            "  confirmed by an earlier run {:>6} (counted above, not sent again)",
            tally.earlier
        )?;
    }
    writeln!(
        out,
        "  requests {}, retries {}, rate-limited answers (429) {}",
        tally.requests, tally.retries, tally.rate_limited
    )?;
    if tally.isolation_requests > 0 {
        writeln!(
            out,
            "  requests to isolate bad rows in batches HubSpot rejected whole {}",
            tally.isolation_requests
        )?;
    }
    if result.token_refreshes > 0 {
        writeln!(out, "  access tokens refreshed {}", result.token_refreshes)?;
    }
    Ok(())
}

fn print_stop(err: &mut impl Write, options: &UpsertOptions, result: &RunResult) -> io::Result<()> {
    let Some(stop) = &result.stop else {
        return Ok(());
    };
    let again = match (&options.journal, &options.source) {
        (Some(_), Source::Stdin) => {
            "run the same command with --resume, on the same input, to send the rest"
        }
        (Some(_), Source::File(_)) => "run the same command with --resume to send the rest",
        (None, _) => {
            "run the file again (records already written are updated, not duplicated); pass \
             --journal FILE next time so that a run can be resumed"
        }
    };
    let not_sent = result.tally.not_attempted;
    match stop {
        Stop::Client(NotAttempted::DailyLimitReached { .. }) => writeln!(
            err,
            "stopped before the end: HubSpot's daily request limit is reached; {not_sent} records \
             were not sent. After the limit resets (midnight in the account's time zone), {again}."
        ),
        Stop::Client(reason) => writeln!(
            err,
            "stopped before the end: {reason}; {not_sent} records were not sent. Once that is \
             fixed, {again}."
        ),
        Stop::Interrupted { rest_unread } => writeln!(
            err,
            "stopped before the end: interrupted (Ctrl-C); {not_sent} records were not sent{}. \
             To finish, {again}.",
            if *rest_unread {
                ", and the rest of the input was not read"
            } else {
                ""
            }
        ),
        Stop::Aborted => writeln!(
            err,
            "stopped at once (Ctrl-C twice): the requests in flight were abandoned; the report \
             and the journal hold what HubSpot had confirmed ({} records). To finish, {again}.",
            result.tally.created + result.tally.updated
        ),
    }
}
