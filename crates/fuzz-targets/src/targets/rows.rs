//! What both input readers must do with any bytes, whatever their format.

use std::io::{Cursor, Read};

use hubspot_projects_cli::input::{
    FatalInputError, InputError, InputFormat, ReadOptions, Records, SourceRecord,
};

use crate::source::{FAILURE, Rng, Trickle};

/// The id property every reader target reads with.
pub(crate) const ID_PROPERTY: &str = "project_code";

/// Everything a reader gives for one input: the CSV header's columns and the rows, or the
/// error that stops it before the first row.
pub(crate) type Reading = Result<(Vec<String>, Vec<Row>), FatalInputError>;

/// One row: a record or an error naming its line.
pub(crate) type Row = Result<SourceRecord, InputError>;

pub(crate) fn options(empty_as_blank: bool) -> ReadOptions {
    let mut options = ReadOptions::new(ID_PROPERTY);
    options.empty_as_blank = empty_as_blank;
    options
}

/// Reads every row of `source`.
pub(crate) fn read_all(
    source: impl Read + Send + 'static,
    format: InputFormat,
    options: ReadOptions,
) -> Reading {
    let records = Records::open(source, format, options)?;
    let columns = records.columns().to_vec();
    Ok((columns, records.collect()))
}

/// The line a row starts on.
pub(crate) fn line_of(row: &Row) -> u64 {
    match row {
        Ok(record) => record.line,
        Err(error) => error.line,
    }
}

/// Reads `data` in `format` from one buffer, and checks what every reader owes any input:
///
/// - lines start at 1, stay within the input's lines, and strictly increase;
/// - a record has a trimmed, non-empty id and the id property; an error names its line first
///   and its id only when there is one;
/// - the same rows come out of small reads of varying size (the line counting and the
///   buffering do not depend on where reads end);
/// - a source that fails part way gives a prefix of the rows then one error, and ends;
/// - `--empty-as-blank` changes nothing but empty values, which it keeps.
///
/// `max_line` is the highest line the format can count in `data`. Returns the rows read from
/// one buffer, for the format's own checks.
pub(crate) fn check_reader(data: &[u8], format: InputFormat, max_line: u64) -> Reading {
    let whole = read_all(Cursor::new(data.to_vec()), format, options(false));
    if let Ok((_, rows)) = &whole {
        check_rows(rows, max_line);
    }

    let mut rng = Rng::from_data(data);
    let most = 1 + rng.below(16);
    let trickled = read_all(
        Trickle::new(data, most, rng.clone()),
        format,
        options(false),
    );
    assert_eq!(
        trickled, whole,
        "reads of at most {most} bytes give other rows than one whole buffer"
    );

    let fail_at = rng.below(data.len() + 1);
    let failing = read_all(
        Trickle::new(data, most, rng.clone()).failing_at(fail_at),
        format,
        options(false),
    );
    check_failing(&whole, &failing, fail_at);

    let blank = read_all(Cursor::new(data.to_vec()), format, options(true));
    check_blank(&whole, &blank);
    whole
}

fn check_rows(rows: &[Row], max_line: u64) {
    let mut last = 0;
    for row in rows {
        let line = line_of(row);
        assert!(
            line > last,
            "line numbers strictly increase: {line} after {last}"
        );
        assert!(
            line <= max_line,
            "line {line} is past the input's last line, {max_line}"
        );
        last = line;
        match row {
            Ok(record) => {
                let id = &record.input.id;
                assert!(!id.is_empty(), "line {line}: a record without an id");
                assert_eq!(id.trim(), id, "line {line}: the id is not trimmed");
                assert!(
                    record.input.id_property.is_some(),
                    "line {line}: no id property"
                );
            }
            Err(error) => {
                let shown = error.to_string();
                assert!(
                    shown.starts_with(&format!("line {line}")),
                    "an error names its line first: {shown}"
                );
                assert!(
                    !error.message.is_empty(),
                    "line {line}: an error says what is wrong"
                );
                assert!(
                    error.id.as_ref().is_none_or(|id| !id.is_empty()),
                    "line {line}: an error's id is absent rather than empty"
                );
            }
        }
    }
}

fn check_failing(whole: &Reading, failing: &Reading, fail_at: usize) {
    let Ok((whole_columns, whole_rows)) = whole else {
        assert!(
            failing.is_err(),
            "a source refused when read whole is refused when it fails part way"
        );
        return;
    };
    let (columns, rows) = match failing {
        Ok(read) => read,
        Err(fatal) => {
            assert!(
                fatal.0.contains(FAILURE),
                "the failure at byte {fail_at} is reported as itself: {fatal}"
            );
            return;
        }
    };
    assert_eq!(columns, whole_columns);
    let (last, before) = rows
        .split_last()
        .expect("a source that fails gives at least the error");
    assert_eq!(
        before,
        &whole_rows[..before.len()],
        "the rows before a failure at byte {fail_at} are those of the whole input"
    );
    let error = last
        .as_ref()
        .expect_err("the failure of the source is the last row");
    assert!(error.message.contains(FAILURE), "{error}");
    if let Some(previous) = before.last() {
        assert!(error.line > line_of(previous));
    }
}

fn check_blank(whole: &Reading, blank: &Reading) {
    let (Ok((whole_columns, whole_rows)), Ok((columns, rows))) = (whole, blank) else {
        assert_eq!(
            whole.is_ok(),
            blank.is_ok(),
            "--empty-as-blank does not change whether the input can be read"
        );
        return;
    };
    assert_eq!(columns, whole_columns);
    assert_eq!(
        rows.len(),
        whole_rows.len(),
        "--empty-as-blank keeps every row"
    );
    for (plain, blank) in whole_rows.iter().zip(rows) {
        match (plain, blank) {
            (Ok(plain), Ok(blank)) => {
                assert_eq!(plain.line, blank.line);
                assert_eq!(plain.input.id, blank.input.id);
                for (name, value) in &blank.input.properties {
                    match plain.input.properties.get(name) {
                        Some(kept) => assert_eq!(kept, value),
                        None => assert_eq!(
                            value, "",
                            "line {}: only empty values are added",
                            blank.line
                        ),
                    }
                }
                assert!(
                    plain
                        .input
                        .properties
                        .keys()
                        .all(|name| blank.input.properties.contains_key(name)),
                    "line {}: --empty-as-blank drops no value",
                    blank.line
                );
            }
            (Err(plain), Err(blank)) => assert_eq!(plain, blank),
            _ => panic!(
                "line {}: --empty-as-blank turns a record into an error or back",
                line_of(plain)
            ),
        }
    }
}
