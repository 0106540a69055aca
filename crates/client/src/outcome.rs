//! What happened to each input, and the counts that sum it up.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hubspot_projects_api::types;

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// HubSpot created the record.
    Created {
        /// HubSpot's id of the record.
        record_id: String,
    },
    /// HubSpot updated an existing record.
    Updated {
        /// HubSpot's id of the record.
        record_id: String,
    },
    /// The input was not written.
    Failed(RecordError),
    /// The input was never sent.
    NotAttempted(NotAttempted),
}

impl Outcome {
    /// Whether HubSpot confirmed the write (created or updated).
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Created { .. } | Self::Updated { .. })
    }

    /// HubSpot's record id, for a confirmed write.
    pub fn record_id(&self) -> Option<&str> {
        match self {
            Self::Created { record_id } | Self::Updated { record_id } => Some(record_id),
            _ => None,
        }
    }
}

/// Why one input was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// The HTTP status of the answer when the whole request failed; `None` for a per-record
    /// error inside a 207 and for errors found before sending.
    pub status: Option<u16>,
    /// HubSpot's category (e.g. `VALIDATION_ERROR`), or this client's: `INVALID_INPUT` (refused
    /// before sending), `UNCONFIRMED` (the answer neither confirmed nor named the input),
    /// `RATE_LIMITS`, `SERVER_ERROR`, `TRANSPORT`, `TIMEOUT`, `UNDECODABLE_RESPONSE`.
    pub category: String,
    /// HubSpot's message, or this client's explanation.
    pub message: String,
    /// HubSpot's correlation id for the request.
    pub correlation_id: Option<String>,
    /// HubSpot's context (e.g. `propertyName`).
    pub context: BTreeMap<String, Vec<String>>,
}

impl RecordError {
    pub(crate) fn local(category: &str, message: impl Into<String>) -> Self {
        Self {
            status: None,
            category: category.to_string(),
            message: message.into(),
            correlation_id: None,
            context: BTreeMap::new(),
        }
    }

    pub(crate) fn from_standard(
        error: &types::StandardError,
        correlation_id: Option<&str>,
    ) -> Self {
        Self {
            status: None,
            category: error.category.clone(),
            message: error.message.clone(),
            correlation_id: correlation_id.map(str::to_string),
            context: error.context.clone(),
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.category, self.message)?;
        if let Some(id) = &self.correlation_id {
            write!(f, " (HubSpot correlation id {id})")?;
        }
        Ok(())
    }
}

/// Why an input was never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAttempted {
    /// HubSpot's daily request limit was reached before this input could be sent. Send it again
    /// after the limit resets (midnight in the account's time zone).
    DailyLimitReached {
        /// HubSpot's message from the 429 that stopped the run.
        message: String,
    },
}

impl fmt::Display for NotAttempted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DailyLimitReached { message } => write!(
                f,
                "not sent: HubSpot's daily request limit is reached ({message}); send again after it resets"
            ),
        }
    }
}

/// The outcome of one input, with the caller's tag and the input's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOutcome<T> {
    /// The caller's tag for the input (e.g. its line number).
    pub tag: T,
    /// The input's id value.
    pub id: String,
    /// The input's id property.
    pub id_property: Option<String>,
    /// What happened.
    pub outcome: Outcome,
}

/// The outcomes of one batch, with what it took to get them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport<T> {
    /// One outcome per input of the batch.
    pub outcomes: Vec<RecordOutcome<T>>,
    /// HTTP requests sent for this batch, retries included.
    pub requests: u32,
    /// Requests that were retries.
    pub retries: u32,
    /// 429 answers seen.
    pub rate_limited: u32,
    /// Whether HubSpot's daily limit was reached: no further input is sent.
    pub daily_limit_reached: bool,
}

impl<T> BatchReport<T> {
    pub(crate) fn local(outcomes: Vec<RecordOutcome<T>>, daily_limit_reached: bool) -> Self {
        Self {
            outcomes,
            requests: 0,
            retries: 0,
            rate_limited: 0,
            daily_limit_reached,
        }
    }
}

/// Counts over any number of batches.
///
/// ```
/// use hubspot_projects::{BatchReport, Outcome, RecordOutcome, Summary};
/// let report = BatchReport {
///     outcomes: vec![RecordOutcome {
///         tag: 1,
///         id: "PRJ-1".into(),
///         id_property: Some("project_code".into()),
///         outcome: Outcome::Created { record_id: "101".into() },
///     }],
///     requests: 2,
///     retries: 1,
///     rate_limited: 1,
///     daily_limit_reached: false,
/// };
/// let mut summary = Summary::default();
/// summary.add(&report);
/// assert_eq!((summary.created, summary.requests, summary.retries), (1, 2, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Records created.
    pub created: u64,
    /// Records updated.
    pub updated: u64,
    /// Inputs that failed.
    pub failed: u64,
    /// Inputs never sent.
    pub not_attempted: u64,
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
    /// Wall-clock time of the run (set by whoever runs it).
    pub elapsed: Duration,
}

impl Summary {
    /// Adds one batch's outcomes and counters.
    pub fn add<T>(&mut self, report: &BatchReport<T>) {
        for record in &report.outcomes {
            self.count(&record.outcome);
        }
        self.requests += u64::from(report.requests);
        self.retries += u64::from(report.retries);
        self.rate_limited += u64::from(report.rate_limited);
    }

    /// Counts one outcome.
    pub fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Created { .. } => self.created += 1,
            Outcome::Updated { .. } => self.updated += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::NotAttempted(_) => self.not_attempted += 1,
        }
    }

    /// Every input counted.
    pub fn total(&self) -> u64 {
        self.created + self.updated + self.failed + self.not_attempted
    }
}

/// The result of [`Client::upsert`](crate::Client::upsert): one outcome per input, in input
/// order, and the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertReport {
    /// One outcome per input, tagged with the input's index, in input order.
    pub outcomes: Vec<RecordOutcome<usize>>,
    /// Counts, requests and elapsed time.
    pub summary: Summary,
}

/// HubSpot's answer to one batch request ([`Client::upsert_batch`](crate::Client::upsert_batch)).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAnswer {
    /// The HTTP status: 200 when HubSpot wrote everything, 207 for a partial answer.
    pub status: u16,
    /// HubSpot's correlation id.
    pub correlation_id: Option<String>,
    /// The records HubSpot wrote, as it returned them.
    pub results: Vec<types::SimplePublicUpsertObject>,
    /// The errors HubSpot returned.
    pub errors: Vec<types::StandardError>,
    /// One outcome per input, tagged with the input's index, in input order.
    pub outcomes: Vec<RecordOutcome<usize>>,
    /// HTTP requests sent, retries included.
    pub requests: u32,
    /// 429 answers seen.
    pub rate_limited: u32,
}

impl BatchAnswer {
    /// Whether every input was confirmed written and HubSpot reported no error.
    pub fn is_complete(&self) -> bool {
        self.status != 207
            && self.errors.is_empty()
            && self.outcomes.iter().all(|o| o.outcome.is_success())
    }

    /// Whether some inputs were not confirmed (a 207, or a 200 that left inputs unconfirmed).
    pub fn is_partial(&self) -> bool {
        !self.is_complete()
    }

    /// The outcomes that are failures.
    pub fn failures(&self) -> impl Iterator<Item = &RecordOutcome<usize>> {
        self.outcomes.iter().filter(|o| !o.outcome.is_success())
    }
}
