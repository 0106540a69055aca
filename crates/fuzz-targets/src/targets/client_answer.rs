//! `client_answer`: any 2xx body, read by the client's engine as the answer to a batch.
//!
//! The input is a [`Case`]: its first line lists the batch's inputs, comma-separated, each an
//! id (the value of `project_code`) with an optional `=trace-id` (at most 100 inputs); the body
//! follows the blank line.
//!
//! ```text
//! P-1=t-1,P-2=t-2,P-3
//!
//! {"status":"COMPLETE","results":[{"id":"101","new":true,"objectWriteTraceId":"t-1","properties":{}}]}
//! ```

use std::collections::BTreeMap;

use hubspot_projects::bench_support::read_answer;
use hubspot_projects::types::SimplePublicObjectBatchInputUpsert;
use hubspot_projects::{ErrorCategory, Outcome};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::collections::HashMap;

use crate::case::Case;

/// The most inputs one batch holds.
const MAX_INPUTS: usize = hubspot_projects::MAX_BATCH_SIZE;

/// The inputs a case's first line lists.
pub fn inputs_of(line: &[u8]) -> Vec<SimplePublicObjectBatchInputUpsert> {
    let line = String::from_utf8_lossy(line);
    if line.is_empty() {
        return Vec::new();
    }
    line.split(',')
        .take(MAX_INPUTS)
        .map(|item| {
            let (id, trace) = match item.split_once('=') {
                Some((id, trace)) => (id, Some(trace.to_string())),
                None => (item, None),
            };
            SimplePublicObjectBatchInputUpsert {
                id: id.to_string(),
                id_property: Some("project_code".to_string()),
                object_write_trace_id: trace,
                properties: BTreeMap::new(),
            }
        })
        .collect()
}

/// One result of the answer, as a JSON reader sees it.
struct Written {
    id: Option<String>,
    new: Option<bool>,
    trace: Option<String>,
    code: Option<String>,
}

/// The results of an answer, read as leniently as the engine reads them: fields of the wrong
/// type are left out, and what the engine does not read (timestamps, other fields) is skipped
/// unchecked, as it skips it.
fn results_of(body: &[u8]) -> Vec<Written> {
    #[derive(Deserialize)]
    struct Answer<'a> {
        #[serde(borrow, default)]
        results: Vec<Fields<'a>>,
    }
    #[derive(Deserialize)]
    struct Fields<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
        #[serde(borrow, default)]
        new: Option<&'a RawValue>,
        #[serde(rename = "objectWriteTraceId", borrow, default)]
        trace: Option<&'a RawValue>,
        #[serde(borrow, default)]
        properties: Option<&'a RawValue>,
    }
    fn read<T: for<'de> Deserialize<'de>>(raw: Option<&RawValue>) -> Option<T> {
        serde_json::from_str(raw?.get()).ok()
    }
    let Ok(answer) = serde_json::from_slice::<Answer<'_>>(body) else {
        return Vec::new();
    };
    answer
        .results
        .iter()
        .map(|result| Written {
            id: read(result.id),
            new: read(result.new),
            trace: read(result.trace),
            code: read::<HashMap<String, Option<String>>>(result.properties)
                .and_then(|mut properties| properties.remove("project_code").flatten()),
        })
        .collect()
}

/// Runs one input; panics when a check fails.
pub fn run(data: &[u8]) {
    let case = Case::parse(data);
    let inputs = inputs_of(case.first_line());
    let outcomes = read_answer(&inputs, case.body);
    assert_eq!(outcomes.len(), inputs.len(), "one outcome per input");

    let results = results_of(case.body);
    if serde_json::from_slice::<IgnoredAny>(case.body).is_err() {
        for outcome in &outcomes {
            assert!(
                matches!(outcome, Outcome::Failed(e) if e.category == ErrorCategory::UndecodableResponse),
                "a body that is not JSON fails every input as undecodable: {outcome:?}"
            );
        }
    }

    // Every write reported is a result of the answer that names this very input, by its trace
    // id or by its id value, with the `new` flag the outcome says.
    let mut claimed: BTreeMap<&str, usize> = BTreeMap::new();
    for (input, outcome) in inputs.iter().zip(&outcomes) {
        let (record_id, created) = match outcome {
            Outcome::Created { record_id } => (record_id.as_str(), true),
            Outcome::Updated { record_id } => (record_id.as_str(), false),
            // HubSpot's own message, even an empty one, is passed on as it is.
            Outcome::Failed(_) => continue,
            other => panic!("an answered input is neither written nor failed: {other:?}"),
        };
        let proof = results.iter().any(|result| {
            result.id.as_deref() == Some(record_id)
                && result.new == Some(created)
                && (input.object_write_trace_id.is_some()
                    && result.trace == input.object_write_trace_id
                    || result.code.as_deref() == Some(input.id.as_str()))
        });
        assert!(
            proof,
            "input {:?} reported written as record {record_id:?} (created: {created}) without a result naming it",
            input.id
        );
        *claimed.entry(record_id).or_default() += 1;
    }
    for (record_id, count) in claimed {
        let available = results
            .iter()
            .filter(|result| result.id.as_deref() == Some(record_id))
            .count();
        assert!(
            count <= available,
            "{count} inputs reported written as record {record_id:?}, which {available} results name"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smoke::{files_in, fuzz_dir};

    #[test]
    fn the_seeds_reach_every_kind_of_outcome() {
        let (mut created, mut updated, mut failed) = (0, 0, 0);
        for (_, seed) in files_in(&fuzz_dir().join("seeds/client_answer")) {
            let case = Case::parse(&seed);
            for outcome in read_answer(&inputs_of(case.first_line()), case.body) {
                match outcome {
                    Outcome::Created { .. } => created += 1,
                    Outcome::Updated { .. } => updated += 1,
                    _ => failed += 1,
                }
            }
        }
        assert!(
            created > 0 && updated > 0 && failed > 0,
            "{created} {updated} {failed}"
        );
    }
}
