//! Finding the bad inputs of a batch HubSpot rejected whole, so that the good ones are written.
//!
//! HubSpot often answers a batch with one invalid value, or one value that collides with
//! another record's unique value, with a 400 `VALIDATION_ERROR` or a 409 `CONFLICT` for the
//! whole batch, and writes nothing. Marking all 100 inputs failed would lose 99 good records
//! for one typo. Instead the batch is split until every bad input stands alone:
//!
//! - **Evidence first.** HubSpot's message names the property and the bad value: as its
//!   `propertyValue`, or in its wording (`2027-13-45 is not a valid date`,
//!   `…value=EXT-7}: … already has that value`). The inputs holding exactly that value of that
//!   property are the suspects: the rest goes out as one request and each suspect alone, about
//!   two requests per bad input. A value counts as named only where HubSpot puts it (given as
//!   `propertyValue`, opening the message, after `value=`, in quotes, or as a word of its
//!   own), never as any substring: a bad option's message lists every allowed option, and
//!   `owner-7` holds `7`.
//! - **Bisection otherwise.** Without usable evidence the group is halved. Evidence that points
//!   at more than half of the group is no evidence, and the group is halved too. When the
//!   first half is accepted, the second must hold a bad input, so it is split at once rather
//!   than sent whole again.
//!
//! Only rejections about input data are isolated ([`is_about_inputs`]); a batch rejected for
//! its `idProperty`, its size, its shape or its credentials is never resent.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use hubspot_projects_api::types;

use crate::batch::outcomes_of;
use crate::error::Error;
use crate::exchange::{self, Tally, Unanswered};
use crate::outcome::Outcome;
use crate::shared::Shared;
use crate::stop::RunStop;

/// Whether a whole-batch rejection is about the data of some inputs, so that splitting the
/// batch can write the others: a 409 `CONFLICT`, or a 400 whose message carries HubSpot's list
/// of invalid property values.
pub(crate) fn is_about_inputs(error: &Error) -> bool {
    match error {
        Error::Validation {
            status: 409,
            category,
            ..
        } => category == "CONFLICT",
        Error::Validation {
            status: 400,
            message,
            ..
        } => {
            message.starts_with("Property values were not valid")
                || !crate::classify::property_errors(message).is_empty()
        }
        _ => false,
    }
}

/// Codes that condemn a property, whatever its value: every input that sets it fails.
const PROPERTY_LEVEL_CODES: [&str; 3] = [
    "PROPERTY_DOESNT_EXIST",
    "READ_ONLY_VALUE",
    "PROPERTY_NOT_WRITABLE",
];

/// The work of isolating one rejected batch.
pub(crate) struct Isolation<'a> {
    shared: &'a Shared,
    stop: &'a RunStop,
    inputs: &'a [types::SimplePublicObjectBatchInputUpsert],
    /// One outcome per input, filled as groups resolve.
    outcomes: Vec<Option<Outcome>>,
    pub(crate) tally: Tally,
}

type Boxed<'b> = Pin<Box<dyn Future<Output = ()> + Send + 'b>>;

impl<'a> Isolation<'a> {
    pub(crate) fn new(
        shared: &'a Shared,
        stop: &'a RunStop,
        inputs: &'a [types::SimplePublicObjectBatchInputUpsert],
    ) -> Self {
        Self {
            shared,
            stop,
            inputs,
            outcomes: vec![None; inputs.len()],
            tally: Tally::default(),
        }
    }

    /// Isolates the bad inputs of the whole batch, which HubSpot rejected with `rejection`,
    /// and returns one outcome per input.
    pub(crate) async fn run(mut self, rejection: Error) -> (Vec<Outcome>, Tally) {
        let everyone: Vec<usize> = (0..self.inputs.len()).collect();
        self.split(everyone, rejection).await;
        let outcomes = self
            .outcomes
            .into_iter()
            .map(|outcome| {
                // Every input is resolved by `split`; an unresolved one would be a bug, and is
                // reported as not confirmed rather than lost.
                outcome.unwrap_or_else(|| {
                    Outcome::Failed(crate::outcome::RecordError::new(
                        crate::error::ErrorCategory::Internal,
                        "the input was not resolved while its batch was split; it may or may not have been written",
                    ))
                })
            })
            .collect();
        (outcomes, self.tally)
    }

    fn set(&mut self, group: &[usize], outcome: &Outcome) {
        for &at in group {
            self.outcomes[at] = Some(outcome.clone());
        }
    }

    /// Sends `group` as one request and resolves it: written, failed, or split further when
    /// HubSpot rejects it whole for its data. Returns whether HubSpot accepted it.
    fn resolve<'b>(
        &'b mut self,
        group: Vec<usize>,
    ) -> Pin<Box<dyn Future<Output = bool> + Send + 'b>> {
        Box::pin(async move {
            let body = body_of(self.inputs, &group);
            match exchange::send(self.shared, self.stop, &body, &mut self.tally).await {
                Ok(answer) => {
                    let inputs: Vec<_> = group.iter().map(|&at| self.inputs[at].clone()).collect();
                    let outcomes = outcomes_of(
                        &inputs,
                        answer.status,
                        answer.correlation_id.as_deref(),
                        &answer.body,
                    );
                    for (&at, outcome) in group.iter().zip(outcomes) {
                        self.outcomes[at] = Some(outcome);
                    }
                    true
                }
                Err(Unanswered::Failed(error)) if is_about_inputs(&error) => {
                    self.split(group, error).await;
                    false
                }
                Err(Unanswered::Failed(error)) => {
                    self.set(&group, &Outcome::Failed(error.to_record_error()));
                    false
                }
                Err(Unanswered::Stopped(reason)) => {
                    self.set(&group, &Outcome::NotAttempted(reason));
                    false
                }
            }
        })
    }

    /// Resolves a group HubSpot rejected whole with `rejection`.
    fn split<'b>(&'b mut self, group: Vec<usize>, rejection: Error) -> Boxed<'b> {
        Box::pin(async move {
            if let Some(reason) = self.stop.reason() {
                self.set(&group, &Outcome::NotAttempted(reason));
                return;
            }
            if group.len() == 1 {
                self.set(&group, &Outcome::Failed(rejection.to_record_error()));
                return;
            }
            let evidence = Evidence::of(&rejection);
            // A property that fails whatever its value fails every input that sets it.
            let (condemned, group): (Vec<usize>, Vec<usize>) = group
                .into_iter()
                .partition(|&at| evidence.condemns(&self.inputs[at]));
            if !condemned.is_empty() {
                self.set(&condemned, &Outcome::Failed(rejection.to_record_error()));
                if !group.is_empty() {
                    self.resolve(group).await;
                }
                return;
            }
            let suspects = evidence.singled_out(self.inputs, &group);
            if !suspects.is_empty() {
                let others: Vec<usize> = group
                    .iter()
                    .copied()
                    .filter(|at| !suspects.contains(at))
                    .collect();
                self.resolve(others).await;
                for suspect in suspects {
                    self.resolve(vec![suspect]).await;
                }
                return;
            }
            let mut first = group;
            let second = first.split_off(first.len() / 2);
            if self.resolve(first).await {
                // The first half went through, so the bad input is in the second half: split
                // it at once instead of sending it whole only to see it rejected again.
                self.split(second, rejection).await;
            } else {
                self.resolve(second).await;
            }
        })
    }
}

/// What a rejection says about which inputs are bad.
struct Evidence {
    clues: Vec<Clue>,
    /// Properties that fail whatever their value.
    condemned: Vec<String>,
}

/// One property HubSpot refused a value of, and what it says about the value.
struct Clue {
    /// The property.
    name: String,
    /// The refused values as HubSpot gives them (`propertyValue`), matched exactly.
    values: Vec<String>,
    /// HubSpot's message about the property, which may name the value.
    text: Option<String>,
}

/// Where HubSpot names a value, the surest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Naming {
    /// Given as the refused value (`propertyValue`), exactly.
    Given,
    /// Opening the message, followed by a space: `2027-13-45 is not a valid date`,
    /// `someday was not one of the allowed options: […]`.
    Leading,
    /// After `value=`, up to a `,` or a `}`: `PropertyValueCoordinates{…, value=EXT-7}`.
    Assigned,
    /// In quotes: `"someday"`.
    Quoted,
    /// A word of its own, between spaces or at an end: `Email address a@b is invalid`.
    Word,
}

impl Clue {
    /// Where HubSpot names `value`, if it does.
    fn naming(&self, value: &str) -> Option<Naming> {
        if self.values.iter().any(|given| given == value) {
            return Some(Naming::Given);
        }
        if value.trim().is_empty() {
            return None;
        }
        self.text.as_deref().and_then(|text| named_in(text, value))
    }
}

/// The surest place `text` names `value` at, if any; a mere substring is no naming.
fn named_in(text: &str, value: &str) -> Option<Naming> {
    let ends_word = |rest: &str| rest.chars().next().is_none_or(char::is_whitespace);
    if text.strip_prefix(value).is_some_and(ends_word) {
        return Some(Naming::Leading);
    }
    let assigned = format!("value={value}");
    if text.match_indices(&assigned).any(|(at, _)| {
        text[at + assigned.len()..]
            .chars()
            .next()
            .is_none_or(|c| matches!(c, ',' | '}' | ')' | ']') || c.is_whitespace())
    }) {
        return Some(Naming::Assigned);
    }
    let quoted = [('"', '"'), ('\'', '\''), ('`', '`'), ('“', '”'), ('‘', '’')];
    if quoted
        .iter()
        .any(|(open, close)| text.contains(&format!("{open}{value}{close}")))
    {
        return Some(Naming::Quoted);
    }
    let word = text.match_indices(value).any(|(at, _)| {
        text[..at]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace)
            && ends_word(&text[at + value.len()..])
    });
    word.then_some(Naming::Word)
}

impl Evidence {
    fn of(rejection: &Error) -> Self {
        let Error::Validation {
            message, context, ..
        } = rejection
        else {
            return Self {
                clues: Vec::new(),
                condemned: Vec::new(),
            };
        };
        let entries = crate::classify::property_entries(message);
        let mut clues = Vec::new();
        let mut condemned = Vec::new();
        for entry in &entries {
            let property = &entry.error;
            if property
                .code
                .as_deref()
                .is_some_and(|code| PROPERTY_LEVEL_CODES.contains(&code))
            {
                condemned.push(property.name.clone());
            } else if entry.value.is_some() || property.message.is_some() {
                clues.push(Clue {
                    name: property.name.clone(),
                    values: entry.value.iter().cloned().collect(),
                    text: property.message.clone(),
                });
            }
        }
        if entries.is_empty() {
            // A conflict names the property in its context, and the value in its context or
            // its message.
            let values = context.get("propertyValue").cloned().unwrap_or_default();
            for name in context.get("propertyName").into_iter().flatten() {
                clues.push(Clue {
                    name: name.clone(),
                    values: values.clone(),
                    text: Some(message.clone()),
                });
            }
        }
        Self { clues, condemned }
    }

    fn condemns(&self, input: &types::SimplePublicObjectBatchInputUpsert) -> bool {
        self.condemned
            .iter()
            .any(|name| input.properties.contains_key(name))
    }

    /// The suspects of `group` to send alone, or none when the group is better halved: evidence
    /// that points at more than half of the group is no evidence.
    fn singled_out(
        &self,
        inputs: &[types::SimplePublicObjectBatchInputUpsert],
        group: &[usize],
    ) -> Vec<usize> {
        let suspects = self.suspects(inputs, group);
        if suspects.len() * 2 <= group.len() {
            suspects
        } else {
            Vec::new()
        }
    }

    /// The inputs of `group` that hold a value the rejection names, in the group's order. For
    /// each property, only the inputs named at the surest place any input of the group is
    /// named at: when one input's value opens the message, another's quoted in a list of
    /// allowed options does not make it a suspect.
    fn suspects(
        &self,
        inputs: &[types::SimplePublicObjectBatchInputUpsert],
        group: &[usize],
    ) -> Vec<usize> {
        let mut suspect = vec![false; group.len()];
        for clue in &self.clues {
            let named: Vec<(usize, Naming)> = group
                .iter()
                .enumerate()
                .filter_map(|(slot, &at)| {
                    let input = &inputs[at];
                    let value = if input.id_property.as_deref() == Some(clue.name.as_str()) {
                        Some(&input.id)
                    } else {
                        input.properties.get(&clue.name)
                    }?;
                    if value.is_empty() {
                        return None;
                    }
                    clue.naming(value).map(|naming| (slot, naming))
                })
                .collect();
            if let Some(surest) = named.iter().map(|&(_, naming)| naming).min() {
                for (slot, naming) in named {
                    suspect[slot] |= naming == surest;
                }
            }
        }
        group
            .iter()
            .zip(suspect)
            .filter_map(|(&at, suspect)| suspect.then_some(at))
            .collect()
    }
}

/// The body of a request holding the inputs at `group`.
fn body_of(inputs: &[types::SimplePublicObjectBatchInputUpsert], group: &[usize]) -> Bytes {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        inputs: Vec<&'a types::SimplePublicObjectBatchInputUpsert>,
    }
    let body = Body {
        inputs: group.iter().map(|&at| &inputs[at]).collect(),
    };
    // Serializing the generated types into a Vec cannot fail: every key is a string.
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn validation(status: u16, category: &str, message: &str) -> Error {
        Error::Validation {
            status,
            category: category.into(),
            message: message.into(),
            context: BTreeMap::new(),
            correlation_id: None,
        }
    }

    fn input(id: &str, props: &[(&str, &str)]) -> types::SimplePublicObjectBatchInputUpsert {
        types::SimplePublicObjectBatchInputUpsert {
            id: id.into(),
            id_property: Some("project_code".into()),
            object_write_trace_id: None,
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The inputs the evidence suspects, by index, all of `inputs` being the group.
    fn suspected(
        evidence: &Evidence,
        inputs: &[types::SimplePublicObjectBatchInputUpsert],
    ) -> Vec<usize> {
        let group: Vec<usize> = (0..inputs.len()).collect();
        evidence.suspects(inputs, &group)
    }

    #[test]
    fn only_rejections_about_input_data_are_isolated() {
        let invalid = r#"Property values were not valid: [{"isValid":false,"message":"x is not a valid date","error":"INVALID_DATE","name":"d"}]"#;
        assert!(is_about_inputs(&validation(
            400,
            "VALIDATION_ERROR",
            invalid
        )));
        assert!(is_about_inputs(&validation(409, "CONFLICT", "taken")));
        for not_data in [
            validation(
                400,
                "VALIDATION_ERROR",
                "Unable to perform update/upsert by non-unique or non-existent project property x",
            ),
            validation(
                400,
                "VALIDATION_ERROR",
                "Duplicate IDs found in batch input",
            ),
            validation(413, "VALIDATION_ERROR", "too large"),
            validation(404, "OBJECT_NOT_FOUND", "no route"),
        ] {
            assert!(!is_about_inputs(&not_data), "{not_data:?}");
        }
        let unauthorized = Error::Unauthorized {
            category: None,
            message: "no".into(),
            correlation_id: None,
        };
        assert!(!is_about_inputs(&unauthorized));
    }

    #[test]
    fn the_message_points_at_the_inputs_that_hold_the_bad_value() {
        let rejection = validation(
            400,
            "VALIDATION_ERROR",
            r#"Property values were not valid: [{"isValid":false,"message":"2027-13-45 is not a valid date","error":"INVALID_DATE","name":"due"}]"#,
        );
        let evidence = Evidence::of(&rejection);
        let inputs = [
            input("A", &[("due", "2027-13-45")]),
            input("B", &[("due", "2027-01-01")]),
            input("C", &[("other", "2027-13-45")]),
            input("D", &[("due", "")]),
        ];
        assert_eq!(suspected(&evidence, &inputs), [0]);
        assert!(!evidence.condemns(&inputs[0]));
    }

    #[test]
    fn a_value_counts_only_where_the_message_names_it() {
        let date = "2027-13-45 is not a valid date: use YYYY-MM-DD or a Unix timestamp in milliseconds at midnight UTC.";
        assert_eq!(named_in(date, "2027-13-45"), Some(Naming::Leading));
        assert_eq!(named_in(date, "2027-13-4"), None);
        assert_eq!(named_in(date, "2027"), None);

        // The emulator lists the allowed options bare, HubSpot with their labels and quoted.
        let bare = "someday was not one of the allowed options: [planning, planned, done]";
        assert_eq!(named_in(bare, "someday"), Some(Naming::Leading));
        for valid in ["planning", "planned", "done"] {
            assert_eq!(named_in(bare, valid), None, "{valid}");
        }
        let labelled = "someday was not one of the allowed options: [label: \"Planned\"\nvalue: \"planned\"\ndisplay_order: 0\n, label: \"Done\"\nvalue: \"done\"\ndisplay_order: 1\n]";
        assert_eq!(named_in(labelled, "someday"), Some(Naming::Leading));
        assert_eq!(named_in(labelled, "planned"), Some(Naming::Quoted));

        let number = "owner-7 was not a valid number.";
        assert_eq!(named_in(number, "owner-7"), Some(Naming::Leading));
        for digit in ["7", "owner", "-7", "owner-"] {
            assert_eq!(named_in(number, digit), None, "{digit}");
        }

        let conflict = "Cannot set PropertyValueCoordinates{objectType=projects, propertyName=ext, value=EXT-7}: project 12 already has that value.";
        assert_eq!(named_in(conflict, "EXT-7"), Some(Naming::Assigned));
        assert_eq!(named_in(conflict, "EXT-"), None);
        assert_eq!(named_in(conflict, "projects"), None);
        assert_eq!(named_in(conflict, "ext"), None);

        let email = "Email address a@b is invalid";
        assert_eq!(named_in(email, "a@b"), Some(Naming::Word));
        assert_eq!(named_in(email, "a"), None);
        assert_eq!(named_in(email, "b is"), None);
        assert_eq!(named_in(email, "address a@b"), Some(Naming::Word));
    }

    /// The rejection of a batch holding `values` of `property`, HubSpot's entry being `entry`.
    fn property_rejection(entry: serde_json::Value) -> Error {
        validation(
            400,
            "VALIDATION_ERROR",
            &format!(
                "Property values were not valid: {}",
                serde_json::json!([entry])
            ),
        )
    }

    #[test]
    fn a_bad_option_does_not_make_the_valid_options_suspects() {
        let message = "someday was not one of the allowed options: [label: \"Planned\"\nvalue: \"planned\"\n, label: \"Done\"\nvalue: \"done\"\n]";
        // Without propertyValue, from the message alone.
        let evidence = Evidence::of(&property_rejection(serde_json::json!({
            "isValid": false, "message": message, "error": "INVALID_OPTION", "name": "stage",
        })));
        let inputs = [
            input("A", &[("stage", "planned")]),
            input("B", &[("stage", "done")]),
            input("C", &[("stage", "")]),
            input("D", &[("stage", "someday")]),
            input("E", &[("stage", "planned")]),
        ];
        assert_eq!(suspected(&evidence, &inputs), [3]);
        // With it, exactly.
        let evidence = Evidence::of(&property_rejection(serde_json::json!({
            "isValid": false, "message": message, "error": "INVALID_OPTION", "name": "stage",
            "propertyValue": "someday",
        })));
        assert_eq!(suspected(&evidence, &inputs), [3]);
    }

    #[test]
    fn a_given_value_is_matched_exactly() {
        let evidence = Evidence::of(&property_rejection(serde_json::json!({
            "isValid": false, "message": "owner-7 was not a valid number.",
            "error": "INVALID_INTEGER", "name": "owner", "propertyValue": "owner-7",
        })));
        let inputs = [
            input("A", &[("owner", "7")]),
            input("B", &[("owner", "owner-7")]),
            input("C", &[("owner", "owner-77")]),
            input("D", &[("owner", "owner")]),
        ];
        assert_eq!(suspected(&evidence, &inputs), [1]);
        // A value HubSpot gives as a JSON number is matched by its text.
        let evidence = Evidence::of(&property_rejection(serde_json::json!({
            "isValid": false, "message": "too big", "error": "INVALID_INTEGER",
            "name": "owner", "propertyValue": 70,
        })));
        assert_eq!(
            suspected(
                &evidence,
                &[
                    input("A", &[("owner", "7")]),
                    input("B", &[("owner", "70")])
                ]
            ),
            [1]
        );
    }

    #[test]
    fn evidence_against_most_of_a_group_is_no_evidence() {
        // The message quotes only valid options; the bad value is nowhere.
        let evidence = Evidence::of(&property_rejection(serde_json::json!({
            "isValid": false, "name": "stage", "error": "INVALID_OPTION",
            "message": "Not one of the allowed options: [value: \"planned\", value: \"done\"]",
        })));
        let most: Vec<_> = ["planned", "done", "planned", "Someday"]
            .iter()
            .map(|stage| input("X", &[("stage", stage)]))
            .collect();
        assert_eq!(suspected(&evidence, &most), [0, 1, 2]);
        assert!(evidence.singled_out(&most, &[0, 1, 2, 3]).is_empty());
        let few: Vec<_> = ["planned", "Someday", "", "Later"]
            .iter()
            .map(|stage| input("X", &[("stage", stage)]))
            .collect();
        assert_eq!(evidence.singled_out(&few, &[0, 1, 2, 3]), [0]);
        assert_eq!(evidence.singled_out(&few, &[0, 1]), [0]);
        assert!(evidence.singled_out(&few, &[0]).is_empty());
    }

    #[test]
    fn an_unknown_property_condemns_every_input_that_sets_it() {
        let rejection = validation(
            400,
            "VALIDATION_ERROR",
            r#"Property values were not valid: [{"isValid":false,"message":"Property \"colour\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"colour"}]"#,
        );
        let evidence = Evidence::of(&rejection);
        assert!(evidence.condemns(&input("A", &[("colour", "red")])));
        assert!(!evidence.condemns(&input("B", &[("name", "red")])));
    }

    #[test]
    fn a_conflict_names_the_property_in_its_context() {
        let mut context = BTreeMap::new();
        context.insert("propertyName".to_string(), vec!["ext".to_string()]);
        let rejection = Error::Validation {
            status: 409,
            category: "CONFLICT".into(),
            message: "Unique value EXT-7 of property ext already belongs to project 12".into(),
            context,
            correlation_id: None,
        };
        let evidence = Evidence::of(&rejection);
        let inputs = [
            input("A", &[("ext", "EXT-7")]),
            input("B", &[("ext", "EXT-8")]),
            input("C", &[("ext", "EXT")]),
        ];
        assert_eq!(suspected(&evidence, &inputs), [0]);
    }

    #[test]
    fn a_conflict_may_give_the_value_in_its_context() {
        let context = BTreeMap::from([
            ("propertyName".to_string(), vec!["ext".to_string()]),
            ("propertyValue".to_string(), vec!["7".to_string()]),
        ]);
        let rejection = Error::Validation {
            status: 409,
            category: "CONFLICT".into(),
            message: "Cannot set PropertyValueCoordinates{objectType=projects, propertyName=ext, value=7}: project 17 already has that value.".into(),
            context,
            correlation_id: None,
        };
        let evidence = Evidence::of(&rejection);
        let inputs = [
            input("A", &[("ext", "17")]),
            input("B", &[("ext", "7")]),
            input("C", &[("ext", "77")]),
        ];
        assert_eq!(suspected(&evidence, &inputs), [1]);
    }

    #[test]
    fn a_body_holds_exactly_the_group() {
        let inputs = [input("A", &[]), input("B", &[]), input("C", &[])];
        let body: serde_json::Value = serde_json::from_slice(&body_of(&inputs, &[2, 0])).unwrap();
        let ids: Vec<&str> = body["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["C", "A"]);
    }
}
