//! CSV rows, parsed by `csv-core`.
//!
//! The line breaks between records (the `\n` of a CRLF, blank lines) are consumed here rather
//! than by the parser, so that the line a record starts on is known exactly: the `csv` crate
//! takes a record's position before it skips them, which puts every row of a CRLF file one line
//! too early.

use super::{FatalInputError, InputError, ReadOptions, SourceRecord};
use csv_core::ReadRecordResult;
use hubspot_projects::UpsertInput;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

/// The largest row accepted: far above what HubSpot takes (a property value holds at most
/// 65,536 characters), low enough that an unclosed quote cannot make a row as large as the
/// file.
const MAX_ROW_BYTES: usize = 64 << 20;

/// A failure to read the next record; reading stops after it.
enum ReadFailure {
    Io(io::Error),
    TooLarge,
}

/// Line breaks consumed so far: `\n`, `\r\n`, and a `\r` alone (as old Mac files end their
/// lines, and as csv-core ends a record), each counted once, so that every record starts on a
/// line of its own.
#[derive(Default)]
struct LineCounter {
    breaks: u64,
    /// Whether the last byte consumed was a `\r` whose next byte is not known yet.
    pending_cr: bool,
}

impl LineCounter {
    fn consumed(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else {
            return;
        };
        if self.pending_cr && bytes[0] != b'\n' {
            self.breaks += 1;
        }
        self.breaks += bytes.iter().filter(|b| **b == b'\n').count() as u64;
        if bytes.contains(&b'\r') {
            self.breaks += bytes
                .windows(2)
                .filter(|pair| pair[0] == b'\r' && pair[1] != b'\n')
                .count() as u64;
        }
        self.pending_cr = last == b'\r';
    }

    /// The line of the next byte, when it is not a `\n`.
    fn next_line(&self) -> u64 {
        1 + self.breaks + u64::from(self.pending_cr)
    }
}

/// Records as raw fields, with the line each starts on.
struct RawRecords<R> {
    source: BufReader<R>,
    parser: csv_core::Reader,
    lines: LineCounter,
    fields: Vec<u8>,
    ends: Vec<usize>,
    field_count: usize,
    /// Whether the parser has been given input yet.
    parser_fed: bool,
}

impl<R: Read> RawRecords<R> {
    fn new(source: R) -> Self {
        Self {
            source: BufReader::with_capacity(256 * 1024, source),
            parser: csv_core::Reader::new(),
            lines: LineCounter::default(),
            fields: vec![0; 4096],
            ends: vec![0; 64],
            field_count: 0,
            parser_fed: false,
        }
    }

    /// Reads the next record; returns the line it starts on, or `None` at the end.
    fn next_record(&mut self) -> Result<Option<u64>, (u64, ReadFailure)> {
        // Line breaks before a record: the parser would skip them as empty lines, but only
        // after the record's position was taken.
        loop {
            let line = self.lines.next_line();
            let buffer = self
                .source
                .fill_buf()
                .map_err(|e| (line, ReadFailure::Io(e)))?;
            if buffer.is_empty() {
                break;
            }
            let skip = buffer
                .iter()
                .position(|b| *b != b'\r' && *b != b'\n')
                .unwrap_or(buffer.len());
            let more = skip == buffer.len();
            self.lines.consumed(&buffer[..skip]);
            self.source.consume(skip);
            if !more {
                break;
            }
        }
        // The next byte, if any, is neither \r nor \n: a \r just before it stood alone.
        let start = self.lines.next_line();
        let (mut out_len, mut ends_len) = (0, 0);
        loop {
            let input = self
                .source
                .fill_buf()
                .map_err(|e| (start, ReadFailure::Io(e)))?;
            // csv-core strips a byte-order mark from the start of the first input it is given,
            // which, after the blank lines skipped above, falls wherever a read happened to end.
            // Its first input is one byte, so that it never does: the file's leading marks are
            // stripped before, and the rows never depend on the sizes of the reads.
            let input = if self.parser_fed {
                input
            } else {
                &input[..input.len().min(1)]
            };
            self.parser_fed = true;
            let (result, read, written, ended) = self.parser.read_record(
                input,
                &mut self.fields[out_len..],
                &mut self.ends[ends_len..],
            );
            self.lines.consumed(&input[..read]);
            self.source.consume(read);
            out_len += written;
            ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    if self.fields.len() >= MAX_ROW_BYTES {
                        return Err((start, ReadFailure::TooLarge));
                    }
                    let grown = (self.fields.len() * 2).min(MAX_ROW_BYTES);
                    self.fields.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    self.field_count = ends_len;
                    return Ok(Some(start));
                }
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    fn len(&self) -> usize {
        self.field_count
    }

    fn field(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.fields[start..self.ends[index]]
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.field(i))
    }
}

/// The UTF-8 byte-order mark some editors write at the start of a file.
const BYTE_ORDER_MARK: &[u8] = b"\xef\xbb\xbf";

/// `source` without the byte-order marks it starts with. csv-core strips a mark only when its
/// first input holds all three bytes, and then takes an input left empty for the end of the
/// file: a source whose first read gives the mark alone (a pipe whose writer sent it on its
/// own) would read as an empty file. Stripped here, the parser never sees one, whatever the
/// reads' sizes, and blank lines after it are skipped like any others.
fn without_byte_order_marks<R: Read>(
    mut source: R,
) -> io::Result<io::Chain<io::Cursor<Vec<u8>>, R>> {
    loop {
        let mut head = Vec::with_capacity(BYTE_ORDER_MARK.len());
        (&mut source)
            .take(BYTE_ORDER_MARK.len() as u64)
            .read_to_end(&mut head)?;
        if head != BYTE_ORDER_MARK {
            return Ok(io::Cursor::new(head).chain(source));
        }
    }
}

/// Reads the header and returns its column names and the rows that follow.
pub(super) fn rows<R: Read + Send + 'static>(
    source: R,
    options: ReadOptions,
) -> Result<
    (
        Vec<String>,
        impl Iterator<Item = Result<SourceRecord, InputError>> + Send,
    ),
    FatalInputError,
> {
    let source = without_byte_order_marks(source)
        .map_err(|e| FatalInputError(format!("line 1: cannot read the CSV header: {e}")))?;
    let mut reader = RawRecords::new(source);
    let header_line = match reader.next_record() {
        Ok(Some(line)) => line,
        Ok(None) => {
            return Err(FatalInputError(
                "the input is empty: a CSV file starts with a header row that names the columns"
                    .to_string(),
            ));
        }
        Err((line, ReadFailure::Io(e))) => {
            return Err(FatalInputError(format!(
                "line {line}: cannot read the CSV header: {e}"
            )));
        }
        Err((line, ReadFailure::TooLarge)) => {
            return Err(FatalInputError(format!(
                "line {line}: the CSV header is larger than {} MiB; is a quote left open?",
                MAX_ROW_BYTES >> 20
            )));
        }
    };
    let names = header_names(&reader, header_line)?;
    let id_column = options.id_column().to_string();
    let id_index = names.iter().position(|n| *n == id_column).ok_or_else(|| {
        FatalInputError(format!(
            "line {header_line}: the header has no column {id_column:?} for the id (columns: {}); \
             name it with --id-column",
            names.join(", ")
        ))
    })?;
    let columns = names.clone();
    let mut stopped = false;
    let rows = std::iter::from_fn(move || {
        if stopped {
            return None;
        }
        match reader.next_record() {
            Ok(None) => None,
            Ok(Some(line)) => Some(row(&reader, line, &names, id_index, &options)),
            Err((line, failure)) => {
                // A failing source, or a row that cannot end: report it once and stop.
                stopped = true;
                let message = match failure {
                    ReadFailure::Io(e) => format!("cannot read the input: {e}"),
                    ReadFailure::TooLarge => format!(
                        "the row is larger than {} MiB, so reading stops here; is a quote left open?",
                        MAX_ROW_BYTES >> 20
                    ),
                };
                Some(Err(InputError {
                    line,
                    id: None,
                    message,
                }))
            }
        }
    });
    Ok((columns, rows))
}

/// The header's column names, trimmed; refuses an unnamed or a repeated column, since every
/// column becomes a property and a repeated one would silently lose one of its values.
fn header_names<R: Read>(
    reader: &RawRecords<R>,
    line: u64,
) -> Result<Vec<String>, FatalInputError> {
    let mut names: Vec<String> = Vec::with_capacity(reader.len());
    for (index, raw) in reader.iter().enumerate() {
        let name = std::str::from_utf8(raw).map_err(|_| {
            FatalInputError(format!(
                "line {line}: header column {} is not valid UTF-8; save the file as UTF-8",
                index + 1
            ))
        })?;
        let name = name.trim();
        if name.is_empty() {
            return Err(FatalInputError(format!(
                "line {line}: header column {} has no name; every column becomes a property and needs one",
                index + 1
            )));
        }
        if let Some(first) = names.iter().position(|n| n == name) {
            return Err(FatalInputError(format!(
                "line {line}: the header names column {name:?} twice (columns {} and {}); \
                 every column becomes a property, so one of the two values would be lost: \
                 rename or remove one of them",
                first + 1,
                index + 1
            )));
        }
        names.push(name.to_string());
    }
    Ok(names)
}

fn row<R: Read>(
    reader: &RawRecords<R>,
    line: u64,
    names: &[String],
    id_index: usize,
    options: &ReadOptions,
) -> Result<SourceRecord, InputError> {
    if reader.len() != names.len() {
        // The id, when the row is long enough to have one, helps find the row.
        let id = (id_index < reader.len())
            .then(|| {
                String::from_utf8_lossy(reader.field(id_index))
                    .trim()
                    .to_string()
            })
            .filter(|id| !id.is_empty());
        return Err(InputError {
            line,
            id,
            message: format!(
                "the row has {} fields but the header has {}; fix the row (quote fields that \
                 contain commas)",
                reader.len(),
                names.len()
            ),
        });
    }
    let id_bytes = reader.field(id_index);
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
    for (index, (name, value)) in names.iter().zip(reader.iter()).enumerate() {
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

#[cfg(test)]
mod tests {
    use super::super::{InputFormat, Records};
    use super::*;

    fn options() -> ReadOptions {
        ReadOptions::new("project_code")
    }

    fn read(text: &[u8], options: ReadOptions) -> Vec<Result<SourceRecord, InputError>> {
        Records::open(
            std::io::Cursor::new(text.to_vec()),
            InputFormat::Csv,
            options,
        )
        .unwrap()
        .collect()
    }

    fn lines(rows: &[Result<SourceRecord, InputError>]) -> Vec<u64> {
        rows.iter()
            .map(|r| match r {
                Ok(record) => record.line,
                Err(error) => error.line,
            })
            .collect()
    }

    #[test]
    fn rows_become_inputs_with_their_lines() {
        let rows = read(
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
    fn crlf_blank_lines_and_multi_line_fields_keep_the_lines_an_editor_shows() {
        let crlf = read(
            b"project_code,hs_name\r\nP-1,a\r\n,no id\r\nP-3,c\r\n",
            options(),
        );
        assert_eq!(lines(&crlf), [2, 3, 4]);
        assert_eq!(crlf[1].as_ref().unwrap_err().line, 3);
        let spaced = read(
            b"project_code,hs_name\n\nP-1,\"two\nlines\"\r\n\r\n\r\nP-2,b\nP-3,c",
            options(),
        );
        assert_eq!(lines(&spaced), [3, 7, 8]);
        assert_eq!(
            spaced[0].as_ref().unwrap().input.properties["hs_name"],
            "two\nlines"
        );
        assert_eq!(spaced[2].as_ref().unwrap().input.id, "P-3");
        // A carriage return alone ends a line too, so no two rows share one.
        let old_mac = read(
            b"project_code,hs_name\rP-1,a\rP-2,\"b\rc\"\r\rP-3,d",
            options(),
        );
        assert_eq!(lines(&old_mac), [2, 3, 6]);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_column() {
        let rows = read(b"\xef\xbb\xbfproject_code,hs_name\r\nP-1,a\r\n", options());
        assert_eq!(rows[0].as_ref().unwrap().input.id, "P-1");
    }

    #[test]
    fn a_byte_order_mark_read_on_its_own_is_not_an_empty_file() {
        // As from a pipe whose writer sent the mark in a write of its own.
        let source = std::io::Read::chain(
            &b"\xef\xbb\xbf"[..],
            &b"project_code,hs_name\r\nP-1,a\r\n"[..],
        );
        let rows: Vec<_> = Records::open(source, InputFormat::Csv, options())
            .expect("the header is read")
            .collect();
        assert_eq!(lines(&rows), [2]);
        assert_eq!(rows[0].as_ref().unwrap().input.id, "P-1");
        // Blank lines after the mark are skipped like any others, and counted.
        let message = fatal(b"\xef\xbb\xbf\r\ncode,name\n");
        assert!(message.starts_with("line 2:"), "{message}");
    }

    #[test]
    fn a_byte_order_mark_after_blank_lines_is_text_however_the_reads_fall() {
        let late = b"\r\n\r\n\xef\xbb\xbfproject_code\nP-1\n";
        let whole = fatal(late);
        let trickled = Records::open(
            std::io::Read::chain(&late[..5], &late[5..]),
            InputFormat::Csv,
            options(),
        )
        .map(|_| ())
        .unwrap_err()
        .to_string();
        assert_eq!(whole, trickled);
        assert!(whole.contains("\u{feff}project_code"), "{whole}");
    }

    #[test]
    fn empty_as_blank_keeps_empty_cells() {
        let mut o = options();
        o.empty_as_blank = true;
        let rows = read(b"project_code,hs_name\nP-1,\n", o);
        assert_eq!(rows[0].as_ref().unwrap().input.properties["hs_name"], "");
    }

    #[test]
    fn bad_rows_name_their_line_and_reading_goes_on() {
        let rows = read(
            b"project_code,hs_name\nP-1,a,extra\n,b\nP-3,\xff\nP-4,d\n",
            options(),
        );
        let errors: Vec<_> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(errors[0].message.contains("3 fields"), "{}", errors[0]);
        assert_eq!(errors[0].id.as_deref(), Some("P-1"));
        assert!(errors[1].message.contains("empty"), "{}", errors[1]);
        assert_eq!(errors[2].id.as_deref(), Some("P-3"));
        assert!(errors[2].message.contains("UTF-8"));
        assert_eq!(rows.last().unwrap().as_ref().unwrap().input.id, "P-4");
    }

    fn fatal(text: &[u8]) -> String {
        Records::open(
            std::io::Cursor::new(text.to_vec()),
            InputFormat::Csv,
            options(),
        )
        .map(|_| ())
        .expect_err("the header is refused")
        .to_string()
    }

    #[test]
    fn a_header_without_the_id_column_is_fatal_and_says_what_to_do() {
        let message = fatal(b"code,name\n");
        assert!(
            message.contains("--id-column") && message.contains("project_code"),
            "{message}"
        );
    }

    #[test]
    fn a_column_named_twice_is_refused_with_its_name() {
        let message = fatal(b"project_code,hs_name,hs_name\nP-1,a,b\n");
        assert!(
            message.contains("\"hs_name\"") && message.contains("columns 2 and 3"),
            "{message}"
        );
        let message = fatal(b"project_code, hs_name ,hs_name\n");
        assert!(
            message.contains("twice"),
            "names are compared trimmed: {message}"
        );
    }

    #[test]
    fn an_empty_input_or_an_unnamed_column_is_refused() {
        assert!(fatal(b"").contains("empty"));
        assert!(fatal(b"\r\n\r\n").contains("empty"));
        assert!(fatal(b"project_code,,x\n").contains("column 2 has no name"));
    }

    #[test]
    fn an_endless_quoted_field_stops_reading_with_an_error() {
        let mut text = b"project_code,hs_name\nP-1,\"".to_vec();
        text.resize(MAX_ROW_BYTES + 4096, b'x');
        let rows = read(&text, options());
        assert_eq!(rows.len(), 1);
        let error = rows[0].as_ref().unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("quote"), "{error}");
    }
}
