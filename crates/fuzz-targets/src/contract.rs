//! Checking a batch upsert answer against the contract, `openapi/projects.json`: its status is
//! one the operation declares (or falls under `default`), and its body fits the declared
//! schema and decodes into the generated types.

use std::sync::OnceLock;

use hubspot_projects_api::types;
use serde_json::Value;

/// The contract, parsed once.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(include_str!("../../../openapi/projects.json"))
            .expect("the contract is JSON")
    })
}

/// Checks the answer of a batch upsert at `path` (one of the contract's paths): `Err` says
/// what does not fit.
pub fn check_upsert_answer(path: &str, status: u16, body: &Value) -> Result<(), String> {
    let responses = &spec()["paths"][path]["post"]["responses"];
    if responses.is_null() {
        return Err(format!("the contract has no batch upsert at {path}"));
    }
    let code = status.to_string();
    let mut declared = responses
        .get(code.as_str())
        .or_else(|| responses.get("default"))
        .ok_or_else(|| format!("status {status} is not declared"))?;
    if let Some(name) = declared["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/responses/"))
    {
        declared = &spec()["components"]["responses"][name];
    }
    let schema = declared["content"]
        .as_object()
        .and_then(|media| media.values().next())
        .map(|media| &media["schema"])
        .ok_or_else(|| format!("status {status} declares no body"))?;
    check_schema(body, schema, "$")?;
    let decoded = match status {
        200 => serde_json::from_value::<types::BatchResponseSimplePublicUpsertObject>(body.clone())
            .map(drop),
        207 => serde_json::from_value::<types::BatchResponseSimplePublicUpsertObjectWithErrors>(
            body.clone(),
        )
        .map(drop),
        _ => serde_json::from_value::<types::Error>(body.clone()).map(drop),
    };
    decoded.map_err(|e| format!("the generated types do not decode the {status} body: {e}"))
}

/// Checks an error body against the contract's `Error` schema.
pub fn check_error_body(body: &Value) -> Result<(), String> {
    check_schema(
        body,
        &serde_json::json!({"$ref": "#/components/schemas/Error"}),
        "$",
    )
}

fn resolve(schema: &Value) -> &Value {
    match schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        Some(name) => &spec()["components"]["schemas"][name],
        None => schema,
    }
}

/// Checks `value` against an OpenAPI 3.0 schema of the contract: types, required fields,
/// formats (`date-time`, `uuid`), enums, `nullable`, `additionalProperties`, `allOf`, `oneOf`
/// and `anyOf`.
pub fn check_schema(value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check_schema(value, part, at)?;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array()
            && !options
                .iter()
                .any(|option| check_schema(value, option, at).is_ok())
        {
            return Err(format!("{at}: matches none of its {key}"));
        }
    }
    if value.is_null() {
        return if schema["nullable"] == Value::Bool(true) {
            Ok(())
        } else {
            Err(format!("{at}: null where the contract does not allow it"))
        };
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    let fail = |what: String| Err(format!("{at}: {what}"));
    match schema["type"].as_str() {
        Some("object") => {
            let Some(object) = value.as_object() else {
                return fail("not an object".into());
            };
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                if !object.contains_key(name) {
                    return fail(format!("{name} is required"));
                }
            }
            for (key, item) in object {
                let path = format!("{at}.{key}");
                match schema["properties"].get(key) {
                    Some(property) => check_schema(item, property, &path)?,
                    None => match schema.get("additionalProperties") {
                        Some(Value::Bool(false)) => return Err(format!("{path}: not allowed")),
                        Some(extra) if extra.is_object() => check_schema(item, extra, &path)?,
                        _ => {}
                    },
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                return fail("not an array".into());
            };
            for (i, item) in items.iter().enumerate() {
                check_schema(item, &schema["items"], &format!("{at}[{i}]"))?;
            }
        }
        Some("string") => {
            let Some(text) = value.as_str() else {
                return fail("not a string".into());
            };
            let fits = match schema["format"].as_str() {
                Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                Some("uuid") => uuid::Uuid::parse_str(text).is_ok(),
                _ => true,
            };
            if !fits {
                return fail(format!("{text:?} is not a {}", schema["format"]));
            }
        }
        Some("integer") if !(value.is_i64() || value.is_u64()) => {
            return fail("not an integer".into());
        }
        Some("number") if !value.is_number() => return fail("not a number".into()),
        Some("boolean") if !value.is_boolean() => return fail("not a boolean".into()),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The batch upsert's path in the newest generally available version.
    const PATH: &str = hubspot_projects_api::operations::default_batch_upsert().path;

    #[test]
    fn an_error_body_must_have_what_the_contract_requires() {
        let good = json!({
            "category": "VALIDATION_ERROR", "message": "bad",
            "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        });
        assert_eq!(check_upsert_answer(PATH, 400, &good), Ok(()));
        let no_category =
            json!({"message": "bad", "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf"});
        assert!(check_upsert_answer(PATH, 400, &no_category).is_err());
        let bad_uuid = json!({"category": "X", "message": "bad", "correlationId": "nope"});
        assert!(check_error_body(&bad_uuid).unwrap_err().contains("uuid"));
    }

    #[test]
    fn a_success_body_must_fit_its_status() {
        let complete = json!({
            "status": "COMPLETE", "results": [],
            "startedAt": "2026-11-28T00:00:00Z", "completedAt": "2026-11-28T00:00:01Z",
        });
        assert_eq!(check_upsert_answer(PATH, 200, &complete), Ok(()));
        let mut mistyped = complete.clone();
        mistyped["results"] = json!({});
        assert!(check_upsert_answer(PATH, 207, &mistyped).is_err());
        assert!(check_upsert_answer("/nowhere", 200, &complete).is_err());
    }
}
