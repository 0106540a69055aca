//! The journal's first line: what it covers.

use crate::input::{InputFormat, ReadOptions};
use serde::{Deserialize, Serialize};

/// The version of the journal format this crate reads and writes. Version 1 journals (keyed
/// by line alone) cannot prove which rows they cover and are refused.
pub const FORMAT_VERSION: u32 = 2;

/// What a journal was written for: a resumed run must read its input the same way.
///
/// ```
/// use hubspot_projects_cli::input::{InputFormat, ReadOptions};
/// use hubspot_projects_cli::journal::JournalHeader;
/// let columns = ["project_code".to_string(), "hs_name".to_string()];
/// let first = JournalHeader::new("a.csv", InputFormat::Csv, &ReadOptions::new("project_code"), &columns);
/// let mut options = ReadOptions::new("project_code");
/// options.empty_as_blank = true;
/// let second = JournalHeader::new("a.csv", InputFormat::Csv, &options, &columns);
/// assert_eq!(second.differences(&first).len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalHeader {
    /// Marks the file as a journal of this tool, and its format version ([`FORMAT_VERSION`]).
    pub hubspot_projects_journal: u32,
    /// The input as named on the command line; for messages only, since a file may be moved.
    pub input: String,
    /// The input's format: `csv` or `ndjson`.
    pub format: String,
    /// The id property.
    pub id_property: String,
    /// The CSV column the id is read from; `None` for NDJSON.
    pub id_column: Option<String>,
    /// Whether empty cells and JSON nulls are sent as empty values.
    pub empty_as_blank: bool,
    /// The CSV header's columns, trimmed; empty for NDJSON.
    pub columns: Vec<String>,
}

impl JournalHeader {
    /// The header of a run that reads `input` in `format` with `options`, under the CSV header
    /// `columns`.
    pub fn new(
        input: &str,
        format: InputFormat,
        options: &ReadOptions,
        columns: &[String],
    ) -> Self {
        Self {
            hubspot_projects_journal: FORMAT_VERSION,
            input: input.to_string(),
            format: format.name().to_string(),
            id_property: options.id_property.clone(),
            id_column: (format == InputFormat::Csv).then(|| options.id_column().to_string()),
            empty_as_blank: options.empty_as_blank,
            columns: columns.to_vec(),
        }
    }

    /// How `self` (a journal's header) differs from `run` (this run's), in words; empty when
    /// the journal covers this run. The input's name is not compared: rows are checked one by
    /// one instead.
    pub fn differences(&self, run: &Self) -> Vec<String> {
        let mut differences = Vec::new();
        if self.format != run.format {
            differences.push(format!(
                "the journal is for {} input, this run reads {}",
                self.format, run.format
            ));
        }
        if self.id_property != run.id_property {
            differences.push(format!(
                "the journal's id property is {:?}, this run's is {:?}",
                self.id_property, run.id_property
            ));
        }
        if self.id_column != run.id_column {
            differences.push(format!(
                "the journal read ids from column {:?}, this run from {:?}",
                self.id_column.as_deref().unwrap_or("-"),
                run.id_column.as_deref().unwrap_or("-")
            ));
        }
        if self.empty_as_blank != run.empty_as_blank {
            let what = |blank: bool| {
                if blank {
                    "sent empty cells as blank values (--empty-as-blank)"
                } else {
                    "left empty cells out"
                }
            };
            differences.push(format!(
                "the journal's run {}, this run {}",
                what(self.empty_as_blank),
                what(run.empty_as_blank)
            ));
        }
        if self.columns != run.columns {
            differences.push(format!(
                "the CSV header changed: the journal's has {}, the input's has {}",
                describe_columns(&self.columns),
                describe_columns(&run.columns)
            ));
        }
        differences
    }
}

fn describe_columns(columns: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut text = columns
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if columns.len() > SHOWN {
        text.push_str(&format!(", … ({} columns)", columns.len()));
    }
    format!("[{text}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn every_option_that_changes_what_is_sent_is_a_difference() {
        let options = ReadOptions::new("project_code");
        let base = JournalHeader::new(
            "a.csv",
            InputFormat::Csv,
            &options,
            &columns(&["project_code", "hs_name"]),
        );
        let moved = JournalHeader::new(
            "b/a.csv",
            InputFormat::Csv,
            &options,
            &columns(&["project_code", "hs_name"]),
        );
        assert!(
            base.differences(&moved).is_empty(),
            "the name is not compared"
        );
        let other_column = JournalHeader::new(
            "a.csv",
            InputFormat::Csv,
            &ReadOptions {
                id_column: Some("hs_name".into()),
                ..options.clone()
            },
            &columns(&["project_code", "hs_name"]),
        );
        assert!(base.differences(&other_column)[0].contains("column"));
        let other_header = JournalHeader::new(
            "a.csv",
            InputFormat::Csv,
            &options,
            &columns(&["project_code", "hs_name", "x"]),
        );
        let text = base.differences(&other_header).join("; ");
        assert!(
            text.contains("[project_code, hs_name]") && text.contains(", x]"),
            "{text}"
        );
        let ndjson = JournalHeader::new("a.csv", InputFormat::Ndjson, &options, &[]);
        assert_eq!(
            base.differences(&ndjson).len(),
            3,
            "{:?}",
            base.differences(&ndjson)
        );
    }
}
