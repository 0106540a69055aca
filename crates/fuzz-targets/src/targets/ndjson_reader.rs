//! `ndjson_reader`: any bytes as an NDJSON file, read by the CLI's reader with the id property
//! `project_code`.

use hubspot_projects_cli::input::InputFormat;
use serde_json::value::RawValue;
use std::collections::HashMap;

use super::rows::{check_reader, line_of};

/// Runs one input; panics when a check fails.
pub fn run(data: &[u8]) {
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let Ok((columns, rows)) = check_reader(data, InputFormat::Ndjson, lines.len() as u64) else {
        panic!("an NDJSON input is never refused as a whole");
    };
    assert!(columns.is_empty(), "NDJSON has no header");

    // Every line that is not blank is one row, at its own number.
    let expected: Vec<u64> = lines
        .iter()
        .enumerate()
        .filter(|(at, line)| !text_of(*at == 0, line).is_some_and(str::is_empty))
        .map(|(at, _)| at as u64 + 1)
        .collect();
    let got: Vec<u64> = rows.iter().map(line_of).collect();
    assert_eq!(got, expected, "rows and the lines that are not blank");

    for record in rows.iter().filter_map(|row| row.as_ref().ok()) {
        let line = record.line;
        let at = (line - 1) as usize;
        let text = text_of(at == 0, lines[at]).expect("a record's line is UTF-8");
        let fields: HashMap<String, &RawValue> = serde_json::from_str(text).unwrap_or_else(|e| {
            panic!("line {line}: a record from a line that is not an object: {e}")
        });
        let id = fields
            .get("id")
            .unwrap_or_else(|| panic!("line {line}: a record from a line without an id"));
        assert_eq!(
            record.input.id,
            as_sent(id).trim(),
            "line {line}: the id is the line's, exactly as written"
        );
        let properties: HashMap<String, &RawValue> = fields
            .get("properties")
            .map(|raw| serde_json::from_str(raw.get()).expect("properties are an object"))
            .unwrap_or_default();
        for (name, value) in &record.input.properties {
            let written = properties
                .get(name)
                .unwrap_or_else(|| panic!("line {line}: property {name:?} is not on the line"));
            assert_eq!(
                value,
                &as_sent(written),
                "line {line}: property {name:?} is sent exactly as written"
            );
        }
    }
}

/// A JSON scalar as the text HubSpot receives: a string's content, anything else as written.
fn as_sent(raw: &RawValue) -> String {
    let text = raw.get();
    if text.starts_with('"') {
        serde_json::from_str(text).expect("a JSON string")
    } else {
        text.to_string()
    }
}

/// A line's text as the reader sees it: UTF-8, without a byte-order mark on the first line,
/// trimmed; `None` when it is not UTF-8.
fn text_of(first: bool, line: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(line).ok()?;
    let text = if first {
        text.trim_start_matches('\u{feff}')
    } else {
        text
    };
    Some(text.trim())
}
