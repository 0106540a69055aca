//! One line per input, for the `--report` file and the journal.

use hubspot_projects::{Outcome, RecordOutcome};
use serde::{Deserialize, Serialize};

/// The kinds of outcome, as written to reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// One input and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLine {
    /// The line of the input file the record starts on.
    pub line: u64,
    /// The record's id (the value of the id property).
    pub id: String,
    /// What became of it.
    pub outcome: OutcomeKind,
    /// HubSpot's record id, when it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// HubSpot's error category, or the local one (`INVALID_INPUT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_category: Option<String>,
    /// What went wrong, and for local errors what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// HubSpot's correlation id for the request, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The HTTP status HubSpot answered with, when the record failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl ReportLine {
    /// The report line for an outcome the client reported.
    pub fn from_outcome(record: &RecordOutcome<u64>) -> Self {
        let mut line = Self {
            line: record.tag,
            id: record.id.clone(),
            outcome: OutcomeKind::Failed,
            record_id: None,
            error_category: None,
            error_message: None,
            correlation_id: None,
            status: None,
        };
        match &record.outcome {
            Outcome::Created { record_id } => {
                line.outcome = OutcomeKind::Created;
                line.record_id = Some(record_id.clone());
            }
            Outcome::Updated { record_id } => {
                line.outcome = OutcomeKind::Updated;
                line.record_id = Some(record_id.clone());
            }
            Outcome::Failed(error) => {
                line.error_category = Some(error.category.to_string());
                line.error_message = Some(error.message.clone());
                line.correlation_id = error.correlation_id.clone();
                line.status = error.status;
            }
            Outcome::NotAttempted(reason) => {
                line.outcome = OutcomeKind::NotAttempted;
                line.error_message = Some(reason.to_string());
            }
            other => {
                line.error_message = Some(format!("{other:?}"));
            }
        }
        line
    }

    /// A row that could not be read or is invalid, never sent.
    pub fn invalid(error: &crate::input::InputError) -> Self {
        Self {
            line: error.line,
            id: error.id.clone().unwrap_or_default(),
            outcome: OutcomeKind::Failed,
            record_id: None,
            error_category: Some("INVALID_INPUT".to_string()),
            error_message: Some(error.message.clone()),
            correlation_id: None,
            status: None,
        }
    }

    /// Whether HubSpot confirmed that it wrote this record, so that a resumed run need not send
    /// it again. A failed record is not: the failure may be fixed by then (a token, a scope, a
    /// property), and sending it again is what an uninterrupted run after the fix would do.
    pub fn is_confirmed(&self) -> bool {
        matches!(self.outcome, OutcomeKind::Created | OutcomeKind::Updated)
    }

    /// The line as JSON, with a trailing newline.
    pub fn to_json_line(&self) -> String {
        let mut text = serde_json::to_string(self).expect("a report line always serializes");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hubspot_projects::{NotAttempted, RecordError};

    fn line(outcome: Outcome) -> ReportLine {
        ReportLine::from_outcome(&RecordOutcome {
            tag: 7,
            id: "P-7".into(),
            id_property: Some("project_code".into()),
            outcome,
        })
    }

    #[test]
    fn only_written_records_are_confirmed() {
        let written = line(Outcome::Created {
            record_id: "101".into(),
        });
        assert_eq!(
            (written.line, written.record_id.as_deref()),
            (7, Some("101"))
        );
        assert!(written.is_confirmed());
        assert!(
            line(Outcome::Updated {
                record_id: "101".into()
            })
            .is_confirmed()
        );
        let mut refused = RecordError::new("UNAUTHORIZED", "bad token");
        refused.status = Some(401);
        refused.correlation_id = Some("c-1".into());
        let failed = line(Outcome::Failed(refused));
        assert!(!failed.is_confirmed(), "a fixed token must send it again");
        assert_eq!(failed.error_category.as_deref(), Some("UNAUTHORIZED"));
        assert_eq!(failed.correlation_id.as_deref(), Some("c-1"));
        let stopped = line(Outcome::NotAttempted(NotAttempted::DailyLimitReached {
            message: "daily".into(),
        }));
        assert_eq!(stopped.outcome, OutcomeKind::NotAttempted);
        assert!(!stopped.is_confirmed());
    }
}
