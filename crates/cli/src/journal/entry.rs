//! One journal line after the header.

use crate::report::{OutcomeKind, ReportLine};
use crate::row_hash::RowHash;
use serde::{Deserialize, Serialize};
use std::io::{self, Write};

/// A row HubSpot confirmed writing.
///
/// ```json
/// {"line":2,"id":"PRJ-1","outcome":"created","record_id":"101","row_hash":"8c0f4d2e9a1b3c5d"}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalEntry {
    /// The line of the input the row starts on.
    pub line: u64,
    /// The row's id.
    pub id: String,
    /// What HubSpot confirmed. Only `created` and `updated` let a resumed run skip the row.
    pub outcome: OutcomeKind,
    /// HubSpot's record id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// The hash of the row as it was sent.
    pub row_hash: RowHash,
}

impl JournalEntry {
    /// The entry for a report line of a written row, or `None` when the row was not written.
    pub fn confirmed(line: &ReportLine, row_hash: RowHash) -> Option<Self> {
        line.outcome.is_written().then(|| Self {
            line: line.line,
            id: line.id.clone(),
            outcome: line.outcome,
            record_id: line.record_id.clone(),
            row_hash,
        })
    }

    /// The report line of this entry, for the report of a resumed run.
    pub fn report_line(&self) -> ReportLine {
        ReportLine::written(
            self.line,
            self.id.clone(),
            self.outcome,
            self.record_id.clone(),
        )
    }

    /// Writes the entry as JSON with a trailing newline.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }
}
