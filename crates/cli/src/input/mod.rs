//! Reading records from CSV or NDJSON, lazily, one at a time, with the line each starts on.
//!
//! A bad row never stops the reader: it comes back as an [`InputError`] that names the line,
//! the id when one could be read, and what to do. Only a header that cannot be used (CSV) is
//! fatal: [`Records::open`] refuses it with a [`FatalInputError`].
//!
//! Line numbers are 1-based and count every line break of the file, blank lines and CRLF
//! included, so that they match what an editor shows.

mod csv;
mod ndjson;

use hubspot_projects::UpsertInput;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

/// The file formats the tool reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// Comma-separated values with a header row that names the properties.
    Csv,
    /// One JSON object per line: `{"id":…,"properties":{…},"idProperty":…}`.
    Ndjson,
}

impl InputFormat {
    /// The format a file name implies, if any: `.csv`, or `.ndjson` / `.jsonl`.
    ///
    /// ```
    /// use hubspot_projects_cli::input::InputFormat;
    /// use std::path::Path;
    /// assert_eq!(InputFormat::from_path(Path::new("a.CSV")), Some(InputFormat::Csv));
    /// assert_eq!(InputFormat::from_path(Path::new("a.txt")), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            _ => None,
        }
    }

    /// The format's name, as `--format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Ndjson => "ndjson",
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "ndjson" | "jsonl" => Ok(Self::Ndjson),
            _ => Err(format!("{text:?} is not a format: use csv or ndjson")),
        }
    }
}

/// How rows turn into upsert inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// The unique property that identifies records.
    pub id_property: String,
    /// The CSV column that holds the id (default: the id property).
    pub id_column: Option<String>,
    /// Send empty cells (and JSON nulls) as empty values instead of leaving the property as it
    /// is.
    pub empty_as_blank: bool,
}

impl ReadOptions {
    /// Options for `id_property`, the id read from the column of the same name, empty cells
    /// left out.
    pub fn new(id_property: impl Into<String>) -> Self {
        Self {
            id_property: id_property.into(),
            id_column: None,
            empty_as_blank: false,
        }
    }

    /// The CSV column that holds the id.
    pub fn id_column(&self) -> &str {
        self.id_column.as_deref().unwrap_or(&self.id_property)
    }
}

/// One input record and the line of the file it starts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRecord {
    /// The line the record starts on (1-based; a CSV header is a line too).
    pub line: u64,
    /// What will be sent.
    pub input: UpsertInput,
}

/// A row that cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The line the row starts on.
    pub line: u64,
    /// The row's id, when it could be read.
    pub id: Option<String>,
    /// What is wrong and what to do about it.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(id) = &self.id {
            write!(f, " (id {id:?})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// An error that stops reading before the first record: the CSV header cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FatalInputError(pub String);

/// A lazy reader of records: an iterator of rows, each a [`SourceRecord`] or an
/// [`InputError`].
///
/// After a failure of the source itself (a read error), the reader yields that error once and
/// ends.
pub struct Records {
    columns: Vec<String>,
    rows: Box<dyn Iterator<Item = Result<SourceRecord, InputError>> + Send>,
}

impl Records {
    /// Opens a reader of `format` over `source`. For CSV this reads the header, and refuses one
    /// that lacks the id column, has an unnamed column, or names a column twice.
    pub fn open<R: Read + Send + 'static>(
        source: R,
        format: InputFormat,
        options: ReadOptions,
    ) -> Result<Self, FatalInputError> {
        match format {
            InputFormat::Csv => {
                let (columns, rows) = csv::rows(source, options)?;
                Ok(Self {
                    columns,
                    rows: Box::new(rows),
                })
            }
            InputFormat::Ndjson => Ok(Self {
                columns: Vec::new(),
                rows: Box::new(ndjson::rows(source, options)),
            }),
        }
    }

    /// The CSV header's column names, trimmed; empty for NDJSON.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

impl Iterator for Records {
    type Item = Result<SourceRecord, InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
    }
}

impl fmt::Debug for Records {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("columns", &self.columns)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes drawn mostly from what CSV and JSON give meaning to, from a fixed seed.
    fn arbitrary_inputs() -> impl Iterator<Item = Vec<u8>> {
        const ALPHABET: &[u8] = b"ab,\"\r\n{}[]:0.-e \\\xff\xef\xbb\xbfidpropertiesnull";
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..3_000).map(move |_| {
            let len = (next() % 160) as usize;
            (0..len)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect()
        })
    }

    #[test]
    fn arbitrary_bytes_give_rows_or_errors_never_a_panic() {
        let mut rows = 0;
        for bytes in arbitrary_inputs() {
            for format in [InputFormat::Csv, InputFormat::Ndjson] {
                let mut options = ReadOptions::new("a");
                options.id_column = Some("a".into());
                let Ok(records) =
                    Records::open(std::io::Cursor::new(bytes.clone()), format, options)
                else {
                    continue;
                };
                let mut last = 0;
                for row in records {
                    let line = row.map_or_else(|e| e.line, |r| r.line);
                    assert!(
                        line > last,
                        "lines only grow: {last} then {line} in {bytes:?}"
                    );
                    last = line;
                    rows += 1;
                }
            }
        }
        assert!(
            rows > 1_000,
            "the inputs reach the rows, not only the header: {rows}"
        );
    }

    #[test]
    fn the_format_follows_the_extension_or_its_name() {
        assert_eq!(
            InputFormat::from_path(Path::new("a.jsonl")),
            Some(InputFormat::Ndjson)
        );
        assert_eq!("NDJSON".parse::<InputFormat>(), Ok(InputFormat::Ndjson));
        assert_eq!(InputFormat::Csv.to_string(), "csv");
        assert!("xml".parse::<InputFormat>().unwrap_err().contains("csv"));
    }
}
