//! Finding the bad inputs of a batch HubSpot rejected whole, so that the good ones are written.
//!
//! HubSpot often answers a batch with one invalid value, or one value that collides with
//! another record's unique value, with a 400 `VALIDATION_ERROR` or a 409 `CONFLICT` for the
//! whole batch, and writes nothing. Marking all 100 inputs failed would lose 99 good records
//! for one typo. Instead the batch is split until every bad input stands alone:
//!
//! - **Evidence first.** HubSpot's message names the property and, in its wording, the bad
//!   value (`2027-13-45 is not a valid date`, `… already has that value …`). The inputs whose
//!   value of that property appears in the message are the suspects: the rest goes out as one
//!   request and each suspect alone, about two requests per bad input.
//! - **Bisection otherwise.** Without usable evidence the group is halved. When the first half
//!   is accepted, the second must hold a bad input, so it is split at once rather than sent
//!   whole again.
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
use crate::outcome::{Outcome, PropertyError};
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
            let (suspects, others): (Vec<usize>, Vec<usize>) = group
                .iter()
                .partition(|&&at| evidence.suspects(&self.inputs[at]));
            if !suspects.is_empty() && !others.is_empty() {
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
    /// (property, text that may hold the bad value) pairs.
    clues: Vec<(String, String)>,
    /// Properties that fail whatever their value.
    condemned: Vec<String>,
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
        let properties: Vec<PropertyError> = crate::classify::property_errors(message);
        let mut clues = Vec::new();
        let mut condemned = Vec::new();
        for property in &properties {
            if property
                .code
                .as_deref()
                .is_some_and(|code| PROPERTY_LEVEL_CODES.contains(&code))
            {
                condemned.push(property.name.clone());
            } else if let Some(text) = &property.message {
                clues.push((property.name.clone(), text.clone()));
            }
        }
        if properties.is_empty() {
            // A conflict names the property in its context and the value in its message.
            for name in context.get("propertyName").into_iter().flatten() {
                clues.push((name.clone(), message.clone()));
            }
        }
        Self { clues, condemned }
    }

    fn condemns(&self, input: &types::SimplePublicObjectBatchInputUpsert) -> bool {
        self.condemned
            .iter()
            .any(|name| input.properties.contains_key(name))
    }

    fn suspects(&self, input: &types::SimplePublicObjectBatchInputUpsert) -> bool {
        self.clues.iter().any(|(name, text)| {
            let value = if input.id_property.as_deref() == Some(name.as_str()) {
                Some(&input.id)
            } else {
                input.properties.get(name)
            };
            value.is_some_and(|value| !value.is_empty() && text.contains(value.as_str()))
        })
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
        assert!(evidence.suspects(&input("A", &[("due", "2027-13-45")])));
        assert!(!evidence.suspects(&input("B", &[("due", "2027-01-01")])));
        assert!(!evidence.suspects(&input("C", &[("other", "2027-13-45")])));
        assert!(!evidence.suspects(&input("D", &[("due", "")])));
        assert!(!evidence.condemns(&input("A", &[("due", "2027-13-45")])));
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
        assert!(evidence.suspects(&input("A", &[("ext", "EXT-7")])));
        assert!(!evidence.suspects(&input("B", &[("ext", "EXT-8")])));
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
