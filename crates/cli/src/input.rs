//! Reading records from CSV or NDJSON, lazily, one at a time, with the line each came from.
//!
//! A bad row never stops the reader (unless the caller chooses to stop): it comes back as an
//! [`InputError`] naming the line, the id when one could be read, and what to do.

use hubspot_projects::UpsertInput;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

/// The file formats the tool reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line: `{"id":…,"properties":{…},"idProperty":…}`.
    Ndjson,
}

impl InputFormat {
    /// The format a file name implies, if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "ndjson" | "jsonl" => Some(Self::Ndjson),
            _ => None,
        }
    }
}

/// How rows turn into upsert inputs.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// The unique property that identifies records.
    pub id_property: String,
    /// The CSV column that holds the id (default: the id property).
    pub id_column: Option<String>,
    /// Send empty cells as empty values instead of leaving the property untouched.
    pub empty_as_blank: bool,
}

/// One input record and the line of the file it starts on (1-based, the header is line 1).
#[derive(Clone, Debug)]
pub struct SourceRecord {
    /// The line the record starts on.
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

/// An error that stops reading altogether: the header cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FatalInputError(pub String);

/// A lazy reader of records.
pub type Records = Box<dyn Iterator<Item = Result<SourceRecord, InputError>> + Send>;

/// Opens a reader of `format` over `source`.
pub fn records(
    source: Box<dyn Read + Send>,
    format: InputFormat,
    options: ReadOptions,
) -> Result<Records, FatalInputError> {
    match format {
        InputFormat::Csv => csv_records(source, options),
        InputFormat::Ndjson => Ok(ndjson_records(source, options)),
    }
}

fn csv_records(
    source: Box<dyn Read + Send>,
    options: ReadOptions,
) -> Result<Records, FatalInputError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(source);
    let headers = reader
        .byte_headers()
        .map_err(|e| FatalInputError(format!("line 1: cannot read the CSV header: {e}")))?
        .clone();
    let names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            std::str::from_utf8(h)
                .map(|s| s.trim().to_string())
                .map_err(|_| {
                    FatalInputError(format!(
                        "line 1: header column {} is not valid UTF-8",
                        i + 1
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let id_column = options
        .id_column
        .clone()
        .unwrap_or_else(|| options.id_property.clone());
    let id_index = names.iter().position(|n| *n == id_column).ok_or_else(|| {
        FatalInputError(format!(
            "line 1: the header has no column {id_column:?} for the id (columns: {}); \
             name it with --id-column",
            names.join(", ")
        ))
    })?;
    if let Some(empty) = names.iter().position(String::is_empty) {
        return Err(FatalInputError(format!(
            "line 1: header column {} has no name; every column becomes a property and needs one",
            empty + 1
        )));
    }
    let mut row = csv::ByteRecord::new();
    let mut stopped = false;
    let iter = std::iter::from_fn(move || {
        if stopped {
            return None;
        }
        match reader.read_byte_record(&mut row) {
            Ok(false) => None,
            Ok(true) => {
                let line = row.position().map_or(0, |p| p.line());
                Some(csv_row(&row, line, &names, id_index, &options))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!(
                        "the row has {len} fields but the header has {expected_len}; \
                         fix the row (quote fields that contain commas)"
                    ),
                    _ => format!("malformed CSV: {e}"),
                };
                // When the source itself fails, report it once and stop.
                stopped = matches!(e.kind(), csv::ErrorKind::Io(_));
                Some(Err(InputError {
                    line,
                    id: None,
                    message,
                }))
            }
        }
    });
    Ok(Box::new(iter))
}

fn csv_row(
    row: &csv::ByteRecord,
    line: u64,
    names: &[String],
    id_index: usize,
    options: &ReadOptions,
) -> Result<SourceRecord, InputError> {
    let id_bytes = row.get(id_index).unwrap_or_default();
    let id = String::from_utf8_lossy(id_bytes).trim().to_string();
    let fail = |message: String| InputError {
        line,
        id: (!id.is_empty()).then(|| id.clone()),
        message,
    };
    if std::str::from_utf8(id_bytes).is_err() {
        return Err(fail(
            "the id is not valid UTF-8; save the file as UTF-8".to_string(),
        ));
    }
    if id.is_empty() {
        return Err(fail(format!(
            "the id column {:?} is empty; every row needs an id",
            names[id_index]
        )));
    }
    let mut properties = BTreeMap::new();
    for (index, (name, value)) in names.iter().zip(row.iter()).enumerate() {
        if index == id_index {
            continue;
        }
        let value = std::str::from_utf8(value).map_err(|_| {
            fail(format!(
                "column {name:?} is not valid UTF-8; save the file as UTF-8"
            ))
        })?;
        if value.is_empty() && !options.empty_as_blank {
            continue;
        }
        properties.insert(name.clone(), value.to_string());
    }
    Ok(SourceRecord {
        line,
        input: UpsertInput {
            id,
            id_property: Some(options.id_property.clone()),
            properties,
            object_write_trace_id: None,
        },
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NdjsonRow {
    id: serde_json::Value,
    #[serde(default)]
    properties: BTreeMap<String, serde_json::Value>,
    #[serde(rename = "idProperty")]
    id_property: Option<String>,
    #[serde(rename = "objectWriteTraceId")]
    object_write_trace_id: Option<String>,
}

fn ndjson_records(source: Box<dyn Read + Send>, options: ReadOptions) -> Records {
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, source);
    let mut buffer = Vec::new();
    let mut line = 0u64;
    let mut failed = false;
    Box::new(std::iter::from_fn(move || {
        loop {
            if failed {
                return None;
            }
            buffer.clear();
            line += 1;
            match reader.read_until(b'\n', &mut buffer) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    failed = true;
                    return Some(Err(InputError {
                        line,
                        id: None,
                        message: format!("cannot read the input: {e}"),
                    }));
                }
            }
            let text = match std::str::from_utf8(&buffer) {
                Ok(text) => text.trim(),
                Err(_) => {
                    return Some(Err(InputError {
                        line,
                        id: None,
                        message: "the line is not valid UTF-8; save the file as UTF-8".to_string(),
                    }));
                }
            };
            if text.is_empty() {
                continue;
            }
            return Some(ndjson_row(text, line, &options));
        }
    }))
}

fn ndjson_row(text: &str, line: u64, options: &ReadOptions) -> Result<SourceRecord, InputError> {
    let row: NdjsonRow = serde_json::from_str(text).map_err(|e| InputError {
        line,
        id: None,
        message: format!(
            "not a JSON object of the form {{\"id\":…,\"properties\":{{…}},\"idProperty\":…}}: {e}"
        ),
    })?;
    let id = match &row.id {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    };
    let fail = |message: String| InputError {
        line,
        id: (!id.is_empty()).then(|| id.clone()),
        message,
    };
    if id.is_empty() {
        return Err(fail(
            "\"id\" is missing or empty; every line needs an id".to_string(),
        ));
    }
    let mut properties = BTreeMap::new();
    for (name, value) in row.properties {
        let value = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null if options.empty_as_blank => String::new(),
            serde_json::Value::Null => continue,
            _ => {
                return Err(fail(format!(
                    "property {name:?} is an array or object; HubSpot property values are strings"
                )));
            }
        };
        if value.is_empty() && !options.empty_as_blank {
            continue;
        }
        properties.insert(name, value);
    }
    Ok(SourceRecord {
        line,
        input: UpsertInput {
            id,
            id_property: Some(
                row.id_property
                    .unwrap_or_else(|| options.id_property.clone()),
            ),
            properties,
            object_write_trace_id: row.object_write_trace_id,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ReadOptions {
        ReadOptions {
            id_property: "project_code".into(),
            id_column: None,
            empty_as_blank: false,
        }
    }

    fn read(
        format: InputFormat,
        text: &[u8],
        options: ReadOptions,
    ) -> Vec<Result<SourceRecord, InputError>> {
        records(
            Box::new(std::io::Cursor::new(text.to_vec())),
            format,
            options,
        )
        .unwrap()
        .collect()
    }

    #[test]
    fn csv_rows_become_inputs_with_their_lines() {
        let rows = read(
            InputFormat::Csv,
            b"project_code,hs_name,hs_pipeline\nP-1,One,\nP-2,\"Two, too\",p\n",
            options(),
        );
        let first = rows[0].as_ref().unwrap();
        assert_eq!((first.line, first.input.id.as_str()), (2, "P-1"));
        assert_eq!(first.input.properties.len(), 1, "empty cells are left out");
        let second = rows[1].as_ref().unwrap();
        assert_eq!(second.line, 3);
        assert_eq!(second.input.properties["hs_name"], "Two, too");
        assert_eq!(second.input.id_property.as_deref(), Some("project_code"));
    }

    #[test]
    fn empty_as_blank_keeps_empty_cells() {
        let mut o = options();
        o.empty_as_blank = true;
        let rows = read(InputFormat::Csv, b"project_code,hs_name\nP-1,\n", o);
        assert_eq!(rows[0].as_ref().unwrap().input.properties["hs_name"], "");
    }

    #[test]
    fn bad_csv_rows_name_their_line_and_reading_goes_on() {
        let rows = read(
            InputFormat::Csv,
            b"project_code,hs_name\nP-1,a,extra\n,b\nP-3,\xff\nP-4,d\n",
            options(),
        );
        let errors: Vec<_> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(errors[0].message.contains("3 fields"), "{}", errors[0]);
        assert!(errors[1].message.contains("empty"), "{}", errors[1]);
        assert_eq!(errors[2].id.as_deref(), Some("P-3"));
        assert!(errors[2].message.contains("UTF-8"));
        assert_eq!(rows.last().unwrap().as_ref().unwrap().input.id, "P-4");
    }

    #[test]
    fn a_header_without_the_id_column_is_fatal_and_says_what_to_do() {
        let result = records(
            Box::new(std::io::Cursor::new(b"code,name\n".to_vec())),
            InputFormat::Csv,
            options(),
        );
        let message = result.err().unwrap().to_string();
        assert!(
            message.contains("--id-column") && message.contains("project_code"),
            "{message}"
        );
    }

    #[test]
    fn ndjson_lines_become_inputs_and_bad_lines_are_named() {
        let text = b"{\"id\":\"P-1\",\"properties\":{\"hs_name\":\"One\",\"n\":3,\"gone\":null}}\n\n{\"id\":\"\"}\nnot json\n{\"id\":7,\"idProperty\":\"other\"}\n";
        let rows = read(InputFormat::Ndjson, text, options());
        let first = rows[0].as_ref().unwrap();
        assert_eq!(first.input.properties.len(), 2);
        assert_eq!(first.input.properties["n"], "3");
        assert_eq!(rows[1].as_ref().unwrap_err().line, 3);
        assert_eq!(rows[2].as_ref().unwrap_err().line, 4);
        let last = rows[3].as_ref().unwrap();
        assert_eq!((last.line, last.input.id.as_str()), (5, "7"));
        assert_eq!(last.input.id_property.as_deref(), Some("other"));
    }

    #[test]
    fn the_format_follows_the_extension() {
        assert_eq!(
            InputFormat::from_path(Path::new("a.CSV")),
            Some(InputFormat::Csv)
        );
        assert_eq!(
            InputFormat::from_path(Path::new("a.jsonl")),
            Some(InputFormat::Ndjson)
        );
        assert_eq!(InputFormat::from_path(Path::new("a.txt")), None);
    }
}
