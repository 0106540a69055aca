//! The rewrites that make HubSpot's spec, as HubSpot publishes it, acceptable to progenitor 0.15
//! and faithful to what the live API really sends.
//!
//! `openapi/projects.json` stays in HubSpot's own shape so that a newer HubSpot file can replace
//! it (`cargo xtask regen --from`). Every deviation needed for code generation, and every
//! leniency that real responses demand, lives here instead, one named rule per quirk:
//!
//! | rule | why |
//! |---|---|
//! | [`require_openapi_30`] | progenitor reads only OpenAPI 3.0.x |
//! | [`unify_success_responses`] | 200 and 207 have different schemas; progenitor panics on two success types. Any 2xx must also decode (HubSpot once moved a batch endpoint from 201 to 200 overnight) |
//! | [`split_default_response`] | `default` counts as both success and error for progenitor |
//! | [`raw_error_bodies`] | real 429 bodies lack `category` and 5xx bodies from proxies are HTML: a strict typed decode would lose them, so errors stay raw bytes with their status and headers |
//! | [`name_operations`] | `post-/crm/objects/v3/projects/batch/upsert` becomes `batch_upsert` |
//! | [`open_status_enum`] | the batch `status` enum may grow; an unknown value must not fail a successful write |
//! | [`nullable_response_values`] | real responses carry `null` property values and a `null` `requestedAt` |
//! | [`loosen_empty_object_schemas`] | `StandardError.subCategory` is typed as an empty object but arrives as anything |
//!
//! The contract, not this module, could have carried the nullability fix. It does not, because
//! HubSpot's files never will: a fix in the contract would be lost at the next import.
//!
//! The `api-version` header that progenitor adds to every request (from `info.version`) is not
//! a spec matter; the generated crate's request hook removes it, since HubSpot's API is versioned
//! by path.

use crate::CodegenError;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The component schema that [`open_status_enum`] hoists the batch status enum into, and that the
/// generator replaces with a hand-written open type.
pub const BATCH_STATUS_SCHEMA: &str = "BatchStatus";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Applies every rule, in order.
pub fn normalize(spec: &mut Value) -> Result<(), CodegenError> {
    require_openapi_30(spec)?;
    let components = spec.get("components").cloned().unwrap_or(Value::Null);
    for (path, method, operation) in operations_mut(spec) {
        unify_success_responses(operation, &components)?;
        split_default_response(operation);
        raw_error_bodies(operation, &components)?;
        name_operation(&path, &method, operation);
    }
    open_status_enum(spec);
    nullable_response_values(spec);
    loosen_empty_object_schemas(spec);
    Ok(())
}

/// Refuses anything but OpenAPI 3.0.x, with a message that says what was found.
pub fn require_openapi_30(spec: &Value) -> Result<(), CodegenError> {
    match spec.get("openapi").and_then(Value::as_str) {
        Some(v) if v.starts_with("3.0.") => Ok(()),
        Some(v) => Err(CodegenError::NotOpenApi30(format!(
            "`openapi` is {v:?}; progenitor 0.15 accepts only 3.0.x"
        ))),
        None => Err(CodegenError::NotOpenApi30(
            "there is no `openapi` version field".to_string(),
        )),
    }
}

/// Every operation in the spec with its path and method, mutably.
fn operations_mut(spec: &mut Value) -> Vec<(String, String, &mut Value)> {
    let mut out = Vec::new();
    if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                for (method, operation) in item.iter_mut() {
                    if METHODS.contains(&method.as_str()) {
                        out.push((path.clone(), method.clone(), operation));
                    }
                }
            }
        }
    }
    out
}

/// Follows a `$ref` of the form `#/components/<kind>/<name>`.
fn resolve<'a>(value: &'a Value, components: &'a Value) -> Option<&'a Value> {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let mut parts = reference.strip_prefix("#/components/")?.splitn(2, '/');
            let (kind, name) = (parts.next()?, parts.next()?);
            components.get(kind)?.get(name)
        }
        None => Some(value),
    }
}

fn is_success_code(code: &str) -> bool {
    code.len() == 3 && code.starts_with('2')
}

fn is_error_code(code: &str) -> bool {
    code.len() == 3 && (code.starts_with('4') || code.starts_with('5'))
}

/// The property names a response body schema declares.
fn property_names(schema: &Value, components: &Value) -> BTreeSet<String> {
    resolve(schema, components)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Replaces every 2xx response with one `2XX` response whose body is the success schema that is
/// a superset of all the others (for HubSpot: `...WithErrors`, whose extra fields are optional).
pub fn unify_success_responses(
    operation: &mut Value,
    components: &Value,
) -> Result<(), CodegenError> {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    let codes: Vec<String> = responses
        .keys()
        .filter(|c| is_success_code(c))
        .cloned()
        .collect();
    if codes.len() <= 1 && codes.first().is_none_or(|c| c.eq_ignore_ascii_case("2XX")) {
        return Ok(());
    }
    let mut bodies = Vec::new();
    let mut descriptions = Vec::new();
    for code in &codes {
        let response = resolve(&responses[code], components)
            .cloned()
            .unwrap_or(Value::Null);
        if let Some(d) = response.get("description").and_then(Value::as_str) {
            descriptions.push(format!("{code}: {d}"));
        }
        if let Some(schema) = response.pointer("/content/application~1json/schema") {
            bodies.push(schema.clone());
        }
    }
    let chosen = match bodies.len() {
        0 => None,
        _ => {
            let sets: Vec<_> = bodies
                .iter()
                .map(|b| property_names(b, components))
                .collect();
            let index = sets
                .iter()
                .position(|candidate| sets.iter().all(|other| other.is_subset(candidate)))
                .ok_or_else(|| {
                    CodegenError::Normalize(format!(
                        "no success response body is a superset of the others ({})",
                        codes.join(", ")
                    ))
                })?;
            Some(bodies[index].clone())
        }
    };
    for code in &codes {
        responses.remove(code);
    }
    let mut unified = json!({ "description": descriptions.join("; ") });
    if let Some(schema) = chosen {
        unified["content"] = json!({ "application/json": { "schema": schema } });
    }
    responses.insert("2XX".to_string(), unified);
    Ok(())
}

/// Turns a `default` response into explicit `4XX` and `5XX` responses (unless the operation
/// already has them), so that it no longer also counts as a success.
pub fn split_default_response(operation: &mut Value) {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(default) = responses.remove("default") {
        for range in ["4XX", "5XX"] {
            responses.entry(range).or_insert_with(|| default.clone());
        }
    }
}

/// Gives every error response a single `*/*` body, inlined. progenitor then hands the body back
/// as a raw byte stream together with the status and headers, so the client can decode it
/// leniently, whatever it is (HubSpot's `Error`, a 429 without `category`, a proxy's HTML).
pub fn raw_error_bodies(operation: &mut Value, components: &Value) -> Result<(), CodegenError> {
    let Some(responses) = operation
        .get_mut("responses")
        .and_then(Value::as_object_mut)
    else {
        return Ok(());
    };
    for (code, response) in responses.iter_mut() {
        if !is_error_code(code) {
            continue;
        }
        let resolved = resolve(response, components).cloned().ok_or_else(|| {
            CodegenError::Normalize(format!("response {code} has a $ref that does not resolve"))
        })?;
        let schema = resolved
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.values().find_map(|m| m.get("schema")))
            .cloned()
            .unwrap_or_else(|| json!({}));
        let description = resolved
            .get("description")
            .cloned()
            .unwrap_or_else(|| json!(""));
        *response = json!({
            "description": description,
            "content": { "*/*": { "schema": schema } },
        });
    }
    Ok(())
}

/// The idiomatic method name for an operation: the path segments after the object type, joined
/// with `_` (`/crm/objects/v3/projects/batch/upsert` → `batch_upsert`). Parameters are skipped;
/// an operation on the collection itself is named after its method.
pub fn method_name(path: &str, method: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let start = segments
        .iter()
        .position(|s| *s == "projects" || *s == "{objectType}")
        .map_or(0, |i| i + 1);
    let words: Vec<String> = segments[start..]
        .iter()
        .filter(|s| !s.starts_with('{'))
        .map(|s| s.replace('-', "_").to_ascii_lowercase())
        .collect();
    if words.is_empty() {
        method.to_ascii_lowercase()
    } else {
        words.join("_")
    }
}

/// Replaces the path-like `operationId` with [`method_name`]; the original is kept as
/// `x-hubspot-operation-id`.
pub fn name_operations(spec: &mut Value) {
    for (path, method, operation) in operations_mut(spec) {
        name_operation(&path, &method, operation);
    }
}

fn name_operation(path: &str, method: &str, operation: &mut Value) {
    let Some(op) = operation.as_object_mut() else {
        return;
    };
    if let Some(original) = op.get("operationId").cloned() {
        op.insert("x-hubspot-operation-id".to_string(), original);
    }
    op.insert("operationId".to_string(), json!(method_name(path, method)));
}

fn schemas_mut(spec: &mut Value) -> Option<&mut Map<String, Value>> {
    spec.get_mut("components")?
        .get_mut("schemas")?
        .as_object_mut()
}

/// Moves the inline `status` enum of the `BatchResponse*` schemas into one named schema,
/// [`BATCH_STATUS_SCHEMA`], which the generator replaces with an open type that keeps unknown
/// values instead of failing the decode.
pub fn open_status_enum(spec: &mut Value) {
    let Some(schemas) = schemas_mut(spec) else {
        return;
    };
    let mut hoisted = None;
    for (name, schema) in schemas.iter_mut() {
        if !name.starts_with("BatchResponse") {
            continue;
        }
        if let Some(status) = schema.pointer_mut("/properties/status")
            && status.get("enum").is_some()
        {
            let mut reference = json!({ "$ref": format!("{SCHEMA_PREFIX}{BATCH_STATUS_SCHEMA}") });
            std::mem::swap(status, &mut reference);
            hoisted.get_or_insert(reference);
        }
    }
    if let Some(schema) = hoisted {
        schemas.insert(BATCH_STATUS_SCHEMA.to_string(), schema);
    }
}

/// Names of the schemas reachable from request bodies: those describe what we send and stay
/// strict.
fn request_schemas(spec: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut pending: Vec<Value> = Vec::new();
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for item in paths.values().filter_map(Value::as_object) {
            for (method, op) in item {
                if METHODS.contains(&method.as_str())
                    && let Some(body) = op.get("requestBody")
                {
                    pending.push(body.clone());
                }
            }
        }
    }
    let schemas = spec
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    while let Some(value) = pending.pop() {
        collect_refs(&value, &mut |name| {
            if found.insert(name.to_string())
                && let Some(s) = schemas.get(name)
            {
                pending.push(s.clone());
            }
        });
    }
    found
}

/// Calls `f` with the name of every `#/components/schemas/` reference inside `value`.
pub(crate) fn collect_refs(value: &Value, f: &mut dyn FnMut(&str)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some(name) = v.as_str().and_then(|r| r.strip_prefix(SCHEMA_PREFIX))
                {
                    f(name);
                }
                collect_refs(v, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, f)),
        _ => {}
    }
}

/// In response schemas, makes the values of every `properties` map and the `requestedAt`
/// timestamp nullable, as the live API sends them.
pub fn nullable_response_values(spec: &mut Value) {
    let strict = request_schemas(spec);
    let Some(schemas) = schemas_mut(spec) else {
        return;
    };
    for (name, schema) in schemas.iter_mut() {
        if strict.contains(name) {
            continue;
        }
        if let Some(values) = schema.pointer_mut("/properties/properties/additionalProperties")
            && values.get("type").and_then(Value::as_str) == Some("string")
        {
            values["nullable"] = json!(true);
        }
        if let Some(requested) = schema.pointer_mut("/properties/requestedAt")
            && requested.is_object()
        {
            requested["nullable"] = json!(true);
        }
    }
}

/// Replaces schemas that are an object with no properties and nothing else (`{"type":"object",
/// "properties":{}}`) by the any-value schema, keeping their description.
pub fn loosen_empty_object_schemas(spec: &mut Value) {
    fn visit(value: &mut Value) {
        match value {
            Value::Object(map) => {
                let empty_object = map.get("type").and_then(Value::as_str) == Some("object")
                    && map
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_some_and(Map::is_empty)
                    && map
                        .keys()
                        .all(|k| matches!(k.as_str(), "type" | "properties" | "description"));
                if empty_object {
                    map.remove("type");
                    map.remove("properties");
                } else {
                    map.values_mut().for_each(visit);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(visit),
            _ => {}
        }
    }
    if let Some(schemas) = schemas_mut(spec) {
        schemas.values_mut().for_each(visit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn components() -> Value {
        json!({
            "schemas": {
                "Small": { "type": "object", "properties": { "a": {}, "b": {} } },
                "Big": { "type": "object", "properties": { "a": {}, "b": {}, "c": {} } },
                "Other": { "type": "object", "properties": { "z": {} } },
                "Error": { "type": "object", "properties": { "message": {} } }
            },
            "responses": {
                "Error": { "description": "An error occurred.",
                           "content": { "*/*": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            }
        })
    }

    fn body(name: &str) -> Value {
        json!({ "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } } })
    }

    #[test]
    fn openapi_31_and_missing_versions_are_refused() {
        assert!(require_openapi_30(&json!({ "openapi": "3.0.1" })).is_ok());
        let err = require_openapi_30(&json!({ "openapi": "3.1.0" })).unwrap_err();
        assert!(err.to_string().contains("3.1.0"), "{err}");
        assert!(require_openapi_30(&json!({ "swagger": "2.0" })).is_err());
    }

    #[test]
    fn success_responses_unify_on_the_superset_schema() {
        let mut op =
            json!({ "responses": { "200": body("Small"), "207": body("Big"), "default": {} } });
        unify_success_responses(&mut op, &components()).unwrap();
        let responses = op["responses"].as_object().unwrap();
        assert_eq!(responses.keys().collect::<Vec<_>>(), ["2XX", "default"]);
        assert_eq!(
            op.pointer("/responses/2XX/content/application~1json/schema/$ref")
                .unwrap(),
            "#/components/schemas/Big"
        );
    }

    #[test]
    fn success_responses_without_a_superset_are_an_error() {
        let mut op = json!({ "responses": { "200": body("Small"), "207": body("Other") } });
        let err = unify_success_responses(&mut op, &components()).unwrap_err();
        assert!(err.to_string().contains("superset"), "{err}");
    }

    #[test]
    fn a_single_201_also_becomes_2xx() {
        let mut op = json!({ "responses": { "201": body("Small") } });
        unify_success_responses(&mut op, &components()).unwrap();
        assert!(op.pointer("/responses/2XX").is_some());
        assert!(op.pointer("/responses/201").is_none());
    }

    #[test]
    fn default_becomes_4xx_and_5xx() {
        let mut op = json!({ "responses": { "2XX": {}, "default": { "$ref": "#/components/responses/Error" } } });
        split_default_response(&mut op);
        let keys: Vec<_> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["2XX", "4XX", "5XX"]);
    }

    #[test]
    fn error_bodies_become_raw_and_inline() {
        let mut op = json!({ "responses": {
            "4XX": { "$ref": "#/components/responses/Error" },
            "503": { "description": "down", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
        } });
        raw_error_bodies(&mut op, &components()).unwrap();
        for code in ["4XX", "503"] {
            let content = op["responses"][code]["content"].as_object().unwrap();
            assert_eq!(content.keys().collect::<Vec<_>>(), ["*/*"], "{code}");
        }
        assert_eq!(op["responses"]["4XX"]["description"], "An error occurred.");
    }

    #[test]
    fn method_names_come_from_the_path_after_the_object_type() {
        assert_eq!(
            method_name("/crm/objects/v3/projects/batch/upsert", "post"),
            "batch_upsert"
        );
        assert_eq!(
            method_name("/crm/objects/2026-03/projects/batch/upsert", "post"),
            "batch_upsert"
        );
        assert_eq!(
            method_name("/crm/v3/objects/{objectType}/batch/upsert", "post"),
            "batch_upsert"
        );
        assert_eq!(
            method_name("/crm/objects/v3/projects/{projectId}", "get"),
            "get"
        );
        assert_eq!(method_name("/crm/objects/v3/projects", "post"), "post");
    }

    #[test]
    fn operations_are_renamed_and_keep_the_original_id() {
        let mut spec = json!({ "paths": { "/crm/objects/v3/projects/batch/upsert": { "post": {
            "operationId": "post-/crm/objects/v3/projects/batch/upsert" } } } });
        name_operations(&mut spec);
        let op = &spec["paths"]["/crm/objects/v3/projects/batch/upsert"]["post"];
        assert_eq!(op["operationId"], "batch_upsert");
        assert_eq!(
            op["x-hubspot-operation-id"],
            "post-/crm/objects/v3/projects/batch/upsert"
        );
    }

    #[test]
    fn the_status_enum_is_hoisted_once() {
        let status = json!({ "type": "string", "enum": ["COMPLETE", "PENDING"] });
        let mut spec = json!({ "components": { "schemas": {
            "BatchResponseA": { "properties": { "status": status } },
            "BatchResponseB": { "properties": { "status": status } },
            "StandardError": { "properties": { "status": { "type": "string" } } }
        } } });
        open_status_enum(&mut spec);
        let schemas = &spec["components"]["schemas"];
        assert_eq!(schemas[BATCH_STATUS_SCHEMA], status);
        for name in ["BatchResponseA", "BatchResponseB"] {
            assert_eq!(
                schemas[name]["properties"]["status"]["$ref"],
                "#/components/schemas/BatchStatus"
            );
        }
        assert_eq!(
            schemas["StandardError"]["properties"]["status"]["type"],
            "string"
        );
    }

    #[test]
    fn response_property_values_become_nullable_but_requests_stay_strict() {
        let map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
        let mut spec = json!({
            "paths": { "/x": { "post": { "requestBody": body("Input") } } },
            "components": { "schemas": {
                "Input": { "properties": { "inputs": { "items": { "$ref": "#/components/schemas/Item" } } } },
                "Item": { "properties": { "properties": map } },
                "Output": { "properties": { "properties": map, "requestedAt": { "type": "string" } } }
            } }
        });
        nullable_response_values(&mut spec);
        let s = &spec["components"]["schemas"];
        assert_eq!(
            s["Output"]["properties"]["properties"]["additionalProperties"]["nullable"],
            true
        );
        assert_eq!(s["Output"]["properties"]["requestedAt"]["nullable"], true);
        assert!(
            s["Item"]["properties"]["properties"]["additionalProperties"]
                .get("nullable")
                .is_none()
        );
    }

    #[test]
    fn empty_object_schemas_accept_anything() {
        let mut spec = json!({ "components": { "schemas": { "StandardError": { "properties": {
            "subCategory": { "type": "object", "properties": {}, "description": "d" },
            "context": { "type": "object", "properties": {}, "additionalProperties": { "type": "string" } }
        } } } } });
        loosen_empty_object_schemas(&mut spec);
        let p = &spec["components"]["schemas"]["StandardError"]["properties"];
        assert_eq!(p["subCategory"], json!({ "description": "d" }));
        assert_eq!(p["context"]["type"], "object");
    }
}
