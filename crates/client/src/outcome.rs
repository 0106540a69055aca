//! What happened to each input, and the counts that sum it up.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use hubspot_projects_api::types;

use crate::error::ErrorCategory;

/// What happened to one input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The input was never sent, for the reason given.
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

/// One property HubSpot found invalid, from the JSON embedded in its message
/// (`Property values were not valid: [{"isValid":false,"message":…,"error":…,"name":…}]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyError {
    /// The property's name.
    pub name: String,
    /// HubSpot's code, e.g. `INVALID_DATE`, `INVALID_OPTION`, `INVALID_INTEGER`.
    pub code: Option<String>,
    /// HubSpot's message about this property.
    pub message: Option<String>,
}

/// Why one input was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordError {
    /// The HTTP status of the answer when the whole request failed; `None` for a per-record
    /// error inside a 207 and for errors found before sending.
    pub status: Option<u16>,
    /// HubSpot's category (e.g. `VALIDATION_ERROR`), or this client's (see [`ErrorCategory`]).
    pub category: ErrorCategory,
    /// HubSpot's message, or this client's explanation.
    pub message: String,
    /// HubSpot's correlation id for the request.
    pub correlation_id: Option<String>,
    /// HubSpot's context (e.g. `propertyName`).
    pub context: BTreeMap<String, Vec<String>>,
    /// The property HubSpot named first, when it named one.
    pub property: Option<String>,
    /// HubSpot's code for that property (e.g. `INVALID_DATE`), when it gave one.
    pub code: Option<String>,
    /// Every property HubSpot found invalid in this input, with its code and message.
    pub property_errors: Vec<PropertyError>,
}

impl RecordError {
    /// An error of `category` with `message` and nothing else known.
    pub fn new(category: impl Into<ErrorCategory>, message: impl Into<String>) -> Self {
        Self {
            status: None,
            category: category.into(),
            message: message.into(),
            correlation_id: None,
            context: BTreeMap::new(),
            property: None,
            code: None,
            property_errors: Vec::new(),
        }
    }

    /// Sets the property errors and, from the first, [`property`](Self::property) and
    /// [`code`](Self::code); otherwise takes the property from the context's `propertyName`.
    pub(crate) fn set_property_errors(&mut self, errors: Vec<PropertyError>) {
        if let Some(first) = errors.first() {
            self.property = Some(first.name.clone());
            self.code = first.code.clone();
        } else if let Some(name) = self.context.get("propertyName").and_then(|n| n.first()) {
            self.property = Some(name.clone());
        }
        self.property_errors = errors;
    }

    pub(crate) fn from_standard(
        error: &types::StandardError,
        correlation_id: Option<&str>,
    ) -> Self {
        let mut record = Self::new(
            ErrorCategory::HubSpot(error.category.to_string()),
            error.message.clone(),
        );
        record.correlation_id = correlation_id.map(str::to_string);
        record.context = error.context.clone();
        let mut properties = crate::classify::property_errors(&error.message);
        if properties.is_empty() {
            properties = error
                .errors
                .iter()
                .filter_map(|detail| {
                    let name = detail.context.get("propertyName").and_then(|n| n.first())?;
                    Some(PropertyError {
                        name: name.clone(),
                        code: detail.code.as_ref().map(|c| c.to_string()),
                        message: Some(detail.message.clone()),
                    })
                })
                .collect();
        }
        record.set_property_errors(properties);
        record
    }
}

impl From<ErrorCategory> for RecordError {
    fn from(category: ErrorCategory) -> Self {
        let message = category.to_string();
        Self::new(category, message)
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.category, self.message)?;
        match &self.correlation_id {
            // A request's error already names its correlation id in its message.
            Some(id) if !self.message.contains(id.as_str()) => {
                write!(f, " (HubSpot correlation id {id})")
            }
            _ => Ok(()),
        }
    }
}

/// Why an input was never sent. Each reason is also why sending stopped for a whole run: send
/// the input again once the cause is gone (a journal or report tells which).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAttempted {
    /// HubSpot's daily request limit was reached. Send again after it resets (midnight in the
    /// account's time zone).
    DailyLimitReached {
        /// HubSpot's message from the 429 that stopped the run.
        message: String,
    },
    /// HubSpot (its API, or its OAuth token endpoint) could not be reached for longer than the
    /// client waits
    /// ([`ClientBuilder::unreachable_after`](crate::ClientBuilder::unreachable_after)).
    EndpointUnreachable {
        /// The last failure.
        message: String,
        /// How long no answer came.
        after: Duration,
    },
    /// HubSpot refused the token (401), so every further request would fail the same way.
    Unauthorized {
        /// HubSpot's message.
        message: String,
    },
    /// HubSpot refused the call for the token's scopes or the account (403).
    Forbidden {
        /// HubSpot's message, with the missing scopes when it named them.
        message: String,
    },
    /// A new access token could not be had: the refresh token was revoked, or the client id
    /// or secret is wrong.
    AuthenticationFailed {
        /// Why, without any secret.
        message: String,
    },
    /// The shared rate budget's store could not be reached within the request's timeout;
    /// the client never sends unpaced.
    BudgetStoreUnavailable {
        /// What failed.
        message: String,
    },
    /// The caller stopped the run.
    Cancelled,
}

impl fmt::Display for NotAttempted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DailyLimitReached { message } => write!(
                f,
                "HubSpot's daily request limit is reached ({message}); send again after it resets"
            ),
            Self::EndpointUnreachable { message, after } => write!(
                f,
                "HubSpot could not be reached for {} s ({message}); send again when it can",
                after.as_secs()
            ),
            Self::Unauthorized { message } => write!(
                f,
                "HubSpot refused the access token ({message}); fix the token and send again"
            ),
            Self::Forbidden { message } => write!(
                f,
                "HubSpot refused the call ({message}); grant the app what it needs and send again"
            ),
            Self::AuthenticationFailed { message } => write!(
                f,
                "no access token could be had ({message}); fix the OAuth credentials and send again"
            ),
            Self::BudgetStoreUnavailable { message } => write!(
                f,
                "the shared rate budget could not be reached ({message}), and nothing is sent unpaced; send again when it can"
            ),
            Self::Cancelled => f.write_str("the run was stopped before this input was sent"),
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
#[non_exhaustive]
pub struct BatchReport<T> {
    /// One outcome per input of the batch.
    pub outcomes: Vec<RecordOutcome<T>>,
    /// HTTP requests sent for this batch: retries and isolation requests included.
    pub requests: u32,
    /// Requests that were retries.
    pub retries: u32,
    /// 429 answers seen.
    pub rate_limited: u32,
    /// Requests sent to isolate bad inputs after HubSpot rejected a batch whole.
    pub isolation_requests: u32,
    /// Set when sending has stopped for the run: nothing more is sent, and every input not yet
    /// confirmed is reported [`Outcome::NotAttempted`] with this reason.
    pub stopped: Option<NotAttempted>,
}

impl<T> BatchReport<T> {
    pub(crate) fn local(outcomes: Vec<RecordOutcome<T>>, stopped: Option<NotAttempted>) -> Self {
        Self {
            outcomes,
            requests: 0,
            retries: 0,
            rate_limited: 0,
            isolation_requests: 0,
            stopped,
        }
    }

    /// Whether HubSpot's daily limit stopped the run.
    pub fn daily_limit_reached(&self) -> bool {
        matches!(self.stopped, Some(NotAttempted::DailyLimitReached { .. }))
    }
}

/// Counts over any number of batches.
///
/// ```
/// use hubspot_projects::{Outcome, Summary};
/// let mut summary = Summary::default();
/// summary.count(&Outcome::Created { record_id: "101".into() });
/// assert_eq!((summary.created, summary.total()), (1, 1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Records created.
    pub created: u64,
    /// Records updated.
    pub updated: u64,
    /// Inputs that failed.
    pub failed: u64,
    /// Inputs never sent.
    pub not_attempted: u64,
    /// HTTP requests sent: retries and isolation requests included.
    pub requests: u64,
    /// Requests that were retries.
    pub retries: u64,
    /// 429 answers seen.
    pub rate_limited: u64,
    /// Requests sent to isolate bad inputs after HubSpot rejected a batch whole.
    pub isolation_requests: u64,
    /// Why sending stopped before the end, if it did.
    pub stopped: Option<NotAttempted>,
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
        self.isolation_requests += u64::from(report.isolation_requests);
        if self.stopped.is_none() {
            self.stopped.clone_from(&report.stopped);
        }
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
#[non_exhaustive]
pub struct UpsertReport {
    /// One outcome per input, tagged with the input's index, in input order.
    pub outcomes: Vec<RecordOutcome<usize>>,
    /// Counts, requests and elapsed time.
    pub summary: Summary,
}

/// HubSpot's answer to one batch request ([`Client::upsert_batch`](crate::Client::upsert_batch)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
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
