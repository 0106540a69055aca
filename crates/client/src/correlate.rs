//! Tying HubSpot's answer back to the inputs: one outcome per input, and never a success that
//! the answer did not confirm.

use std::borrow::Cow;
use std::collections::HashMap;

use hubspot_projects_api::types;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::error::ErrorCategory;
use crate::outcome::{Outcome, RecordError};

/// What correlation reads from one result of an answer.
pub(crate) trait WrittenRecord {
    /// The `objectWriteTraceId` HubSpot echoed, if any.
    fn trace_id(&self) -> Option<&str>;
    /// The value of one of the record's properties, if set.
    fn property(&self, name: &str) -> Option<Cow<'_, str>>;
    /// HubSpot's id of the record.
    fn record_id(&self) -> &str;
    /// Whether the upsert created the record.
    fn is_new(&self) -> bool;
}

impl WrittenRecord for types::SimplePublicUpsertObject {
    fn trace_id(&self) -> Option<&str> {
        self.object_write_trace_id.as_deref()
    }
    fn property(&self, name: &str) -> Option<Cow<'_, str>> {
        self.properties.get(name)?.as_deref().map(Cow::Borrowed)
    }
    fn record_id(&self) -> &str {
        &self.id
    }
    fn is_new(&self) -> bool {
        self.new
    }
}

/// The part of a 2xx answer that outcomes are made of, read in place from the body.
///
/// The engine reports outcomes, not HubSpot's records, so it skips what it does not use:
/// timestamps are not parsed and properties are not copied into maps (they are read only when
/// a result lacks the input's trace id). The fields it does use are required as in the
/// contract, and errors are decoded whole.
#[derive(Deserialize)]
pub(crate) struct LeanAnswer<'a> {
    #[serde(borrow)]
    pub(crate) results: Vec<LeanResult<'a>>,
    #[serde(default)]
    pub(crate) errors: Vec<types::StandardError>,
    #[allow(dead_code)]
    status: IgnoredAny,
}

/// One result of a [`LeanAnswer`].
#[derive(Deserialize)]
pub(crate) struct LeanResult<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    new: bool,
    #[serde(rename = "objectWriteTraceId", borrow, default)]
    object_write_trace_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    properties: &'a RawValue,
}

impl WrittenRecord for LeanResult<'_> {
    fn trace_id(&self) -> Option<&str> {
        self.object_write_trace_id.as_deref()
    }
    fn property(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut properties: HashMap<Cow<'_, str>, Option<Cow<'_, str>>> =
            serde_json::from_str(self.properties.get()).ok()?;
        properties.remove(name)?
    }
    fn record_id(&self) -> &str {
        &self.id
    }
    fn is_new(&self) -> bool {
        self.new
    }
}

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
pub(crate) fn correlate<R: WrittenRecord>(
    inputs: &[types::SimplePublicObjectBatchInputUpsert],
    results: &[R],
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
            .trace_id()
            .and_then(|trace| lookup(&by_trace, trace))
            .or_else(|| {
                id_properties.iter().find_map(|p| {
                    let value = result.property(p)?;
                    lookup(&by_id, &value)
                })
            });
        if let Some(at) = at {
            let record_id = result.record_id().to_string();
            outcomes[at] = Some(if result.is_new() {
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
                let mut error = RecordError::new(ErrorCategory::Unconfirmed, message);
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
        let outcomes =
            correlate::<types::SimplePublicUpsertObject>(&inputs, &[], &stray, 207, None);
        for outcome in &outcomes {
            assert!(
                matches!(outcome, Outcome::Failed(e) if e.category == "UNCONFIRMED" && e.message.contains("bad value"))
            );
        }
        let outcomes = correlate::<types::SimplePublicUpsertObject>(&inputs, &[], &[], 200, None);
        assert!(outcomes.iter().all(|o| !o.is_success()));
    }

    #[test]
    fn the_lean_answer_correlates_as_the_full_one() {
        let inputs = [input("A", "t-a"), input("B\"q", "t-b"), input("C", "t-c")];
        let body = serde_json::to_vec(&serde_json::json!({
            "status": "COMPLETE", "startedAt": "2026-11-28T00:00:00Z",
            "completedAt": "2026-11-28T00:00:00Z",
            "results": [
                serde_json::to_value(result("3", true, Some("t-c"), "C")).unwrap(),
                serde_json::to_value(result("2", false, None, "B\"q")).unwrap(),
            ],
            "errors": [{"status": "error", "category": "VALIDATION_ERROR", "message": "bad value",
                        "context": {"objectWriteTraceId": ["t-a"]}, "errors": [], "links": {}}],
        }))
        .unwrap();
        let full: types::BatchResponseSimplePublicUpsertObjectWithErrors =
            serde_json::from_slice(&body).unwrap();
        let lean: LeanAnswer<'_> = serde_json::from_slice(&body).unwrap();
        let expected = correlate(&inputs, &full.results, &full.errors, 207, Some("c"));
        assert_eq!(
            correlate(&inputs, &lean.results, &lean.errors, 207, Some("c")),
            expected
        );
        assert_eq!(
            expected[1],
            Outcome::Updated {
                record_id: "2".into()
            }
        );
        assert!(matches!(&expected[0], Outcome::Failed(e) if e.category == "VALIDATION_ERROR"));
        // What the contract requires of the parts the engine reads is still required.
        let no_results = br#"{"status": "COMPLETE"}"#;
        assert!(serde_json::from_slice::<LeanAnswer<'_>>(no_results).is_err());
        let no_new = br#"{"status": "COMPLETE", "results": [{"id": "1", "properties": {}}]}"#;
        assert!(serde_json::from_slice::<LeanAnswer<'_>>(no_new).is_err());
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
