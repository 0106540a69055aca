//! One tally of what became of the rows, for the progress display and the summary alike.

use hubspot_projects::BatchReport;
use hubspot_projects_cli::report::{OutcomeKind, ReportLine};

/// Counts of outcomes and requests. Every row of the input that was accounted for is counted
/// once, in exactly one of created, updated, failed and not attempted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records HubSpot created.
    pub created: u64,
    /// Records HubSpot updated.
    pub updated: u64,
    /// Rows that failed, invalid ones included.
    pub failed: u64,
    /// Of the failed rows, those refused before sending (invalid input).
    pub invalid: u64,
    /// Rows not sent (the daily limit, an interruption).
    pub not_attempted: u64,
    /// Of the created and updated, those a previous run confirmed (with --resume).
    pub earlier: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
    /// Requests sent to isolate the bad rows of batches HubSpot rejected whole.
    pub isolation_requests: u64,
}

impl Tally {
    /// Counts one row's outcome.
    pub fn record(&mut self, line: &ReportLine) {
        match line.outcome {
            OutcomeKind::Created => self.created += 1,
            OutcomeKind::Updated => self.updated += 1,
            OutcomeKind::Failed => self.failed += 1,
            OutcomeKind::NotAttempted => self.not_attempted += 1,
        }
        self.invalid += u64::from(line.is_invalid_input());
    }

    /// Counts a row a previous run confirmed.
    pub fn record_earlier(&mut self, line: &ReportLine) {
        self.record(line);
        self.earlier += 1;
    }

    /// Counts one batch's requests (its outcomes are counted one by one with [`record`]).
    ///
    /// [`record`]: Self::record
    pub fn add_requests<T>(&mut self, report: &BatchReport<T>) {
        self.requests += u64::from(report.requests);
        self.retries += u64::from(report.retries);
        self.rate_limited += u64::from(report.rate_limited);
        self.isolation_requests += u64::from(report.isolation_requests);
    }

    /// Every row accounted for.
    pub fn rows(&self) -> u64 {
        self.created + self.updated + self.failed + self.not_attempted
    }

    /// Rows accounted for by this run (not confirmed by a previous one).
    pub fn rows_this_run(&self) -> u64 {
        self.rows().saturating_sub(self.earlier)
    }

    /// The counts in words, for the progress display.
    pub fn describe(&self) -> String {
        format!(
            "created {} · updated {} · failed {} · not attempted {}",
            self.created, self.updated, self.failed, self.not_attempted
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubspot_projects_cli::input::InputError;

    #[test]
    fn every_row_counts_once_and_invalid_rows_are_failures() {
        let mut tally = Tally::default();
        tally.record(&ReportLine::invalid(&InputError {
            line: 2,
            id: None,
            message: "no id".into(),
        }));
        tally.record_earlier(&ReportLine::written(
            3,
            "P-3".into(),
            OutcomeKind::Created,
            None,
        ));
        tally.record(&ReportLine::not_attempted(4, "P-4".into(), "stop".into()));
        assert_eq!(tally.rows(), 3);
        assert_eq!(tally.rows_this_run(), 2);
        assert_eq!((tally.failed, tally.invalid, tally.earlier), (1, 1, 1));
    }
}
