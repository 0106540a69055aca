//! The rewrites that make HubSpot's spec, as HubSpot publishes it, acceptable to progenitor 0.15
//! and faithful to what the live API really sends.
//!
//! The contracts under `openapi/` stay in HubSpot's own shape, so that HubSpot's next files can
//! be imported into them (`cargo xtask regen --from`). Every deviation needed for code generation, and every
//! leniency that real responses demand, lives here instead, one named rule per quirk:
//!
//! | rule | why |
//! |---|---|
//! | [`require_openapi_30`] | progenitor reads only OpenAPI 3.0.x |
//! | [`unify_success_responses`] | 200 and 207 have different schemas; progenitor panics on two success types. Any 2xx must also decode (HubSpot once moved a batch endpoint from 201 to 200 overnight) |
//! | [`split_default_response`] | `default` counts as both success and error for progenitor |
//! | [`raw_error_bodies`] | real 429 bodies lack `category` and 5xx bodies from proxies are HTML: a strict typed decode would lose them, so errors stay raw bytes with their status and headers |
//! | [`name_operations`] | `post-/crm/objects/2026-03/projects/batch/upsert` becomes `batch_upsert_2026_03`: one method per version, named from the path, so that importing HubSpot's file (whose operation ids vary) keeps the names |
//! | [`drop_query_parameters_repeating_form_fields`] | HubSpot's `v1` token operation also declares `client_secret` and `refresh_token` as query parameters; the form body carries them, and a secret in a URL ends up in logs |
//! | [`name_inline_request_bodies`] | the token request's form is inline, and differs a little between versions: one named type (`TokenRequest`) that every version's method takes, rather than one anonymous type per version |
//! | [`open_status_enum`] | the batch `status` enum may grow; an unknown value must not fail a successful write |
//! | [`optional_type_markers`] | a one-value enum with that value as default (`token_use`) marks which `oneOf` variant an answer is; HubSpot's documented token answers leave it out |
//! | [`open_response_enums`] | every other enum in an answer may grow too: it becomes a string, its known values listed in its description |
//! | [`nullable_response_values`] | real responses carry `null` property values and a `null` `requestedAt` |
//! | [`loosen_empty_object_schemas`] | `StandardError.subCategory` is typed as an empty object but arrives as anything |
//!
//! Why answers' enums become strings rather than generated open types: the generated code stays
//! plain (no enum type per field that callers must match with a catch-all arm), a value HubSpot
//! adds later is kept as it came, and the known values stay documented on the field. Where typed
//! matching matters to this workspace (the batch `status`), a hand-written open type replaces the
//! enum instead ([`open_status_enum`]). Enums reachable only from request bodies (what we send,
//! such as the token request's `grant_type`) stay closed.
//!
//! The contract, not this module, could have carried the nullability fix. It does not, because
//! HubSpot's files never will: a fix in the contract would be lost at the next import.
//!
//! The `api-version` header that progenitor adds to every request (from `info.version`) is not
//! a spec matter; the generated crate's request hook removes it, since HubSpot's API is versioned
//! by path.

use crate::CodegenError;
use crate::version::ApiVersion;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// The component schema that [`open_status_enum`] hoists the batch status enum into, and that the
/// generator replaces with a hand-written open type.
pub const BATCH_STATUS_SCHEMA: &str = "BatchStatus";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Whether a key of a path item is an HTTP method (rather than `parameters`, `summary`…).
pub(crate) fn is_method(key: &str) -> bool {
    METHODS.contains(&key)
}

/// Applies every rule, in order.
pub fn normalize(spec: &mut Value) -> Result<(), CodegenError> {
    require_openapi_30(spec)?;
    drop_query_parameters_repeating_form_fields(spec);
    name_inline_request_bodies(spec)?;
    name_operations(spec)?;
    // The enum rules run before the success responses are unified, so that they still see every
    // schema an answer can have (the 200 schema too, which the emulator serializes).
    open_status_enum(spec);
    optional_type_markers(spec);
    open_response_enums(spec);
    let components = spec.get("components").cloned().unwrap_or(Value::Null);
    for (_, _, operation) in operations_mut(spec) {
        unify_success_responses(operation, &components)?;
        split_default_response(operation);
        raw_error_bodies(operation, &components)?;
    }
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

/// The name of an operation without its version: the path segments after the object type
/// (`projects` or `{objectType}`), or else after the version, joined with `_`.
/// `/crm/objects/v3/projects/batch/upsert` → `batch_upsert`, `/oauth/v1/token` → `token`.
/// Parameters are skipped; an operation on the collection itself is named after its method.
pub fn base_method_name(path: &str, method: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let start = segments
        .iter()
        .position(|s| *s == "projects" || *s == "{objectType}")
        .or_else(|| segments.iter().position(|s| ApiVersion::parse(s).is_some()))
        .map_or(0, |i| i + 1);
    let words: Vec<String> = segments[start..]
        .iter()
        .filter(|s| !s.starts_with('{') && ApiVersion::parse(s).is_none())
        .map(|s| s.replace('-', "_").to_ascii_lowercase())
        .collect();
    if words.is_empty() {
        method.to_ascii_lowercase()
    } else {
        words.join("_")
    }
}

/// The generated method's name: [`base_method_name`], then the version from the path
/// (`batch_upsert_v3`, `batch_upsert_2026_03`, `batch_upsert_2026_09_beta`, `token_v1`). A path
/// without a version gets the base name alone.
pub fn method_name(path: &str, method: &str) -> String {
    let base = base_method_name(path, method);
    match ApiVersion::in_path(path) {
        Some(version) => format!("{base}_{}", version.identifier_suffix()),
        None => base,
    }
}

/// Replaces each path-like `operationId` with [`method_name`]; the original is kept as
/// `x-hubspot-operation-id`. Two operations that would get the same name (two spellings of one
/// version) are an error, since progenitor would generate one method twice.
pub fn name_operations(spec: &mut Value) -> Result<(), CodegenError> {
    let mut named: std::collections::BTreeMap<String, String> = Default::default();
    for (path, method, operation) in operations_mut(spec) {
        let name = method_name(&path, &method);
        if let Some(other) = named.insert(name.clone(), path.clone()) {
            return Err(CodegenError::Normalize(format!(
                "`{other}` and `{path}` would both become the method `{name}`: keep one path per \
                 version of an operation"
            )));
        }
        let Some(op) = operation.as_object_mut() else {
            continue;
        };
        if let Some(original) = op.get("operationId").cloned() {
            op.insert("x-hubspot-operation-id".to_string(), original);
        }
        op.insert("operationId".to_string(), json!(name));
    }
    Ok(())
}

/// The schema of an operation's form-encoded request body, resolved, if it has one.
fn form_body_schema<'a>(operation: &'a Value, components: &'a Value) -> Option<&'a Value> {
    let schema =
        operation.pointer("/requestBody/content/application~1x-www-form-urlencoded/schema")?;
    resolve(schema, components)
}

/// Removes query parameters whose name is also a field of the operation's form-encoded body.
pub fn drop_query_parameters_repeating_form_fields(spec: &mut Value) {
    let components = spec.get("components").cloned().unwrap_or(Value::Null);
    for (_, _, operation) in operations_mut(spec) {
        let fields: BTreeSet<String> = form_body_schema(operation, &components)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        if fields.is_empty() {
            continue;
        }
        if let Some(Value::Array(parameters)) = operation.get_mut("parameters") {
            parameters.retain(|p| {
                let p = resolve(p, &components).unwrap_or(p);
                let in_query = p.get("in").and_then(Value::as_str) == Some("query");
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                !(in_query && fields.contains(name))
            });
        }
    }
}

/// `token` → `Token`, `batch_upsert` → `BatchUpsert`.
fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// A schema without its descriptions, for comparing what two schemas accept.
fn without_descriptions(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != "description")
                .map(|(k, v)| (k.clone(), without_descriptions(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_descriptions).collect()),
        other => other.clone(),
    }
}

/// Moves every inline object schema of a request body into one named component schema per
/// operation (`<Operation>Request`, e.g. `TokenRequest`), shared by all its versions: the union of
/// their fields (a field two versions spell differently is an error), required where every
/// version requires it. Where descriptions differ, the newest version's win.
pub fn name_inline_request_bodies(spec: &mut Value) -> Result<(), CodegenError> {
    struct Inline {
        version: Option<ApiVersion>,
        schema: Value,
    }
    let mut groups: std::collections::BTreeMap<String, Vec<Inline>> = Default::default();
    for (path, method, operation) in operations_mut(spec) {
        let Some(content) = operation
            .pointer_mut("/requestBody/content")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for media in content.values_mut() {
            let Some(schema) = media.get_mut("schema") else {
                continue;
            };
            if schema.get("$ref").is_some()
                || schema.get("type").and_then(Value::as_str) != Some("object")
            {
                continue;
            }
            let base = base_method_name(&path, &method);
            let name = format!("{}Request", pascal_case(&base));
            let inline =
                std::mem::replace(schema, json!({ "$ref": format!("{SCHEMA_PREFIX}{name}") }));
            groups.entry(name).or_default().push(Inline {
                version: ApiVersion::in_path(&path),
                schema: inline,
            });
        }
    }
    if groups.is_empty() {
        return Ok(());
    }
    let schemas = spec
        .as_object_mut()
        .ok_or_else(|| CodegenError::Normalize("the spec is not a JSON object".into()))?
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| CodegenError::Normalize("`components` is not an object".into()))?
        .entry("schemas")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| CodegenError::Normalize("`components.schemas` is not an object".into()))?;
    for (name, mut versions) in groups {
        if schemas.contains_key(&name) {
            return Err(CodegenError::Normalize(format!(
                "an inline request body would be named `{name}`, but the spec already has a \
                 schema of that name"
            )));
        }
        // Newest last, so that its descriptions win.
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        let mut merged = Map::new();
        let mut properties = Map::new();
        let mut required: Option<BTreeSet<String>> = None;
        for inline in &versions {
            let Some(object) = inline.schema.as_object() else {
                continue;
            };
            for (key, value) in object {
                if key != "properties" && key != "required" {
                    merged.insert(key.clone(), value.clone());
                }
            }
            for (field, schema) in object
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(known) = properties.get(field)
                    && without_descriptions(known) != without_descriptions(schema)
                {
                    return Err(CodegenError::Normalize(format!(
                        "the versions of `{name}` disagree on the field `{field}`: {known} and \
                         {schema}"
                    )));
                }
                properties.insert(field.clone(), schema.clone());
            }
            let these: BTreeSet<String> = object
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect();
            required = Some(match required {
                None => these,
                Some(all) => all.intersection(&these).cloned().collect(),
            });
        }
        merged.insert("properties".to_string(), Value::Object(properties));
        if let Some(required) = required.filter(|r| !r.is_empty()) {
            merged.insert("required".to_string(), json!(required));
        }
        schemas.insert(name, Value::Object(merged));
    }
    Ok(())
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
    all_component_refs(value, &mut |kind, name| {
        if kind == "schemas" {
            f(name);
        }
    });
}

/// Names of the component schemas reachable from the operations' responses, through
/// `#/components/responses/...` too.
fn response_schemas(spec: &Value) -> BTreeSet<String> {
    let components = spec.get("components").unwrap_or(&Value::Null);
    let responses = operations(spec)
        .into_iter()
        .filter_map(|(_, _, op)| op.get("responses"));
    reachable_components(components, responses)
        .into_iter()
        .filter(|(kind, _)| kind == "schemas")
        .map(|(_, name)| name)
        .collect()
}

/// The kind and name of every component that `roots` reference, directly or through other
/// components.
pub(crate) fn reachable_components<'a>(
    components: &'a Value,
    roots: impl IntoIterator<Item = &'a Value>,
) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut pending: Vec<&Value> = roots.into_iter().collect();
    while let Some(value) = pending.pop() {
        all_component_refs(value, &mut |kind, name| {
            if seen.insert((kind.to_string(), name.to_string()))
                && let Some(item) = components.get(kind).and_then(|k| k.get(name))
            {
                pending.push(item);
            }
        });
    }
    seen
}

/// Calls `f` with the kind and name of every `#/components/<kind>/<name>` reference in `value`.
fn all_component_refs(value: &Value, f: &mut dyn FnMut(&str, &str)) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref"
                    && let Some((kind, name)) = v
                        .as_str()
                        .and_then(|r| r.strip_prefix("#/components/"))
                        .and_then(|r| r.split_once('/'))
                {
                    f(kind, name);
                }
                all_component_refs(v, f);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_component_refs(v, f)),
        _ => {}
    }
}

/// Every operation in the spec with its path and method.
pub(crate) fn operations(spec: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, operation) in item.as_object().into_iter().flatten() {
            if METHODS.contains(&method.as_str()) {
                out.push((path.clone(), method.clone(), operation));
            }
        }
    }
    out
}

/// The schemas that describe answers: every component schema but those only requests reach,
/// and the schema a generated type replaces.
fn answer_schemas(spec: &Value) -> BTreeSet<String> {
    let requests = request_schemas(spec);
    let responses = response_schemas(spec);
    spec.pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, _)| name.clone())
        .filter(|name| !requests.contains(name) || responses.contains(name))
        .filter(|name| name != BATCH_STATUS_SCHEMA)
        .collect()
}

/// Applies `f` to every schema object nested in `value` (itself, properties, items, map values,
/// compositions), but not across references.
fn visit_schemas(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    f(map);
    for key in ["items", "additionalProperties", "not"] {
        if let Some(inner) = map.get_mut(key) {
            visit_schemas(inner, f);
        }
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(|p| visit_schemas(p, f));
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(items)) = map.get_mut(key) {
            items.iter_mut().for_each(|i| visit_schemas(i, f));
        }
    }
}

/// Applies `f` to every schema of an answer: the component schemas of [`answer_schemas`] and the
/// inline schemas of responses.
fn visit_answer_schemas(spec: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let answers = answer_schemas(spec);
    if let Some(schemas) = schemas_mut(spec) {
        for (name, schema) in schemas.iter_mut() {
            if answers.contains(name) {
                visit_schemas(schema, f);
            }
        }
    }
    for (_, _, operation) in operations_mut(spec) {
        for response in operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            for media in response
                .get_mut("content")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flat_map(|c| c.values_mut())
            {
                if let Some(schema) = media.get_mut("schema") {
                    visit_schemas(schema, f);
                }
            }
        }
    }
}

/// In answers, a property whose schema is an enum of one value with that value as its default is
/// no longer required: it only marks which variant of a `oneOf` the answer is, and its value is
/// implied. (HubSpot's token answers declare `token_use` so, and its documented answers omit it.)
pub fn optional_type_markers(spec: &mut Value) {
    visit_answer_schemas(spec, &mut |schema| {
        let markers: BTreeSet<String> = schema
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, p)| {
                let one = p
                    .get("enum")
                    .and_then(Value::as_array)
                    .filter(|e| e.len() == 1);
                one.is_some_and(|e| p.get("default") == e.first())
            })
            .map(|(name, _)| name.clone())
            .collect();
        if markers.is_empty() {
            return;
        }
        if let Some(Value::Array(required)) = schema.get_mut("required") {
            required.retain(|r| r.as_str().is_none_or(|r| !markers.contains(r)));
            if required.is_empty() {
                schema.remove("required");
            }
        }
    });
}

/// In answers, every string enum (but the batch status, which [`open_status_enum`] gives an open
/// type) becomes a plain string whose description lists the known values, so that a value HubSpot
/// adds later decodes. Enums that only requests use stay closed.
pub fn open_response_enums(spec: &mut Value) {
    visit_answer_schemas(spec, &mut |schema| {
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            return;
        }
        let Some(Value::Array(values)) = schema.remove("enum") else {
            return;
        };
        let known: Vec<String> = values
            .iter()
            .map(|v| match v {
                Value::String(s) => format!("`{s}`"),
                other => format!("`{other}`"),
            })
            .collect();
        let note = format!(
            "Known values: {}. HubSpot may send others.",
            known.join(", ")
        );
        let description = match schema.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
            _ => note,
        };
        schema.insert("description".to_string(), json!(description));
    });
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

/// The 2xx responses an operation declares (as written: a `$ref` is not followed).
pub(crate) fn success_responses(operation: &Value) -> impl Iterator<Item = &Value> {
    operation
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(code, _)| code.starts_with('2'))
        .map(|(_, response)| response)
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
    fn method_names_are_the_path_after_the_object_type_and_the_version() {
        let cases = [
            (
                "/crm/objects/v3/projects/batch/upsert",
                "post",
                "batch_upsert_v3",
            ),
            (
                "/crm/objects/2026-03/projects/batch/upsert",
                "post",
                "batch_upsert_2026_03",
            ),
            (
                "/crm/objects/2026-09/projects/batch/upsert",
                "post",
                "batch_upsert_2026_09",
            ),
            (
                "/crm/objects/2026-09-beta/projects/batch/upsert",
                "post",
                "batch_upsert_2026_09_beta",
            ),
            (
                "/crm/v3/objects/{objectType}/batch/upsert",
                "post",
                "batch_upsert_v3",
            ),
            (
                "/crm/objects/2026-03/{objectType}/batch/upsert",
                "post",
                "batch_upsert_2026_03",
            ),
            ("/crm/objects/v3/projects/{projectId}", "get", "get_v3"),
            ("/crm/objects/v3/projects", "post", "post_v3"),
            ("/oauth/v1/token", "post", "token_v1"),
            ("/oauth/2026-03/token", "post", "token_2026_03"),
            ("/oauth/v3/token/introspect", "post", "token_introspect_v3"),
            ("/crm/objects/projects/batch/upsert", "post", "batch_upsert"),
        ];
        for (path, method, name) in cases {
            assert_eq!(method_name(path, method), name, "{path}");
        }
        assert_eq!(
            base_method_name("/crm/objects/2026-09-beta/projects/batch/upsert", "post"),
            "batch_upsert"
        );
    }

    #[test]
    fn operations_are_renamed_and_keep_the_original_id() {
        let mut spec = json!({ "paths": {
            "/crm/objects/v3/projects/batch/upsert": { "post": {
                "operationId": "post-/crm/objects/v3/projects/batch/upsert" } },
            "/crm/objects/2026-03/projects/batch/upsert": { "post": {
                "operationId": "post-/crm/objects/2026-03/projects/batch/upsert" } }
        } });
        name_operations(&mut spec).unwrap();
        let op = &spec["paths"]["/crm/objects/v3/projects/batch/upsert"]["post"];
        assert_eq!(op["operationId"], "batch_upsert_v3");
        assert_eq!(
            op["x-hubspot-operation-id"],
            "post-/crm/objects/v3/projects/batch/upsert"
        );
        let op = &spec["paths"]["/crm/objects/2026-03/projects/batch/upsert"]["post"];
        assert_eq!(op["operationId"], "batch_upsert_2026_03");
    }

    #[test]
    fn two_spellings_of_one_version_are_refused() {
        let mut spec = json!({ "paths": {
            "/crm/objects/v3/projects/batch/upsert": { "post": {} },
            "/crm/v3/objects/{objectType}/batch/upsert": { "post": {} }
        } });
        let err = name_operations(&mut spec).unwrap_err().to_string();
        assert!(err.contains("batch_upsert_v3"), "{err}");
        assert!(
            err.contains("/crm/v3/objects/{objectType}/batch/upsert"),
            "{err}"
        );
    }

    fn form(properties: Value) -> Value {
        json!({ "content": { "application/x-www-form-urlencoded": { "schema": {
            "type": "object", "properties": properties } } } })
    }

    #[test]
    fn query_parameters_that_repeat_form_fields_are_dropped() {
        let query =
            |name: &str| json!({ "name": name, "in": "query", "schema": { "type": "string" } });
        let mut spec = json!({ "paths": { "/oauth/v1/token": { "post": {
            "parameters": [query("client_secret"), query("refresh_token"), query("state")],
            "requestBody": form(json!({ "client_secret": {}, "refresh_token": {} }))
        } } } });
        drop_query_parameters_repeating_form_fields(&mut spec);
        let kept = &spec["paths"]["/oauth/v1/token"]["post"]["parameters"];
        assert_eq!(kept, &json!([query("state")]));
    }

    #[test]
    fn inline_request_bodies_of_all_versions_become_one_named_schema() {
        let mut spec = json!({ "paths": {
            "/oauth/v1/token": { "post": { "requestBody": form(json!({
                "grant_type": { "type": "string", "description": "old" },
                "client_id": { "type": "string" } })) } },
            "/oauth/v3/token": { "post": { "requestBody": form(json!({
                "grant_type": { "type": "string", "description": "new" },
                "client_id": { "type": "string" },
                "client_assertion": { "type": "string" } })) } }
        } });
        name_inline_request_bodies(&mut spec).unwrap();
        for version in ["v1", "v3"] {
            let schema = &spec["paths"][format!("/oauth/{version}/token")]["post"]["requestBody"]["content"]
                ["application/x-www-form-urlencoded"]["schema"];
            assert_eq!(
                schema,
                &json!({ "$ref": "#/components/schemas/TokenRequest" })
            );
        }
        let merged = &spec["components"]["schemas"]["TokenRequest"];
        let fields: Vec<_> = merged["properties"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["client_assertion", "client_id", "grant_type"]);
        assert_eq!(merged["properties"]["grant_type"]["description"], "new");
        assert_eq!(merged["type"], "object");
    }

    #[test]
    fn versions_that_disagree_on_a_request_field_are_an_error() {
        let mut spec = json!({ "paths": {
            "/oauth/v1/token": { "post": { "requestBody": form(json!({ "scope": { "type": "string" } })) } },
            "/oauth/v3/token": { "post": { "requestBody": form(json!({ "scope": { "type": "integer" } })) } }
        } });
        let err = name_inline_request_bodies(&mut spec)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`scope`") && err.contains("TokenRequest"),
            "{err}"
        );
    }

    /// A spec whose one operation takes `Input` and answers `Output` (and an error).
    fn request_and_answer(input: Value, output: Value) -> Value {
        json!({
            "paths": { "/x/v1/do": { "post": {
                "requestBody": body("Input"),
                "responses": { "200": body("Output"), "default": { "$ref": "#/components/responses/Error" } }
            } } },
            "components": {
                "responses": { "Error": { "description": "e", "content": { "*/*": { "schema": { "$ref": "#/components/schemas/Failure" } } } } },
                "schemas": {
                    "Input": input, "Output": output,
                    "Failure": { "type": "object", "properties": {
                        "category": { "type": "string", "enum": ["VALIDATION_ERROR"] } } }
                }
            }
        })
    }

    #[test]
    fn enums_in_answers_become_documented_strings_and_request_enums_stay_closed() {
        let grant = json!({ "type": "string", "enum": ["refresh_token"] });
        let mut spec = request_and_answer(
            json!({ "type": "object", "properties": { "grant_type": grant } }),
            json!({ "type": "object", "properties": {
                "errors": { "type": "array", "items": { "type": "object", "properties": {
                    "code": { "type": "string", "description": "The code.", "enum": ["A", "B"] } } } } } }),
        );
        open_response_enums(&mut spec);
        let s = &spec["components"]["schemas"];
        let code = &s["Output"]["properties"]["errors"]["items"]["properties"]["code"];
        assert!(code.get("enum").is_none(), "{code}");
        assert_eq!(
            code["description"],
            "The code.\n\nKnown values: `A`, `B`. HubSpot may send others."
        );
        assert!(s["Failure"]["properties"]["category"].get("enum").is_none());
        assert_eq!(s["Input"]["properties"]["grant_type"], grant);
    }

    #[test]
    fn a_one_value_enum_with_that_default_is_no_longer_required_in_answers() {
        let marker =
            json!({ "type": "string", "default": "access_token", "enum": ["access_token"] });
        let schema = json!({ "type": "object", "required": ["access_token", "token_use"],
            "properties": { "access_token": { "type": "string" }, "token_use": marker } });
        let mut spec = request_and_answer(schema.clone(), schema);
        optional_type_markers(&mut spec);
        let s = &spec["components"]["schemas"];
        assert_eq!(s["Output"]["required"], json!(["access_token"]));
        assert_eq!(s["Input"]["required"], json!(["access_token", "token_use"]));
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
