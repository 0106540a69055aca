//! Tying HubSpot's answer back to the inputs: one outcome per input, and never a success that
//! the answer did not confirm.

use std::collections::HashMap;

use hubspot_projects_api::types;

use crate::outcome::{Outcome, RecordError};

/// Marks a trace id or id value shared by several inputs: it cannot identify one of them.
const AMBIGUOUS: usize = usize::MAX;

fn lookup(map: &HashMap<&str, usize>, key: &str) -> Option<usize> {
    map.get(key).copied().filter(|&at| at != AMBIGUOUS)
}

fn index_by<'a>(map: &mut HashMap<&'a str, usize>, key: &'a str, at: usize) {
    map.entry(key)
        .and_modify(|existing| *existing = AMBIGUOUS)
        .or_insert(at);
}

/// The outcome of every input of a batch that HubSpot answered with a 2xx.
///
/// Results are matched by `objectWriteTraceId`, then by the value of the input's id property.
/// Errors are matched through the trace ids and ids named in their `context`, then through
/// their `id`. An input that is neither confirmed nor named ends `Failed` as `UNCONFIRMED`.
pub(crate) fn correlate(
    inputs: &[types::SimplePublicObjectBatchInputUpsert],
    results: &[types::SimplePublicUpsertObject],
    errors: &[types::StandardError],
    status: u16,
    correlation_id: Option<&str>,
) -> Vec<Outcome> {
    let mut by_trace: HashMap<&str, usize> = HashMap::with_capacity(inputs.len());
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(inputs.len());
    for (at, input) in inputs.iter().enumerate() {
        if let Some(trace) = input.object_write_trace_id.as_deref() {
            index_by(&mut by_trace, trace, at);
        }
        index_by(&mut by_id, &input.id, at);
    }
    let mut id_properties: Vec<&str> = Vec::new();
    for input in inputs {
        if let Some(p) = input.id_property.as_deref()
            && !id_properties.contains(&p)
        {
            id_properties.push(p);
        }
    }

    let mut outcomes: Vec<Option<Outcome>> = vec![None; inputs.len()];
    let mut unattributed: Option<&types::StandardError> = None;

    let mut named: Vec<usize> = Vec::new();
    for error in errors {
        named.clear();
        for trace in error
            .context
            .get("objectWriteTraceId")
            .into_iter()
            .flatten()
        {
            named.extend(lookup(&by_trace, trace));
        }
        if named.is_empty() {
            for key in ["id", "ids"] {
                for id in error.context.get(key).into_iter().flatten() {
                    named.extend(lookup(&by_id, id));
                }
            }
        }
        if named.is_empty()
            && let Some(id) = error.id.as_deref()
        {
            named.extend(lookup(&by_trace, id).or_else(|| lookup(&by_id, id)));
        }
        if named.is_empty() {
            unattributed.get_or_insert(error);
        }
        for &at in &named {
            outcomes[at] = Some(Outcome::Failed(RecordError::from_standard(
                error,
                correlation_id,
            )));
        }
    }

    // A result is proof of a write: it overrides an error naming the same input.
    for result in results {
        let at = result
            .object_write_trace_id
            .as_deref()
            .and_then(|trace| lookup(&by_trace, trace))
            .or_else(|| {
                id_properties.iter().find_map(|p| {
                    let value = result.properties.get(*p)?.as_deref()?;
                    lookup(&by_id, value)
                })
            });
        if let Some(at) = at {
            let record_id = result.id.clone();
            outcomes[at] = Some(if result.new {
                Outcome::Created { record_id }
            } else {
                Outcome::Updated { record_id }
            });
        }
    }

    outcomes
        .into_iter()
        .map(|outcome| {
            outcome.unwrap_or_else(|| {
                let mut message = format!(
                    "HubSpot's answer (status {status}) neither confirmed nor named this input; it may or may not have been written, and sending it again is safe"
                );
                if let Some(error) = unattributed {
                    message.push_str(&format!(
                        "; the answer also held an error it did not tie to an input: {}: {}",
                        error.category, error.message
                    ));
                }
                let mut error = RecordError::local("UNCONFIRMED", message);
                error.status = Some(status);
                error.correlation_id = correlation_id.map(str::to_string);
                Outcome::Failed(error)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn input(id: &str, trace: &str) -> types::SimplePublicObjectBatchInputUpsert {
        types::SimplePublicObjectBatchInputUpsert {
            id: id.into(),
            id_property: Some("code".into()),
            object_write_trace_id: Some(trace.into()),
            properties: BTreeMap::new(),
        }
    }

    fn result(
        record: &str,
        new: bool,
        trace: Option<&str>,
        code: &str,
    ) -> types::SimplePublicUpsertObject {
        serde_json::from_value(serde_json::json!({
            "id": record, "new": new, "archived": false,
            "createdAt": "2026-11-28T00:00:00Z", "updatedAt": "2026-11-28T00:00:00Z",
            "objectWriteTraceId": trace,
            "properties": {"code": code, "hs_name": null},
        }))
        .unwrap()
    }

    fn error(context: serde_json::Value, id: Option<&str>) -> types::StandardError {
        serde_json::from_value(serde_json::json!({
            "status": "error", "category": "VALIDATION_ERROR", "message": "bad value",
            "context": context, "errors": [], "links": {}, "id": id,
        }))
        .unwrap()
    }

    #[test]
    fn results_match_by_trace_id_then_by_id_value() {
        let inputs = [input("A", "t-a"), input("B", "t-b"), input("C", "t-c")];
        // Out of order, one without a trace id.
        let results = [
            result("3", true, Some("t-c"), "C"),
            result("1", false, None, "A"),
        ];
        let outcomes = correlate(&inputs, &results, &[], 207, Some("corr"));
        assert_eq!(
            outcomes[0],
            Outcome::Updated {
                record_id: "1".into()
            }
        );
        assert!(
            matches!(&outcomes[1], Outcome::Failed(e) if e.category == "UNCONFIRMED" && e.correlation_id.as_deref() == Some("corr"))
        );
        assert_eq!(
            outcomes[2],
            Outcome::Created {
                record_id: "3".into()
            }
        );
    }

    #[test]
    fn errors_match_through_their_context_and_id() {
        let inputs = [
            input("A", "t-a"),
            input("B", "t-b"),
            input("C", "t-c"),
            input("D", "t-d"),
        ];
        let errors = [
            error(
                serde_json::json!({"id": ["A"], "objectWriteTraceId": ["t-a"], "propertyName": ["hs_pipeline"]}),
                None,
            ),
            error(serde_json::json!({"ids": ["B"]}), None),
            error(serde_json::json!({}), Some("C")),
        ];
        let results = [result("4", true, Some("t-d"), "D")];
        let outcomes = correlate(&inputs, &results, &errors, 207, None);
        for (at, outcome) in outcomes.iter().take(3).enumerate() {
            assert!(
                matches!(outcome, Outcome::Failed(e) if e.category == "VALIDATION_ERROR" && e.message == "bad value"),
                "{at}: {outcome:?}"
            );
        }
        let Outcome::Failed(first) = &outcomes[0] else {
            unreachable!()
        };
        assert_eq!(first.context["propertyName"], ["hs_pipeline"]);
        assert_eq!(
            outcomes[3],
            Outcome::Created {
                record_id: "4".into()
            }
        );
    }

    #[test]
    fn an_empty_answer_confirms_nothing() {
        let inputs = [input("A", "t-a"), input("B", "t-b")];
        let stray = [error(serde_json::json!({"propertyName": ["x"]}), None)];
        let outcomes = correlate(&inputs, &[], &stray, 207, None);
        for outcome in &outcomes {
            assert!(
                matches!(outcome, Outcome::Failed(e) if e.category == "UNCONFIRMED" && e.message.contains("bad value"))
            );
        }
        let outcomes = correlate(&inputs, &[], &[], 200, None);
        assert!(outcomes.iter().all(|o| !o.is_success()));
    }

    #[test]
    fn a_shared_trace_id_falls_back_to_the_id_value() {
        let inputs = [input("A", "same"), input("B", "same")];
        let results = [
            result("1", true, Some("same"), "A"),
            result("2", true, Some("same"), "B"),
        ];
        let outcomes = correlate(&inputs, &results, &[], 200, None);
        assert_eq!(
            outcomes[0],
            Outcome::Created {
                record_id: "1".into()
            }
        );
        assert_eq!(
            outcomes[1],
            Outcome::Created {
                record_id: "2".into()
            }
        );
    }
}
