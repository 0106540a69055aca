//! The `--report` file: one NDJSON line per input and what became of it.
//!
//! ```json
//! {"line":2,"id":"PRJ-1","outcome":"created","record_id":"101"}
//! {"line":3,"id":"","outcome":"failed","error_category":"INVALID_INPUT","error_message":"the id column \"project_code\" is empty; every row needs an id"}
//! {"line":4,"id":"PRJ-3","outcome":"failed","error_category":"VALIDATION_ERROR","error_property":"hs_target_due_date","error_code":"INVALID_DATE","error_message":"…","status":400}
//! ```

use crate::input::InputError;
use hubspot_projects::Outcome;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// The category of a row refused before sending.
pub const INVALID_INPUT: &str = "INVALID_INPUT";

/// The kinds of outcome, as written to reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// HubSpot created the record.
    Created,
    /// HubSpot updated the record.
    Updated,
    /// HubSpot (or local validation) refused the record.
    Failed,
    /// The record was not sent, for the reason given.
    NotAttempted,
}

impl OutcomeKind {
    /// Whether HubSpot confirmed that it wrote the record.
    pub fn is_written(self) -> bool {
        matches!(self, Self::Created | Self::Updated)
    }
}

/// One input and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    /// The line of the input file the record starts on.
    pub line: u64,
    /// The record's id (the value of the id property); empty when it could not be read.
    pub id: String,
    /// What became of it.
    pub outcome: OutcomeKind,
    /// HubSpot's record id, when it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// HubSpot's error category, or a local one ([`INVALID_INPUT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_category: Option<String>,
    /// The property HubSpot named as invalid, when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_property: Option<String>,
    /// HubSpot's code for that property's value (e.g. `INVALID_DATE`), when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// What went wrong (and for local errors what to do), or why the record was not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// HubSpot's correlation id for the request, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The HTTP status HubSpot answered with, when the whole request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl ReportLine {
    fn new(line: u64, id: String, outcome: OutcomeKind) -> Self {
        Self {
            line,
            id,
            outcome,
            record_id: None,
            error_category: None,
            error_property: None,
            error_code: None,
            error_message: None,
            correlation_id: None,
            status: None,
        }
    }

    /// The line for what the client reported about the input at `line` with `id`.
    pub fn from_outcome(line: u64, id: &str, outcome: &Outcome) -> Self {
        match outcome {
            Outcome::Created { record_id } => Self {
                record_id: Some(record_id.clone()),
                ..Self::new(line, id.to_string(), OutcomeKind::Created)
            },
            Outcome::Updated { record_id } => Self {
                record_id: Some(record_id.clone()),
                ..Self::new(line, id.to_string(), OutcomeKind::Updated)
            },
            Outcome::Failed(error) => Self {
                error_category: Some(error.category.to_string()),
                error_property: error.property.clone(),
                error_code: error.code.clone(),
                error_message: Some(error.message.clone()),
                correlation_id: error.correlation_id.clone(),
                status: error.status,
                ..Self::new(line, id.to_string(), OutcomeKind::Failed)
            },
            Outcome::NotAttempted(reason) => {
                Self::not_attempted(line, id.to_string(), reason.to_string())
            }
            // An outcome this version does not know: reported failed rather than lost.
            other => Self {
                error_message: Some(format!("{other:?}")),
                ..Self::new(line, id.to_string(), OutcomeKind::Failed)
            },
        }
    }

    /// A row that could not be read or is invalid, never sent.
    pub fn invalid(error: &InputError) -> Self {
        Self {
            error_category: Some(INVALID_INPUT.to_string()),
            error_message: Some(error.message.clone()),
            ..Self::new(
                error.line,
                error.id.clone().unwrap_or_default(),
                OutcomeKind::Failed,
            )
        }
    }

    /// A row that was not sent, and why.
    pub fn not_attempted(line: u64, id: String, reason: String) -> Self {
        Self {
            error_message: Some(reason),
            ..Self::new(line, id, OutcomeKind::NotAttempted)
        }
    }

    /// A record HubSpot confirmed writing.
    pub fn written(line: u64, id: String, outcome: OutcomeKind, record_id: Option<String>) -> Self {
        Self {
            record_id,
            ..Self::new(line, id, outcome)
        }
    }

    /// Whether the row was refused before sending.
    pub fn is_invalid_input(&self) -> bool {
        self.outcome == OutcomeKind::Failed && self.error_category.as_deref() == Some(INVALID_INPUT)
    }

    /// Writes the line as JSON with a trailing newline.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubspot_projects::{NotAttempted, RecordError};

    fn text(line: &ReportLine) -> String {
        let mut out = Vec::new();
        line.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn outcomes_become_lines() {
        let written = ReportLine::from_outcome(
            7,
            "P-7",
            &Outcome::Created {
                record_id: "101".into(),
            },
        );
        assert_eq!(
            text(&written),
            "{\"line\":7,\"id\":\"P-7\",\"outcome\":\"created\",\"record_id\":\"101\"}\n"
        );
        assert!(written.outcome.is_written());
        let mut refused = RecordError::new("UNAUTHORIZED", "bad token");
        refused.status = Some(401);
        refused.correlation_id = Some("c-1".into());
        let failed = ReportLine::from_outcome(7, "P-7", &Outcome::Failed(refused));
        assert!(!failed.outcome.is_written() && !failed.is_invalid_input());
        assert_eq!(failed.error_category.as_deref(), Some("UNAUTHORIZED"));
        assert_eq!(failed.correlation_id.as_deref(), Some("c-1"));
        assert_eq!(failed.status, Some(401));
        let stopped = ReportLine::from_outcome(
            7,
            "P-7",
            &Outcome::NotAttempted(NotAttempted::DailyLimitReached {
                message: "daily".into(),
            }),
        );
        assert_eq!(stopped.outcome, OutcomeKind::NotAttempted);
        assert!(stopped.error_message.unwrap().contains("daily"));
        let parsed: ReportLine = serde_json::from_str(&text(&failed)).unwrap();
        assert_eq!(parsed, failed);
    }

    #[test]
    fn invalid_rows_are_failures_of_their_own_category() {
        let line = ReportLine::invalid(&InputError {
            line: 3,
            id: None,
            message: "no id".into(),
        });
        assert!(line.is_invalid_input());
        assert_eq!((line.line, line.id.as_str()), (3, ""));
    }
}
