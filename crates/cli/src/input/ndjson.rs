//! NDJSON rows: one `{"id":…,"properties":{…},"idProperty":…,"objectWriteTraceId":…}` per
//! line.
//!
//! Values are taken as the JSON text they are written as: a number is sent exactly as written
//! (`1.10` stays `1.10`, a 23-digit id keeps every digit), never through a float.

use super::{InputError, ReadOptions, SourceRecord};
use hubspot_projects::UpsertInput;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;

/// The longest line accepted; a longer one is reported and skipped.
const MAX_LINE_BYTES: usize = 64 << 20;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Row<'a> {
    #[serde(default, borrow)]
    id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    properties: Properties<'a>,
    #[serde(rename = "idProperty")]
    id_property: Option<String>,
    #[serde(rename = "objectWriteTraceId")]
    object_write_trace_id: Option<String>,
}

/// The properties in the order written, repeated names kept, so that a repeated name can be
/// refused rather than losing one of its values.
#[derive(Default)]
struct Properties<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Properties<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Pairs<'a> {
            type Value = Properties<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of property names and values")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(256));
                while let Some(pair) = map.next_entry::<String, &'de RawValue>()? {
                    pairs.push(pair);
                }
                Ok(Properties(pairs))
            }
        }
        deserializer.deserialize_map(Pairs(PhantomData))
    }
}

/// A JSON scalar as the text HubSpot receives, `None` for `null`.
enum Scalar {
    Text(String),
    Null,
    Compound,
}

fn scalar(raw: &RawValue) -> Scalar {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str(text).map_or(Scalar::Compound, Scalar::Text),
        Some(b'-' | b'0'..=b'9') => Scalar::Text(text.to_string()),
        Some(b't') => Scalar::Text("true".to_string()),
        Some(b'f') => Scalar::Text("false".to_string()),
        Some(b'n') => Scalar::Null,
        _ => Scalar::Compound,
    }
}

pub(super) fn rows<R: Read + Send + 'static>(
    source: R,
    options: ReadOptions,
) -> impl Iterator<Item = Result<SourceRecord, InputError>> + Send {
    let mut reader = BufReader::with_capacity(256 * 1024, source);
    let mut buffer = Vec::new();
    let mut line = 0u64;
    let mut failed = false;
    std::iter::from_fn(move || {
        loop {
            if failed {
                return None;
            }
            buffer.clear();
            line += 1;
            let fail = |message: String| {
                Some(Err(InputError {
                    line,
                    id: None,
                    message,
                }))
            };
            match (&mut reader)
                .take(MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut buffer)
            {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    failed = true;
                    return fail(format!("cannot read the input: {e}"));
                }
            }
            if buffer.len() > MAX_LINE_BYTES && buffer.last() != Some(&b'\n') {
                if let Err(e) = skip_line(&mut reader) {
                    failed = true;
                    return fail(format!("cannot read the input: {e}"));
                }
                return fail(format!(
                    "the line is longer than {} MiB; split the record",
                    MAX_LINE_BYTES >> 20
                ));
            }
            let Ok(text) = std::str::from_utf8(&buffer) else {
                return fail("the line is not valid UTF-8; save the file as UTF-8".to_string());
            };
            let text = if line == 1 {
                text.trim_start_matches('\u{feff}')
            } else {
                text
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            return Some(row(text, line, &options));
        }
    })
}

/// Consumes the rest of an overlong line.
fn skip_line<R: BufRead>(reader: &mut R) -> std::io::Result<()> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(());
        }
        match buffer.iter().position(|b| *b == b'\n') {
            Some(end) => {
                reader.consume(end + 1);
                return Ok(());
            }
            None => {
                let all = buffer.len();
                reader.consume(all);
            }
        }
    }
}

fn row(text: &str, line: u64, options: &ReadOptions) -> Result<SourceRecord, InputError> {
    let row: Row<'_> = serde_json::from_str(text).map_err(|e| InputError {
        line,
        id: None,
        message: format!(
            "not a JSON object of the form {{\"id\":…,\"properties\":{{…}},\"idProperty\":…}}: {e}"
        ),
    })?;
    let id = match row.id.map(scalar) {
        Some(Scalar::Text(id)) => id.trim().to_string(),
        Some(Scalar::Compound) => {
            return Err(InputError {
                line,
                id: None,
                message: "\"id\" is an array or object; give the id as a string or a number"
                    .to_string(),
            });
        }
        Some(Scalar::Null) | None => String::new(),
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
    let mut seen = BTreeSet::new();
    let mut properties = BTreeMap::new();
    for (name, raw) in &row.properties.0 {
        if !seen.insert(name.as_str()) {
            return Err(fail(format!(
                "property {name:?} appears twice; one of its values would be lost: keep one"
            )));
        }
        let value = match scalar(raw) {
            Scalar::Text(value) => value,
            Scalar::Null if options.empty_as_blank => String::new(),
            Scalar::Null => continue,
            Scalar::Compound => {
                return Err(fail(format!(
                    "property {name:?} is an array or object; HubSpot property values are strings"
                )));
            }
        };
        if value.is_empty() && !options.empty_as_blank {
            continue;
        }
        properties.insert(name.clone(), value);
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
    use super::super::{InputFormat, Records};
    use super::*;

    fn read(text: &[u8]) -> Vec<Result<SourceRecord, InputError>> {
        Records::open(
            std::io::Cursor::new(text.to_vec()),
            InputFormat::Ndjson,
            ReadOptions::new("project_code"),
        )
        .unwrap()
        .collect()
    }

    #[test]
    fn lines_become_inputs_and_bad_lines_are_named() {
        let text = b"{\"id\":\"P-1\",\"properties\":{\"hs_name\":\"One\",\"n\":3,\"gone\":null}}\n\n{\"id\":\"\"}\nnot json\n{\"id\":7,\"idProperty\":\"other\"}\n";
        let rows = read(text);
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
    fn numbers_are_sent_exactly_as_written() {
        let rows = read(
            br#"{"id":12345678901234567890123,"properties":{"hs_name":1.10,"big":-1e400,"t":true, "s" : 0.30000000000000004 }}"#,
        );
        let input = &rows[0].as_ref().unwrap().input;
        assert_eq!(input.id, "12345678901234567890123");
        assert_eq!(input.properties["hs_name"], "1.10");
        assert_eq!(input.properties["big"], "-1e400");
        assert_eq!(input.properties["t"], "true");
        assert_eq!(input.properties["s"], "0.30000000000000004");
    }

    #[test]
    fn crlf_lines_keep_their_numbers() {
        let rows = read(
            b"{\"id\":\"A\"}\r\nnot json\r\n\r\n{\"id\":\"D\",\"properties\":{\"x\":\"y\"}}\r\n",
        );
        assert_eq!(rows[0].as_ref().unwrap().line, 1);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 2);
        let last = rows[2].as_ref().unwrap();
        assert_eq!((last.line, last.input.properties["x"].as_str()), (4, "y"));
    }

    #[test]
    fn a_repeated_property_or_a_compound_value_is_refused() {
        let rows = read(
            b"{\"id\":\"A\",\"properties\":{\"a\":null,\"a\":\"x\"}}\n{\"id\":\"B\",\"properties\":{\"a\":[1]}}\n{\"id\":[1]}\n",
        );
        let repeated = rows[0].as_ref().unwrap_err();
        assert!(
            repeated.message.contains("\"a\" appears twice"),
            "{repeated}"
        );
        assert_eq!(repeated.id.as_deref(), Some("A"));
        assert!(
            rows[1]
                .as_ref()
                .unwrap_err()
                .message
                .contains("array or object")
        );
        assert!(rows[2].as_ref().unwrap_err().message.contains("\"id\""));
    }

    #[test]
    fn a_byte_order_mark_and_an_unknown_field_are_handled() {
        let rows = read(b"\xef\xbb\xbf{\"id\":\"A\"}\n{\"id\":\"B\",\"extra\":1}\n");
        assert_eq!(rows[0].as_ref().unwrap().input.id, "A");
        assert!(rows[1].as_ref().unwrap_err().message.contains("extra"));
    }
}
