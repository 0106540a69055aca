//! Importing a file HubSpot publishes: `cargo xtask regen --from FILE`.
//!
//! HubSpot publishes one file per API and version, with dozens of operations: the projects API
//! (`/crm/objects/<version>/projects/...`), the generic objects API
//! (`/crm/objects/<version>/{objectType}/...`, `/crm/v3/objects/{objectType}/...`) and the OAuth
//! API (`/oauth/<version>/token`), each for `v3` or `v1`, a date such as `2026-03`, or a beta
//! such as `2026-09-beta`. [`read_upstream`] finds which [`Contract`] the file is for and which
//! versions of its operation it carries; [`Upstream::merge_into`] replaces those versions in the
//! contract, with exactly the components they reference, and keeps every other version.
//!
//! The operation is stored in HubSpot's layout (paths, schema names, types, required lists,
//! enums, formats), so that the contract stays comparable with HubSpot's next file. Its texts are
//! the contract's own: descriptions, summaries, titles and examples of whatever the contract
//! already has are kept, and the file's never reach the contract (a response, which OpenAPI
//! requires to be described, gets a neutral description made from its status). A generic objects
//! path is stored under the projects path of the same version, without its `objectType`
//! parameter. Normalization for progenitor happens later, at generation time.
//!
//! The versions of a contract share its components (HubSpot names the schemas of every version
//! alike). When an import brings a component that differs from the contract's in more than its
//! texts while an operation the import does not replace uses it too, the import is refused with
//! [`ImportError::SharedComponentsDiffer`], which names each such component, the versions that
//! share it and what differs, unless [`SharedComponents::Replace`] asks for the file's definition
//! for every version; [`Import::notes`] then says what changed for them. A component only the
//! imported versions use is replaced without asking. Security schemes do not shape the generated
//! code and are replaced without asking.

use crate::contract::{Contract, Spelling, contract_of};
use crate::texts::{keep_our_component_texts, keep_our_texts, without_texts};
use crate::version::ApiVersion;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Why an upstream file could not be imported. Nothing is written when this is returned.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not JSON.
    #[error("the file is not JSON ({0}); HubSpot publishes its specs as JSON")]
    NotJson(#[source] serde_json::Error),
    /// The file is not OpenAPI 3.0.x.
    #[error("the file is not an OpenAPI 3.0.x document: {0}")]
    NotOpenApi30(String),
    /// None of the known spellings of any contract's operation is in the file.
    #[error(
        "the file has none of the operations this workspace calls; looked for {looked_for}. \
         Import HubSpot's projects, generic objects or OAuth file"
    )]
    MissingOperation {
        /// The spellings that were looked for.
        looked_for: String,
    },
    /// The operation declares no success answer with a JSON body: nothing to decode.
    #[error(
        "the {operation} of version {version} (`{path}`) declares no success answer with a JSON \
         body; this file of HubSpot's looks incomplete"
    )]
    NoSuccessAnswer {
        /// The operation.
        operation: &'static str,
        /// The version.
        version: String,
        /// The path as the file spells it.
        path: String,
    },
    /// The operation references something the file does not define.
    #[error("the operation references {0}, which the file does not define")]
    DanglingRef(String),
    /// The current contract is not a JSON object.
    #[error("the current contract is not a JSON object")]
    BadContract,
    /// The file defines components differently from the contract while versions the file does
    /// not carry use them: importing it would change those versions too.
    #[error("{}", describe_shared_changes(.0))]
    SharedComponentsDiffer(Vec<SharedChange>),
}

/// What to do with a component that differs from the contract's while versions the import does
/// not replace use it too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SharedComponents {
    /// Refuse the import: [`ImportError::SharedComponentsDiffer`].
    #[default]
    Refuse,
    /// Replace it with the file's definition, for every version that uses it.
    Replace,
}

/// A component the file defines differently from the contract, that other versions use too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedChange {
    /// The component: `schemas/SimplePublicUpsertObject`.
    pub component: String,
    /// The versions (or other operations) of the contract that use it and that the import does
    /// not replace, oldest first.
    pub shared_with: Vec<String>,
    /// What differs, for people: `fields removed: warnings`.
    pub difference: String,
}

fn describe_shared_changes(changes: &[SharedChange]) -> String {
    let mut text = String::from(
        "the file defines components differently from the contract, and versions it does not \
         carry use them too; importing it would change those versions:",
    );
    for change in changes {
        text.push_str(&format!(
            "\n  - {} (shared with {}): {}",
            change.component,
            change.shared_with.join(", "),
            change.difference
        ));
    }
    text
}

/// A file of HubSpot's, read and recognized.
#[derive(Debug)]
pub struct Upstream {
    spec: Value,
    /// The contract the file is for.
    pub contract: &'static Contract,
    /// The versions of the operation the file carries, oldest first, one spelling each.
    pub versions: Vec<Spelling>,
}

/// A contract with the versions of an upstream file merged in.
#[derive(Debug)]
pub struct Import {
    /// The new contract.
    pub spec: Value,
    /// What was imported: each version, with the path the file spells and the contract's path.
    pub versions: Vec<Spelling>,
    /// Things a reviewer should know, such as a shared schema that changed for other versions.
    pub notes: Vec<String>,
}

/// Reads an upstream file and finds the contract and versions it carries.
pub fn read_upstream(text: &str) -> Result<Upstream, ImportError> {
    let spec: Value = serde_json::from_str(text).map_err(ImportError::NotJson)?;
    crate::normalize::require_openapi_30(&spec)
        .map_err(|e| ImportError::NotOpenApi30(e.to_string()))?;
    let Some(contract) = contract_of(&spec) else {
        return Err(ImportError::MissingOperation {
            looked_for: crate::contract::CONTRACTS
                .iter()
                .map(|c| c.spellings_for_people())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    // One spelling per version: the contract's own before the generic ones.
    let mut versions: Vec<Spelling> = Vec::new();
    for spelling in contract.versions_in(&spec) {
        if versions.iter().all(|s| s.version != spelling.version) {
            versions.push(spelling);
        }
    }
    Ok(Upstream {
        spec,
        contract,
        versions,
    })
}

/// One version's operation, out of the upstream file, with what it references.
struct Extracted {
    operation: Value,
    components: BTreeMap<(String, String), Value>,
}

impl Upstream {
    /// Replaces, in `current` (the contract as it is, `None` when there is none yet), every
    /// version the file carries, and keeps the others. `shared` says what to do with a component
    /// the file defines differently while other versions use it.
    pub fn merge_into(
        &self,
        current: Option<&Value>,
        shared: SharedComponents,
    ) -> Result<Import, ImportError> {
        let mut extracted: Vec<Extracted> = self
            .versions
            .iter()
            .map(|s| self.extract(s))
            .collect::<Result<_, _>>()?;
        if current.is_some_and(|c| !c.is_object()) {
            return Err(ImportError::BadContract);
        }
        let imported: BTreeSet<&ApiVersion> = self.versions.iter().map(|s| &s.version).collect();

        // The contract's own texts, wherever it already has the operation or component.
        for (spelling, one) in self.versions.iter().zip(&mut extracted) {
            let old = current.and_then(|c| self.operation_of(c, &spelling.version));
            keep_our_texts(&mut one.operation, old);
            for ((kind, name), item) in &mut one.components {
                let old = current.and_then(|c| c.get("components")?.get(kind)?.get(name));
                keep_our_component_texts(kind, name, item, old);
            }
        }

        // A component other versions use is replaced only when asked to.
        let changes = match current {
            Some(current) => self.shared_changes(current, &imported, &extracted),
            None => Vec::new(),
        };
        if !changes.is_empty() && shared == SharedComponents::Refuse {
            return Err(ImportError::SharedComponentsDiffer(changes));
        }
        let notes: Vec<String> = changes
            .iter()
            .map(|change| {
                format!(
                    "{} differs from the contract's ({}); {} share it and now use this file's \
                     definition",
                    change.component,
                    change.difference,
                    change.shared_with.join(", ")
                )
            })
            .collect();

        let mut spec = match current {
            Some(current) => current.clone(),
            None => {
                // A title of our own, not the file's.
                let mut fresh = json!({
                    "openapi": self.spec["openapi"],
                    "info": { "title": format!("HubSpot {}", self.contract.operation) },
                    "paths": {},
                });
                if let Some(servers) = self.spec.get("servers") {
                    fresh["servers"] = servers.clone();
                    for server in fresh["servers"].as_array_mut().into_iter().flatten() {
                        keep_our_texts(server, None);
                    }
                }
                fresh
            }
        };

        // Paths: drop every spelling of an imported version, then add the file's.
        let method = self.contract.method;
        let paths = object_entry(&mut spec, "paths");
        let replaced: Vec<String> = paths
            .keys()
            .filter(|p| {
                self.contract
                    .recognize(p)
                    .is_some_and(|s| imported.contains(&s.version))
            })
            .cloned()
            .collect();
        for path in replaced {
            if let Some(item) = paths.get_mut(&path).and_then(Value::as_object_mut) {
                item.remove(method);
                if item.keys().all(|k| !crate::normalize::is_method(k)) {
                    paths.remove(&path);
                }
            }
        }
        for (spelling, one) in self.versions.iter().zip(&extracted) {
            let item = paths
                .entry(spelling.path.clone())
                .or_insert_with(|| json!({}));
            if let Some(item) = item.as_object_mut() {
                item.insert(method.to_string(), one.operation.clone());
            }
        }

        // Components: the file's replace the contract's of the same name.
        let components = object_entry(&mut spec, "components");
        for one in &extracted {
            for ((kind, name), item) in &one.components {
                let kind_map = components.entry(kind.clone()).or_insert_with(|| json!({}));
                let Some(kind_map) = kind_map.as_object_mut() else {
                    return Err(ImportError::BadContract);
                };
                kind_map.insert(name.clone(), item.clone());
            }
        }
        prune_unreferenced_components(&mut spec);

        // Tags: those the operations use, as the contract describes them; a new one by its name
        // only, since its description would be the file's.
        let mut tag_objects: BTreeMap<String, Value> = BTreeMap::new();
        for tag in spec
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = tag.get("name").and_then(Value::as_str) {
                tag_objects.insert(name.to_string(), tag.clone());
            }
        }
        let used = used_tags(&spec);
        let tags: Vec<Value> = used
            .iter()
            .map(|name| {
                tag_objects
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| json!({ "name": name }))
            })
            .collect();
        if let Some(object) = spec.as_object_mut() {
            if tags.is_empty() {
                object.remove("tags");
            } else {
                object.insert("tags".to_string(), Value::Array(tags));
            }
        }

        // `info.version` names the newest generally available version the contract carries.
        if let Some(newest) = self
            .contract
            .versions_in(&spec)
            .into_iter()
            .rev()
            .find(|s| !s.version.is_pre_release())
        {
            object_entry(&mut spec, "info")
                .insert("version".to_string(), json!(newest.version.as_str()));
        }
        strip_null_examples(&mut spec);
        Ok(Import {
            spec,
            versions: self.versions.clone(),
            notes,
        })
    }

    /// The operation of `version` in `spec`, under any spelling.
    fn operation_of<'a>(&self, spec: &'a Value, version: &ApiVersion) -> Option<&'a Value> {
        self.contract
            .versions_in(spec)
            .into_iter()
            .find(|s| &s.version == version)
            .and_then(|s| {
                spec.get("paths")?
                    .get(&s.upstream_path)?
                    .get(self.contract.method)
            })
    }

    /// The components `extracted` brings that differ from `current`'s, in more than their texts,
    /// while operations the import does not replace use them. Security schemes do not shape the
    /// generated code and are left out.
    fn shared_changes(
        &self,
        current: &Value,
        imported: &BTreeSet<&ApiVersion>,
        extracted: &[Extracted],
    ) -> Vec<SharedChange> {
        let users = self.users_of_components(current, imported);
        let mut changes: Vec<SharedChange> = Vec::new();
        for one in extracted {
            for ((kind, name), item) in &one.components {
                let component = format!("{kind}/{name}");
                if kind == "securitySchemes" || changes.iter().any(|c| c.component == component) {
                    continue;
                }
                let Some(old) = current
                    .get("components")
                    .and_then(|c| c.get(kind))
                    .and_then(|k| k.get(name))
                else {
                    continue;
                };
                if without_texts(old) == without_texts(item) {
                    continue;
                }
                if let Some(shared_with) = users.get(&(kind.clone(), name.clone())) {
                    changes.push(SharedChange {
                        component,
                        shared_with: shared_with.clone(),
                        difference: difference(old, item),
                    });
                }
            }
        }
        changes
    }

    /// For each component of `spec`, the operations the import does not replace that use it,
    /// directly or through other components: each version of the contract's operation by its
    /// version, oldest first, then any other operation by its method and path.
    fn users_of_components(
        &self,
        spec: &Value,
        imported: &BTreeSet<&ApiVersion>,
    ) -> BTreeMap<(String, String), Vec<String>> {
        let method = self.contract.method;
        // Each operation, by its label, with the parameters shared at its path level.
        let mut versions: Vec<(ApiVersion, &Value, Option<&Value>)> = Vec::new();
        let mut others: Vec<(String, &Value, Option<&Value>)> = Vec::new();
        for (path, item) in spec
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let Some(item) = item.as_object() else {
                continue;
            };
            let shared = item.get("parameters");
            for (op_method, op) in item.iter().filter(|(k, _)| crate::normalize::is_method(k)) {
                match self.contract.recognize(path) {
                    Some(s) if op_method == method && imported.contains(&s.version) => {}
                    Some(s) if op_method == method => versions.push((s.version, op, shared)),
                    _ => others.push((
                        format!("{} {path}", op_method.to_ascii_uppercase()),
                        op,
                        shared,
                    )),
                }
            }
        }
        versions.sort_by(|a, b| a.0.cmp(&b.0));
        let labelled = versions
            .into_iter()
            .map(|(version, op, shared)| (version.to_string(), op, shared))
            .chain(others);
        let components = spec.get("components").cloned().unwrap_or_else(|| json!({}));
        let mut users: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for (label, op, shared) in labelled {
            for component in referenced_components(&components, std::iter::once(op).chain(shared)) {
                let labels = users.entry(component).or_default();
                if !labels.contains(&label) {
                    labels.push(label.clone());
                }
            }
        }
        users
    }

    fn extract(&self, spelling: &Spelling) -> Result<Extracted, ImportError> {
        let method = self.contract.method;
        let item = &self.spec["paths"][&spelling.upstream_path];
        let mut operation = item[method].clone();
        // Parameters shared at the path level belong to the operation too.
        if let Some(shared) = item.get("parameters").and_then(Value::as_array)
            && let Some(op) = operation.as_object_mut()
            && let Value::Array(own) = op.entry("parameters").or_insert(json!([]))
        {
            own.extend(shared.iter().cloned());
        }
        if spelling.generic {
            if let Some(Value::Array(params)) = operation.get_mut("parameters") {
                params.retain(|p| p.get("name").and_then(Value::as_str) != Some("objectType"));
            }
            // The generic operation id names the generic path; name the contract's instead.
            operation["operationId"] = json!(format!("{method}-{}", spelling.path));
        }

        let components = self
            .spec
            .get("components")
            .cloned()
            .unwrap_or_else(|| json!({}));
        if !declares_json_success(&operation, &components) {
            return Err(ImportError::NoSuccessAnswer {
                operation: self.contract.operation,
                version: spelling.version.to_string(),
                path: spelling.upstream_path.clone(),
            });
        }

        // Security: the operation's own requirements, else the document's.
        if operation.get("security").is_none()
            && let Some(security) = self.spec.get("security").filter(|s| !s.is_null())
            && let Some(op) = operation.as_object_mut()
        {
            op.insert("security".to_string(), security.clone());
        }

        let mut kept = BTreeMap::new();
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
                kept.insert((kind.to_string(), name.to_string()), item.clone());
                pending.push(item.clone());
            }
        }
        for scheme in security_schemes(&operation) {
            let item = components
                .get("securitySchemes")
                .and_then(|s| s.get(&scheme))
                .ok_or_else(|| ImportError::DanglingRef(format!("security scheme {scheme}")))?;
            kept.insert(("securitySchemes".to_string(), scheme), item.clone());
        }
        Ok(Extracted {
            operation,
            components: kept,
        })
    }
}

/// The object at `key` of `spec`, created when missing or not an object.
fn object_entry<'a>(spec: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !spec[key].is_object() {
        spec[key] = json!({});
    }
    spec[key]
        .as_object_mut()
        .expect("the value was just made an object")
}

/// Whether the operation has a 2xx answer with a JSON body.
fn declares_json_success(operation: &Value, components: &Value) -> bool {
    crate::normalize::success_responses(operation).any(|response| {
        let response = match response.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/components/responses/")
                .and_then(|name| components.get("responses")?.get(name)),
            None => Some(response),
        };
        response.is_some_and(|r| r.pointer("/content/application~1json/schema").is_some())
    })
}

/// The names of the security schemes an operation's requirements use.
fn security_schemes(operation: &Value) -> BTreeSet<String> {
    operation
        .get("security")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|r| r.keys().cloned())
        .collect()
}

/// The tags the operations of `spec` use.
fn used_tags(spec: &Value) -> BTreeSet<String> {
    each_operation(spec)
        .flat_map(|op| strings(op, "tags"))
        .collect()
}

/// The strings of the array `key` of `value`; none when it is absent or not an array.
fn strings<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = String> + 'a {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
}

fn each_operation(spec: &Value) -> impl Iterator<Item = &Value> {
    spec.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
        .filter_map(Value::as_object)
        .flat_map(|item| {
            item.iter()
                .filter(|(k, _)| crate::normalize::is_method(k))
                .map(|(_, v)| v)
        })
}

/// The components that `roots` (operations, and lists of parameters) reference, directly or
/// through other components, and the security schemes the operations require.
fn referenced_components<'a>(
    components: &'a Value,
    roots: impl IntoIterator<Item = &'a Value>,
) -> BTreeSet<(String, String)> {
    let roots: Vec<&Value> = roots.into_iter().collect();
    let mut keep = crate::normalize::reachable_components(components, roots.iter().copied());
    for root in roots {
        for scheme in security_schemes(root) {
            keep.insert(("securitySchemes".to_string(), scheme));
        }
    }
    keep
}

/// Drops the components no operation references, directly or through other components, and
/// the security schemes no operation requires.
fn prune_unreferenced_components(spec: &mut Value) {
    let components = spec.get("components").cloned().unwrap_or_else(|| json!({}));
    let keep = referenced_components(&components, each_operation(spec));
    if let Some(Value::Object(components)) = spec.get_mut("components") {
        for (kind, items) in components.iter_mut() {
            if let Some(items) = items.as_object_mut() {
                items.retain(|name, _| keep.contains(&(kind.clone(), name.clone())));
            }
        }
        components.retain(|_, items| items.as_object().is_none_or(|i| !i.is_empty()));
    }
}

/// What differs between two definitions of a component, for people: the fields added, removed
/// and changed, the fields that became required or optional, and any other key that changed.
fn difference(old: &Value, new: &Value) -> String {
    let (old, new) = (without_texts(old), without_texts(new));
    let empty = Map::new();
    let fields = |v: &Value| v.get("properties").and_then(Value::as_object).cloned();
    let (old_fields, new_fields) = (fields(&old), fields(&new));
    let (old_fields, new_fields) = (
        old_fields.as_ref().unwrap_or(&empty),
        new_fields.as_ref().unwrap_or(&empty),
    );
    let names = |keys: Vec<&String>| {
        keys.into_iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    let mut part = |label: &str, keys: Vec<&String>| {
        if !keys.is_empty() {
            parts.push(format!("{label}: {}", names(keys)));
        }
    };
    part(
        "fields added",
        new_fields
            .keys()
            .filter(|k| !old_fields.contains_key(*k))
            .collect(),
    );
    part(
        "fields removed",
        old_fields
            .keys()
            .filter(|k| !new_fields.contains_key(*k))
            .collect(),
    );
    part(
        "fields changed",
        new_fields
            .iter()
            .filter(|(k, v)| old_fields.get(*k).is_some_and(|o| o != *v))
            .map(|(k, _)| k)
            .collect(),
    );
    let required = |v: &Value| -> BTreeSet<String> { strings(v, "required").collect() };
    let (old_required, new_required) = (required(&old), required(&new));
    part(
        "now required",
        new_required.difference(&old_required).collect(),
    );
    part(
        "no longer required",
        old_required.difference(&new_required).collect(),
    );
    let keys: BTreeSet<&String> = old
        .as_object()
        .into_iter()
        .chain(new.as_object())
        .flat_map(|m| m.keys())
        .filter(|k| !matches!(k.as_str(), "properties" | "required"))
        .collect();
    part(
        "also changed",
        keys.into_iter()
            .filter(|k| old.get(k.as_str()) != new.get(k.as_str()))
            .collect(),
    );
    if parts.is_empty() {
        "changed".to_string()
    } else {
        parts.join("; ")
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
