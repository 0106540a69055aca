//! HubSpot's shapes for refused writes: the embedded property report
//! (`Property values were not valid: [...]`), a whole request's rejection, and one input's
//! `StandardError` in a 207.

use std::collections::BTreeMap;

use hubspot_projects_api::types::{ErrorDetail, SimplePublicObjectBatchInputUpsert, StandardError};

use crate::values::InvalidValue;

/// One property of one input that cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PropertyProblem {
    /// The property's name.
    pub name: String,
    /// The value the input gave it.
    pub value: String,
    /// HubSpot's code, like `INVALID_OPTION` or `PROPERTY_DOESNT_EXIST`.
    pub code: &'static str,
    /// The message, naming the value or the property.
    pub message: String,
}

impl PropertyProblem {
    /// A property the schema does not hold.
    pub(crate) fn unknown(name: &str, value: &str) -> Self {
        Self {
            name: name.to_string(),
            value: value.to_string(),
            code: "PROPERTY_DOESNT_EXIST",
            message: format!("Property \"{name}\" does not exist"),
        }
    }

    /// A property HubSpot maintains itself.
    pub(crate) fn read_only(name: &str, value: &str) -> Self {
        Self {
            name: name.to_string(),
            value: value.to_string(),
            code: "READ_ONLY_VALUE",
            message: format!("\"{name}\" is a read only property; its value cannot be set."),
        }
    }

    /// A value that does not fit the property's type.
    pub(crate) fn invalid(name: &str, value: &str, invalid: InvalidValue) -> Self {
        Self {
            name: name.to_string(),
            value: value.to_string(),
            code: invalid.code,
            message: invalid.message,
        }
    }
}

/// HubSpot's message for refused property values: `Property values were not valid: ` and a
/// JSON array with one entry per problem (`isValid`, `message`, `error`, `name`,
/// `localizedErrorMessage`, `propertyValue`).
pub(crate) fn property_values_message(problems: &[PropertyProblem]) -> String {
    let entries: Vec<serde_json::Value> = problems
        .iter()
        .map(|problem| {
            serde_json::json!({
                "isValid": false,
                "message": problem.message,
                "error": problem.code,
                "name": problem.name,
                "localizedErrorMessage": problem.message,
                "propertyValue": problem.value,
            })
        })
        .collect();
    format!(
        "Property values were not valid: {}",
        serde_json::Value::Array(entries)
    )
}

/// A whole request refused with a 4xx `Error` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rejection {
    pub status: u16,
    pub category: &'static str,
    pub message: String,
    pub context: BTreeMap<String, Vec<String>>,
    pub errors: Vec<ErrorDetail>,
}

impl Rejection {
    /// A 400 `VALIDATION_ERROR` with `context`.
    pub(crate) fn validation<const N: usize>(
        message: String,
        context: [(&str, Vec<String>); N],
    ) -> Self {
        Self {
            status: 400,
            category: "VALIDATION_ERROR",
            message,
            context: context
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            errors: Vec::new(),
        }
    }

    /// The 400 HubSpot answers when one input carries values it refuses: the embedded report
    /// of that input's problems, one `errors` entry per problem with its code and property,
    /// and the properties in `context.propertyName`.
    pub(crate) fn property_values(problems: &[PropertyProblem]) -> Self {
        let names: Vec<String> = problems.iter().map(|p| p.name.clone()).collect();
        let errors = problems
            .iter()
            .map(|problem| ErrorDetail {
                code: Some(problem.code.to_string()),
                context: BTreeMap::from([("propertyName".to_string(), vec![problem.name.clone()])]),
                in_: None,
                message: problem.message.clone(),
                sub_category: None,
            })
            .collect();
        Self {
            errors,
            ..Self::validation(property_values_message(problems), [("propertyName", names)])
        }
    }

    /// The 409 HubSpot answers when a write would give a unique property's value to a second
    /// record.
    pub(crate) fn conflict(property: &str, value: &str, owner: u64) -> Self {
        Self {
            status: 409,
            category: "CONFLICT",
            message: format!(
                "Cannot set PropertyValueCoordinates{{objectType=projects, propertyName={property}, value={value}}}: project {owner} already has that value."
            ),
            context: BTreeMap::from([
                ("propertyName".to_string(), vec![property.to_string()]),
                ("propertyValue".to_string(), vec![value.to_string()]),
            ]),
            errors: Vec::new(),
        }
    }
}

/// A per-input error of a 207, with the context the client correlates it by: the input's `id`,
/// its `objectWriteTraceId` when it has one, and the properties concerned.
pub(crate) fn input_error(
    input: &SimplePublicObjectBatchInputUpsert,
    category: &str,
    message: String,
    property_names: &[&str],
) -> StandardError {
    let mut context = BTreeMap::new();
    context.insert("id".to_string(), vec![input.id.clone()]);
    if let Some(trace) = &input.object_write_trace_id {
        context.insert("objectWriteTraceId".to_string(), vec![trace.clone()]);
    }
    if !property_names.is_empty() {
        context.insert(
            "propertyName".to_string(),
            property_names.iter().map(|s| s.to_string()).collect(),
        );
    }
    StandardError {
        category: category.to_string(),
        context,
        errors: Vec::new(),
        id: Some(input.id.clone()),
        links: BTreeMap::new(),
        message,
        status: "error".to_string(),
        sub_category: None,
    }
}

/// An input's property problems as its `StandardError` in a 207.
pub(crate) fn property_values_error(
    input: &SimplePublicObjectBatchInputUpsert,
    problems: &[PropertyProblem],
) -> StandardError {
    let names: Vec<&str> = problems.iter().map(|p| p.name.as_str()).collect();
    input_error(
        input,
        "VALIDATION_ERROR",
        property_values_message(problems),
        &names,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_report_is_json_after_hubspots_prefix() {
        let problems = [
            PropertyProblem::unknown("nope", "x"),
            PropertyProblem::invalid(
                "due",
                "2027-13-45",
                InvalidValue {
                    code: "INVALID_DATE",
                    message: "2027-13-45 is not a valid date".into(),
                },
            ),
        ];
        let message = property_values_message(&problems);
        let json = message
            .strip_prefix("Property values were not valid: ")
            .unwrap();
        let entries: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(entries[0]["error"], "PROPERTY_DOESNT_EXIST");
        assert_eq!(entries[1]["name"], "due");
        assert_eq!(entries[1]["isValid"], false);
        assert_eq!(entries[1]["propertyValue"], "2027-13-45");
        assert_eq!(entries[1]["localizedErrorMessage"], entries[1]["message"]);

        let rejection = Rejection::property_values(&problems);
        assert_eq!(
            (rejection.status, rejection.category),
            (400, "VALIDATION_ERROR")
        );
        assert_eq!(rejection.context["propertyName"], ["nope", "due"]);
        assert_eq!(rejection.errors[1].code.as_deref(), Some("INVALID_DATE"));
    }

    #[test]
    fn a_conflict_names_the_property_and_the_value() {
        let rejection = Rejection::conflict("external_ref", "R-1", 7);
        assert_eq!((rejection.status, rejection.category), (409, "CONFLICT"));
        assert!(rejection.message.contains("propertyName=external_ref"));
        assert!(rejection.message.contains("value=R-1"));
        assert!(
            rejection
                .message
                .contains("project 7 already has that value")
        );
        assert_eq!(rejection.context["propertyValue"], ["R-1"]);
    }
}
