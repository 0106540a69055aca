//! The property schema, the records and the upsert semantics, independent of HTTP.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use hubspot_projects_api::types::{
    SimplePublicObjectBatchInputUpsert, SimplePublicUpsertObject, StandardError,
};

use crate::config::PropertyDef;

/// The most inputs a batch may hold.
pub(crate) const MAX_BATCH_INPUTS: usize = 100;

/// Properties HubSpot maintains itself: readable, never writable.
const SYSTEM_PROPERTIES: [&str; 3] = ["hs_object_id", "hs_createdate", "hs_lastmodifieddate"];

/// HubSpot's built-in project properties held by default, none of them unique.
const BUILT_IN_PROPERTIES: [&str; 6] = [
    "hs_name",
    "hs_description",
    "hs_pipeline",
    "hs_pipeline_stage",
    "hs_target_due_date",
    "hubspot_owner_id",
];

/// The custom unique property every default schema holds.
pub(crate) const DEFAULT_UNIQUE_PROPERTY: &str = "project_code";

/// FNV-1a: the maps here hold short keys and are hit a dozen times per input, where SipHash
/// costs more than the rest of the lookup. A local emulator need not resist hash flooding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        // FNV's low bits mix poorly; finish with murmur3's avalanche, as hashbrown picks
        // buckets from them.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A hash map keyed with [`Fnv`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;
type FastSet<K> = HashSet<K, BuildHasherDefault<Fnv>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PropKind {
    Plain,
    Unique,
    ReadOnly,
}

/// The known properties of projects.
#[derive(Debug)]
pub(crate) struct Schema {
    props: FastMap<String, PropKind>,
}

impl Schema {
    pub(crate) fn new(extra: &[PropertyDef]) -> Self {
        let mut props = FastMap::default();
        for name in SYSTEM_PROPERTIES {
            props.insert(name.to_string(), PropKind::ReadOnly);
        }
        for name in BUILT_IN_PROPERTIES {
            props.insert(name.to_string(), PropKind::Plain);
        }
        props.insert(DEFAULT_UNIQUE_PROPERTY.to_string(), PropKind::Unique);
        for def in extra {
            let kind = if def.unique {
                PropKind::Unique
            } else {
                PropKind::Plain
            };
            props.insert(def.name.clone(), kind);
        }
        Self { props }
    }

    fn kind(&self, name: &str) -> Option<PropKind> {
        self.props.get(name).copied()
    }

    /// Whether `name` is a known property.
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.props.contains_key(name)
    }

    /// Checks an upsert's `idProperty`, with HubSpot's wording when it cannot be used.
    fn check_id_property(&self, name: &str) -> Result<(), Rejection> {
        self.require_unique(
            name,
            "Unable to perform update/upsert by non-unique project property",
            "Unable to perform update/upsert by non-unique or non-existent project property",
        )
    }

    /// Accepts a unique property; refuses others with `non_unique` or `unknown`, followed by
    /// the property's name, naming it in the context as `idProperty`.
    fn require_unique(&self, name: &str, non_unique: &str, unknown: &str) -> Result<(), Rejection> {
        let wording = match self.kind(name) {
            Some(PropKind::Unique) => return Ok(()),
            Some(_) => non_unique,
            None => unknown,
        };
        Err(Rejection::validation(
            format!("{wording} {name}"),
            [("idProperty", vec![name.to_string()])],
        ))
    }
}

/// A whole request refused with a 4xx `Error` body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rejection {
    pub status: u16,
    pub category: &'static str,
    pub message: String,
    pub context: BTreeMap<String, Vec<String>>,
}

impl Rejection {
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
        }
    }
}

/// One stored project.
#[derive(Clone, Debug)]
pub(crate) struct StoredRecord {
    pub id: u64,
    pub props: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The id and timestamps as property values, formatted once rather than per answer.
    id_text: String,
    created_text: String,
    updated_text: String,
}

impl StoredRecord {
    fn new(id: u64, now: DateTime<Utc>) -> Self {
        let now_text = hubspot_time(now);
        Self {
            id,
            props: BTreeMap::new(),
            created_at: now,
            updated_at: now,
            id_text: id.to_string(),
            created_text: now_text.clone(),
            updated_text: now_text,
        }
    }

    /// The record id, as HubSpot writes it.
    pub(crate) fn id_text(&self) -> &str {
        &self.id_text
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        // `updatedAt` always moves on, even within one millisecond.
        self.updated_at = now.max(self.updated_at + TimeDelta::milliseconds(1));
        self.updated_text = hubspot_time(self.updated_at);
    }

    /// The property map HubSpot answers with: the stored values plus the system properties.
    pub(crate) fn api_properties(&self) -> BTreeMap<String, Option<String>> {
        let mut out: BTreeMap<String, Option<String>> = self
            .props
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        self.add_system_properties(&mut out);
        out
    }

    pub(crate) fn add_system_properties(&self, out: &mut BTreeMap<String, Option<String>>) {
        out.insert("hs_object_id".into(), Some(self.id_text.clone()));
        out.insert("hs_createdate".into(), Some(self.created_text.clone()));
        out.insert(
            "hs_lastmodifieddate".into(),
            Some(self.updated_text.clone()),
        );
    }

    /// The value of a property, system properties included.
    pub(crate) fn value(&self, name: &str) -> Option<String> {
        match name {
            "hs_object_id" => Some(self.id_text.clone()),
            "hs_createdate" => Some(self.created_text.clone()),
            "hs_lastmodifieddate" => Some(self.updated_text.clone()),
            other => self.props.get(other).cloned(),
        }
    }
}

/// A timestamp as HubSpot writes it in property values.
fn hubspot_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The current time, truncated to milliseconds as HubSpot keeps it.
pub(crate) fn now_millis() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// The outcome of a batch that was not rejected as a whole.
#[derive(Debug, Default)]
pub(crate) struct BatchOutcome {
    pub results: Vec<SimplePublicUpsertObject>,
    pub errors: Vec<StandardError>,
}

/// The records and their unique-value indexes.
#[derive(Debug, Default)]
pub(crate) struct Store {
    records: FastMap<u64, StoredRecord>,
    /// Unique property name → value → record id.
    unique: FastMap<String, FastMap<String, u64>>,
    last_id: u64,
}

/// What the checks done before taking the store's lock found about one input.
pub(crate) enum Precheck {
    /// The input may be written.
    Valid,
    /// The input fails on its own, with this error.
    Failed(StandardError),
}

/// Checks a batch against the schema, without touching the records.
///
/// Returns the whole-batch rejection HubSpot answers with a 400, or a verdict per input.
pub(crate) fn precheck(
    schema: &Schema,
    inputs: &[SimplePublicObjectBatchInputUpsert],
) -> Result<Vec<Precheck>, Rejection> {
    if inputs.len() > MAX_BATCH_INPUTS {
        return Err(Rejection::validation(
            format!(
                "Batch input limit exceeded: {} inputs were given, the limit is {MAX_BATCH_INPUTS}",
                inputs.len()
            ),
            [],
        ));
    }
    for input in inputs {
        if let Some(id_property) = &input.id_property {
            schema.check_id_property(id_property)?;
        }
    }
    let mut seen: FastSet<(&str, &str)> =
        FastSet::with_capacity_and_hasher(inputs.len(), Default::default());
    let mut duplicates: Vec<String> = Vec::new();
    for input in inputs {
        let key = (
            input.id_property.as_deref().unwrap_or("hs_object_id"),
            input.id.as_str(),
        );
        if !seen.insert(key) && !duplicates.contains(&input.id) {
            duplicates.push(input.id.clone());
        }
    }
    if !duplicates.is_empty() {
        return Err(duplicate_rejection(duplicates));
    }
    Ok(inputs
        .iter()
        .map(|input| precheck_input(schema, input))
        .collect())
}

fn duplicate_rejection(ids: Vec<String>) -> Rejection {
    Rejection::validation(
        format!(
            "Duplicate IDs found in batch input: [{}]. IDs must be unique",
            ids.join(", ")
        ),
        [("ids", ids)],
    )
}

fn precheck_input(schema: &Schema, input: &SimplePublicObjectBatchInputUpsert) -> Precheck {
    if input.id.is_empty() {
        return Precheck::Failed(input_error(
            input,
            "VALIDATION_ERROR",
            "The id of an input must not be empty".to_string(),
            &[],
        ));
    }
    let mut unknown: Vec<&str> = Vec::new();
    let mut read_only: Vec<&str> = Vec::new();
    for name in input.properties.keys() {
        match schema.kind(name) {
            None => unknown.push(name),
            Some(PropKind::ReadOnly) => read_only.push(name),
            Some(_) => {}
        }
    }
    if unknown.is_empty() && read_only.is_empty() {
        return Precheck::Valid;
    }
    let mut details = Vec::new();
    for name in &unknown {
        let text = format!("Property \"{name}\" does not exist");
        details.push(serde_json::json!({
            "isValid": false,
            "message": text,
            "error": "PROPERTY_DOESNT_EXIST",
            "name": name,
            "localizedErrorMessage": text,
        }));
    }
    for name in &read_only {
        let text = format!("\"{name}\" is a read only property; its value cannot be set.");
        details.push(serde_json::json!({
            "isValid": false,
            "message": text,
            "error": "READ_ONLY_VALUE",
            "name": name,
            "localizedErrorMessage": text,
        }));
    }
    let names: Vec<&str> = unknown.iter().chain(read_only.iter()).copied().collect();
    Precheck::Failed(input_error(
        input,
        "VALIDATION_ERROR",
        format!(
            "Property values were not valid: {}",
            serde_json::Value::Array(details)
        ),
        &names,
    ))
}

/// A per-input error of a 207, with the context the client correlates it by.
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

impl Store {
    /// The record an input designates, if it exists.
    fn resolve(&self, id_property: Option<&str>, id: &str) -> Option<u64> {
        match id_property {
            None | Some("hs_object_id") => {
                let n: u64 = id.parse().ok()?;
                self.records.contains_key(&n).then_some(n)
            }
            Some(name) => self.unique.get(name)?.get(id).copied(),
        }
    }

    /// Upserts a prechecked batch; `checks` holds one verdict per input.
    ///
    /// Either rejects the whole batch (two inputs naming one record) without writing, or writes
    /// every valid input and reports the others.
    pub(crate) fn upsert(
        &mut self,
        schema: &Schema,
        inputs: Vec<SimplePublicObjectBatchInputUpsert>,
        checks: Vec<Precheck>,
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome, Rejection> {
        // Resolve every input first, so that a rejected batch writes nothing.
        let mut targets: Vec<Option<u64>> = Vec::with_capacity(inputs.len());
        let mut seen: FastSet<u64> =
            FastSet::with_capacity_and_hasher(inputs.len(), Default::default());
        let mut duplicates: Vec<String> = Vec::new();
        for (input, check) in inputs.iter().zip(&checks) {
            let target = match check {
                Precheck::Valid => self.resolve(input.id_property.as_deref(), &input.id),
                Precheck::Failed(_) => None,
            };
            if let Some(record) = target
                && !seen.insert(record)
            {
                duplicates.push(input.id.clone());
            }
            targets.push(target);
        }
        if !duplicates.is_empty() {
            return Err(duplicate_rejection(duplicates));
        }

        let mut outcome = BatchOutcome {
            results: Vec::with_capacity(inputs.len()),
            errors: Vec::new(),
        };
        for ((input, check), target) in inputs.into_iter().zip(checks).zip(targets) {
            if let Precheck::Failed(error) = check {
                outcome.errors.push(error);
                continue;
            }
            match self.write(schema, &input, target, now) {
                Ok(result) => outcome.results.push(result),
                Err(error) => outcome.errors.push(*error),
            }
        }
        Ok(outcome)
    }

    /// Writes one valid input: creates or updates its record.
    fn write(
        &mut self,
        schema: &Schema,
        input: &SimplePublicObjectBatchInputUpsert,
        target: Option<u64>,
        now: DateTime<Utc>,
    ) -> Result<SimplePublicUpsertObject, Box<StandardError>> {
        let by_record_id = matches!(input.id_property.as_deref(), None | Some("hs_object_id"));
        if target.is_none() && by_record_id {
            return Err(Box::new(input_error(
                input,
                "OBJECT_NOT_FOUND",
                format!(
                    "No project with id {} exists. Without idProperty the id is a record id, and only existing records can be updated.",
                    input.id
                ),
                &[],
            )));
        }
        let record_id = target.unwrap_or(self.last_id + 1);

        // The values to write: the input's properties, with the id property set to the id.
        let id_name = input.id_property.as_deref().filter(|_| !by_record_id);
        let mut writes: Vec<(&str, &str, bool)> = Vec::with_capacity(input.properties.len() + 1);
        for (name, value) in &input.properties {
            if Some(name.as_str()) != id_name {
                let unique = schema.kind(name) == Some(PropKind::Unique);
                writes.push((name, value, unique));
            }
        }
        if let Some(name) = id_name {
            writes.push((name, input.id.as_str(), true));
        }

        // Unique values must not belong to another record.
        for (name, value, unique) in &writes {
            if !*unique || value.is_empty() {
                continue;
            }
            if let Some(owner) = self.unique.get(*name).and_then(|m| m.get(*value))
                && *owner != record_id
            {
                let text =
                    format!("{value} already has that value on another project (id {owner})");
                let detail = serde_json::json!([{
                    "isValid": false,
                    "message": text,
                    "error": "DUPLICATE_VALUE",
                    "name": name,
                    "localizedErrorMessage": text,
                }]);
                return Err(Box::new(input_error(
                    input,
                    "VALIDATION_ERROR",
                    format!("Property values were not valid: {detail}"),
                    &[name],
                )));
            }
        }

        let is_new = target.is_none();
        if is_new {
            self.last_id = record_id;
            self.records
                .insert(record_id, StoredRecord::new(record_id, now));
        }
        let Some(record) = self.records.get_mut(&record_id) else {
            // Unreachable: the record was resolved or inserted above under the same lock.
            return Err(Box::new(input_error(
                input,
                "INTERNAL_ERROR",
                "The record vanished while it was written".to_string(),
                &[],
            )));
        };
        if !is_new {
            record.touch(now);
        }
        for (name, value, unique) in writes {
            // Only a changed value allocates; rewriting the same value is free.
            let (old, new) = if value.is_empty() {
                // HubSpot clears a property set to the empty string.
                (record.props.remove(name), None)
            } else if let Some(slot) = record.props.get_mut(name) {
                if slot == value {
                    continue;
                }
                (
                    Some(std::mem::replace(slot, value.to_string())),
                    Some(value),
                )
            } else {
                record.props.insert(name.to_string(), value.to_string());
                (None, Some(value))
            };
            if unique {
                let index = match self.unique.get_mut(name) {
                    Some(index) => index,
                    None => self.unique.entry(name.to_string()).or_default(),
                };
                if let Some(old) = old {
                    index.remove(&old);
                }
                if let Some(new) = new {
                    index.insert(new.to_string(), record_id);
                }
            }
        }
        Ok(SimplePublicUpsertObject {
            archived: false,
            archived_at: None,
            created_at: record.created_at,
            id: record.id_text.clone(),
            new: is_new,
            object_write_trace_id: input.object_write_trace_id.clone(),
            properties: record.api_properties(),
            properties_with_history: BTreeMap::new(),
            updated_at: record.updated_at,
            url: None,
            warnings: Vec::new(),
        })
    }

    /// Finds a record by its id, or by the value of a unique property.
    pub(crate) fn find(&self, id_property: Option<&str>, id: &str) -> Option<&StoredRecord> {
        let record = self.resolve(id_property, id)?;
        self.records.get(&record)
    }

    /// Every record, in id order.
    pub(crate) fn all(&self) -> Vec<&StoredRecord> {
        let mut all: Vec<&StoredRecord> = self.records.values().collect();
        all.sort_unstable_by_key(|r| r.id);
        all
    }

    /// The number of records.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }
}

/// Checks the `idProperty` of a read: the record id, or a unique property.
pub(crate) fn check_read_id_property(schema: &Schema, name: &str) -> Result<(), Rejection> {
    if name == "hs_object_id" {
        return Ok(());
    }
    schema.require_unique(
        name,
        "Unable to read by non-unique project property",
        "Unable to read by non-existent project property",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        id: &str,
        id_property: Option<&str>,
        props: &[(&str, &str)],
    ) -> SimplePublicObjectBatchInputUpsert {
        SimplePublicObjectBatchInputUpsert {
            id: id.into(),
            id_property: id_property.map(Into::into),
            object_write_trace_id: Some(format!("t-{id}")),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn run(
        store: &mut Store,
        schema: &Schema,
        inputs: Vec<SimplePublicObjectBatchInputUpsert>,
    ) -> Result<BatchOutcome, Rejection> {
        let checks = precheck(schema, &inputs)?;
        store.upsert(schema, inputs, checks, now_millis())
    }

    #[test]
    fn unique_value_moved_to_another_record_is_refused() {
        let schema = Schema::new(&[PropertyDef {
            name: "ext".into(),
            unique: true,
        }]);
        let mut store = Store::default();
        let a = input("A", Some("project_code"), &[("ext", "X")]);
        let b = input("B", Some("project_code"), &[("ext", "X")]);
        let out = run(&mut store, &schema, vec![a, b]).unwrap();
        assert_eq!(out.results.len(), 1);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].context["propertyName"], vec!["ext"]);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn two_keys_naming_one_record_reject_the_batch_without_writing() {
        let schema = Schema::new(&[]);
        let mut store = Store::default();
        run(
            &mut store,
            &schema,
            vec![input("A", Some("project_code"), &[])],
        )
        .unwrap();
        let by_code = input("A", Some("project_code"), &[("hs_name", "x")]);
        let by_id = input("1", None, &[("hs_name", "y")]);
        let err = run(&mut store, &schema, vec![by_code, by_id]).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(!store.find(None, "1").unwrap().props.contains_key("hs_name"));
    }

    #[test]
    fn empty_value_clears_a_property_and_frees_a_unique_value() {
        let schema = Schema::new(&[PropertyDef {
            name: "ext".into(),
            unique: true,
        }]);
        let mut store = Store::default();
        run(
            &mut store,
            &schema,
            vec![input(
                "A",
                Some("project_code"),
                &[("ext", "X"), ("hs_name", "n")],
            )],
        )
        .unwrap();
        run(
            &mut store,
            &schema,
            vec![input(
                "A",
                Some("project_code"),
                &[("ext", ""), ("hs_name", "")],
            )],
        )
        .unwrap();
        assert!(store.find(Some("ext"), "X").is_none());
        let record = store.find(Some("project_code"), "A").unwrap();
        assert!(!record.props.contains_key("hs_name"));
    }
}
