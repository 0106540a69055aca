//! Importing an upstream HubSpot spec: `cargo xtask regen --from FILE`.
//!
//! HubSpot publishes specs with dozens of operations, either per object (projects) or for the
//! generic objects API (`/crm/v3/objects/{objectType}/...`). [`extract_batch_upsert`] takes any
//! of those and keeps exactly the projects batch-upsert operation and what it references,
//! transitively, in HubSpot's own shape. Normalization for progenitor happens later, at
//! generation time, so the stored contract stays comparable with HubSpot's next file.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Why an upstream file could not be imported. Nothing is written when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not JSON.
    #[error("the file is not JSON ({0}); HubSpot publishes its specs as JSON")]
    NotJson(#[source] serde_json::Error),
    /// The file is not OpenAPI 3.0.x.
    #[error("the file is not an OpenAPI 3.0.x document: {0}")]
    NotOpenApi30(String),
    /// None of the known spellings of the operation is in the file.
    #[error(
        "the file has no POST operation for the projects batch upsert; looked for {looked_for}"
    )]
    MissingOperation {
        /// The paths that were looked for.
        looked_for: String,
    },
    /// The operation references something the file does not define.
    #[error("the operation references {0}, which the file does not define")]
    DanglingRef(String),
}

/// The path the contract uses, and the one the generic objects API is turned into.
pub const CONTRACT_PATH: &str = "/crm/objects/v3/projects/batch/upsert";
const GENERIC_PATHS: [&str; 2] = [
    "/crm/v3/objects/{objectType}/batch/upsert",
    "/crm/v3/objects/projects/batch/upsert",
];

/// Whether `path` is a projects-specific spelling: `/crm/objects/<version>/projects/batch/upsert`
/// where the version is `v3` or a date such as `2026-03`.
fn is_projects_path(path: &str) -> bool {
    path.strip_prefix("/crm/objects/")
        .and_then(|rest| rest.strip_suffix("/projects/batch/upsert"))
        .is_some_and(|version| !version.is_empty() && !version.contains('/'))
}

/// Extracts the projects batch upsert from an upstream spec's text, with exactly the schemas,
/// responses, parameters and security schemes it references, transitively.
pub fn extract_batch_upsert(upstream: &str) -> Result<Value, ImportError> {
    let spec: Value = serde_json::from_str(upstream).map_err(ImportError::NotJson)?;
    crate::normalize::require_openapi_30(&spec)
        .map_err(|e| ImportError::NotOpenApi30(e.to_string()))?;
    let paths = spec
        .get("paths")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();

    // Prefer the projects-specific path (the v3 spelling first), then the generic objects API.
    let mut candidates: Vec<&String> = paths.keys().filter(|p| is_projects_path(p)).collect();
    candidates.sort_by_key(|p| (p.as_str() != CONTRACT_PATH, (*p).clone()));
    let found = candidates
        .first()
        .map(|p| ((*p).clone(), false))
        .or_else(|| {
            GENERIC_PATHS
                .iter()
                .find(|p| paths.contains_key(**p))
                .map(|p| (p.to_string(), true))
        })
        .filter(|(p, _)| paths[p].get("post").is_some());
    let Some((path, generic)) = found else {
        return Err(ImportError::MissingOperation {
            looked_for: format!(
                "{CONTRACT_PATH}, /crm/objects/<date>/projects/batch/upsert, {}",
                GENERIC_PATHS.join(", ")
            ),
        });
    };

    let mut operation = paths[&path]["post"].clone();
    let mut out_path = path.clone();
    if generic {
        out_path = CONTRACT_PATH.to_string();
        drop_object_type_parameter(&mut operation);
    }
    // Parameters shared at the path level belong to the operation too.
    if let Some(shared) = paths[&path].get("parameters").and_then(Value::as_array) {
        let own = operation
            .as_object_mut()
            .map(|o| o.entry("parameters").or_insert(json!([])));
        if let Some(Value::Array(own)) = own {
            own.extend(shared.iter().cloned());
        }
        if generic {
            drop_object_type_parameter(&mut operation);
        }
    }

    let components = spec.get("components").cloned().unwrap_or_else(|| json!({}));
    let mut kept: Map<String, Value> = Map::new();
    let mut pending = vec![operation.clone()];
    let mut seen = BTreeSet::new();
    while let Some(value) = pending.pop() {
        let mut refs = Vec::new();
        all_refs(&value, &mut refs);
        for reference in refs {
            if !seen.insert(reference.clone()) {
                continue;
            }
            let (kind, name) = reference
                .strip_prefix("#/components/")
                .and_then(|r| r.split_once('/'))
                .ok_or_else(|| ImportError::DanglingRef(reference.clone()))?;
            let item = components
                .get(kind)
                .and_then(|k| k.get(name))
                .ok_or_else(|| ImportError::DanglingRef(reference.clone()))?;
            kept.entry(kind.to_string())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|m| m.insert(name.to_string(), item.clone()));
            pending.push(item.clone());
        }
    }

    // Security: the operation's own requirements, else the document's.
    let security = operation
        .get("security")
        .or_else(|| spec.get("security"))
        .cloned();
    if let Some(Value::Array(requirements)) = &security {
        let schemes: BTreeSet<&String> = requirements
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|r| r.keys())
            .collect();
        for scheme in schemes {
            let item = components
                .pointer(&format!(
                    "/securitySchemes/{}",
                    scheme.replace('~', "~0").replace('/', "~1")
                ))
                .ok_or_else(|| ImportError::DanglingRef(format!("security scheme {scheme}")))?;
            kept.entry("securitySchemes")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|m| m.insert(scheme.clone(), item.clone()));
        }
        if operation.get("security").is_none()
            && let Some(op) = operation.as_object_mut()
        {
            op.insert(
                "security".to_string(),
                security.clone().unwrap_or(Value::Null),
            );
        }
    }

    let used_tags: BTreeSet<&str> = operation
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let tags: Vec<Value> = spec
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter(|tag| {
                    tag.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| used_tags.contains(n))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();

    let mut out = json!({
        "openapi": spec["openapi"],
        "info": spec.get("info").cloned().unwrap_or_else(|| json!({})),
        "paths": { out_path: { "post": operation } },
        "components": kept,
    });
    if let Some(servers) = spec.get("servers") {
        out["servers"] = servers.clone();
    }
    if !tags.is_empty() {
        out["tags"] = Value::Array(tags);
    }
    strip_null_examples(&mut out);
    Ok(out)
}

fn drop_object_type_parameter(operation: &mut Value) {
    if let Some(Value::Array(params)) = operation.get_mut("parameters") {
        params.retain(|p| p.get("name").and_then(Value::as_str) != Some("objectType"));
        if params.is_empty()
            && let Some(op) = operation.as_object_mut()
        {
            op.remove("parameters");
        }
    }
}

fn all_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => all_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_refs(v, out)),
        _ => {}
    }
}

/// HubSpot's files carry `"example": null` on nearly every schema; it says nothing.
fn strip_null_examples(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, v| !(k == "example" && v.is_null()));
            map.values_mut().for_each(strip_null_examples);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null_examples),
        _ => {}
    }
}
