//! The closing summary of a run, and its exit code.

use crate::exit;
use crate::upsert::{self, RunSummary, UpsertOptions};

/// Runs an upsert, prints what it did and returns the exit code.
pub async fn run_and_report(options: &UpsertOptions) -> u8 {
    match upsert::run(options).await {
        Ok(summary) => {
            print_summary(options, &summary);
            exit_code(&summary)
        }
        Err(error) => {
            eprintln!("error: {error}");
            exit::USAGE
        }
    }
}

/// The exit code a run ends with.
pub fn exit_code(summary: &RunSummary) -> u8 {
    if summary.strict_stop.is_some() {
        exit::USAGE
    } else if summary.daily_limit_reached {
        exit::DAILY_LIMIT
    } else if summary.failed() > 0 || summary.client.not_attempted > 0 {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// Prints the summary to standard output and the first failures to standard error.
pub fn print_summary(options: &UpsertOptions, summary: &RunSummary) {
    let source = options.source.name();
    for failure in &summary.first_failures {
        eprintln!(
            "line {} (id {:?}): {}: {}{}",
            failure.line,
            failure.id,
            failure.error_category.as_deref().unwrap_or("FAILED"),
            failure.error_message.as_deref().unwrap_or(""),
            failure
                .correlation_id
                .as_ref()
                .map(|c| format!(" (correlation id {c})"))
                .unwrap_or_default()
        );
    }
    let shown = summary.first_failures.len() as u64;
    if summary.failed() > shown {
        let more = summary.failed() - shown;
        match &options.report {
            Some(path) => eprintln!("… and {more} more failures in {}", path.display()),
            None => eprintln!("… and {more} more failures; add --report FILE to see every one"),
        }
    }
    if let Some(stop) = &summary.strict_stop {
        eprintln!("stopped at {stop} (--strict); fix the row and run again");
    }
    if options.dry_run {
        println!(
            "dry run of {source}: {} valid records, {} invalid, {} requests planned; nothing was sent",
            summary.valid, summary.invalid, summary.planned_batches
        );
        return;
    }
    let c = &summary.client;
    let secs = summary.elapsed.as_secs_f64().max(0.001);
    let done = c.created + c.updated + c.failed + c.not_attempted;
    println!(
        "{source}: {done} records in {secs:.1} s ({:.0} records/s)",
        done as f64 / secs
    );
    println!("  created        {:>10}", c.created);
    println!("  updated        {:>10}", c.updated);
    println!("  failed         {:>10}", summary.failed());
    if summary.invalid > 0 {
        println!("    of which invalid input {:>7}", summary.invalid);
    }
    println!("  not attempted  {:>10}", c.not_attempted);
    if summary.previously_confirmed > 0 {
        println!(
            "  confirmed by the earlier run {:>6} (not sent again)",
            summary.previously_confirmed
        );
    }
    println!(
        "  requests {}, retries {}, rate-limited answers (429) {}",
        c.requests, c.retries, c.rate_limited
    );
    if summary.daily_limit_reached {
        let how = match &options.journal {
            Some(_) => "run the same command with --resume".to_string(),
            None => "next time pass --journal FILE so a run can be resumed; now, rerun the file"
                .to_string(),
        };
        eprintln!(
            "stopped: HubSpot's daily request limit is reached; {} records were not sent. \
             After the limit resets (midnight in the account's time zone), {how}.",
            c.not_attempted
        );
    }
}
