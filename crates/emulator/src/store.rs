//! The records and the upsert semantics: which record an input names, what a batch writes,
//! and when a batch is refused, independent of HTTP.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hubspot_projects_api::types::{
    SimplePublicObjectBatchInputUpsert, SimplePublicUpsertObject, StandardError,
};

use crate::config::BatchErrors;
use crate::error_shapes::{self, PropertyProblem, Rejection};
use crate::props::{PropId, Props};
use crate::schema::{Access, Schema};
use crate::time::{from_millis, hubspot_time};
use crate::unique::{UniqueIndex, value_hash};
use crate::values::check_value;

/// The most inputs a batch may hold.
pub(crate) const MAX_BATCH_INPUTS: usize = 100;

/// One stored project; its id is its place in the store.
#[derive(Clone, Debug)]
struct StoredRecord {
    props: Props,
    /// Milliseconds since the Unix epoch.
    created_ms: i64,
    updated_ms: i64,
}

impl StoredRecord {
    fn new(now_ms: i64) -> Self {
        Self {
            props: Props::default(),
            created_ms: now_ms,
            updated_ms: now_ms,
        }
    }

    fn touch(&mut self, now_ms: i64) {
        // `updatedAt` always moves on, even within one millisecond.
        self.updated_ms = now_ms.max(self.updated_ms.saturating_add(1));
    }
}

/// A stored project with its id and the schema naming its properties.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordRef<'a> {
    id: u64,
    record: &'a StoredRecord,
    schema: &'a Schema,
}

impl RecordRef<'_> {
    /// The record id, as HubSpot writes it.
    pub(crate) fn id_text(&self) -> String {
        self.id.to_string()
    }

    /// When the record was created.
    pub(crate) fn created_at(&self) -> DateTime<Utc> {
        from_millis(self.record.created_ms)
    }

    /// When the record was last updated.
    pub(crate) fn updated_at(&self) -> DateTime<Utc> {
        from_millis(self.record.updated_ms)
    }

    /// The stored values (system properties left out), by name.
    pub(crate) fn properties(&self) -> BTreeMap<&str, &str> {
        self.record
            .props
            .iter()
            .map(|(id, value)| (self.schema.name(id), value))
            .collect()
    }

    /// The stored values (system properties left out), by name, as owned strings.
    pub(crate) fn owned_properties(&self) -> BTreeMap<String, String> {
        self.record
            .props
            .iter()
            .map(|(id, value)| (self.schema.name(id).to_string(), value.to_string()))
            .collect()
    }

    /// The property map HubSpot answers with: the stored values plus the system properties.
    pub(crate) fn api_properties(&self) -> BTreeMap<String, Option<String>> {
        let mut out: BTreeMap<String, Option<String>> = self
            .record
            .props
            .iter()
            .map(|(id, value)| (self.schema.name(id).to_string(), Some(value.to_string())))
            .collect();
        self.add_system_properties(&mut out);
        out
    }

    /// Sets the system properties: the record id and its timestamps.
    pub(crate) fn add_system_properties(&self, out: &mut BTreeMap<String, Option<String>>) {
        out.insert("hs_object_id".into(), Some(self.id_text()));
        out.insert(
            "hs_createdate".into(),
            Some(hubspot_time(self.created_at())),
        );
        out.insert(
            "hs_lastmodifieddate".into(),
            Some(hubspot_time(self.updated_at())),
        );
    }

    /// The value of a property, system properties included.
    pub(crate) fn value(&self, name: &str) -> Option<String> {
        match name {
            "hs_object_id" => Some(self.id_text()),
            "hs_createdate" => Some(hubspot_time(self.created_at())),
            "hs_lastmodifieddate" => Some(hubspot_time(self.updated_at())),
            other => {
                let (id, _) = self.schema.get(other)?;
                self.record.props.get(id).map(str::to_string)
            }
        }
    }
}

/// The outcome of a batch that was not rejected as a whole.
#[derive(Debug, Default)]
pub(crate) struct BatchOutcome {
    pub results: Vec<SimplePublicUpsertObject>,
    pub errors: Vec<StandardError>,
}

/// What the checks done before taking the store's lock found about one input.
#[derive(Debug)]
pub(crate) enum Precheck {
    /// The input may be written.
    Valid,
    /// The input fails on its own, with this error (only with [`BatchErrors::PerInput`]).
    Failed(StandardError),
}

/// Checks a batch against the schema, without touching the records.
///
/// Returns the whole-batch rejection HubSpot answers with a 400, or a verdict per input. With
/// [`BatchErrors::Whole`], the first input whose values HubSpot refuses rejects the batch,
/// reporting that input's problems; with [`BatchErrors::PerInput`] it fails on its own.
pub(crate) fn precheck(
    schema: &Schema,
    inputs: &[SimplePublicObjectBatchInputUpsert],
    mode: BatchErrors,
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
            check_id_property(schema, id_property)?;
        }
    }
    // Two inputs with the same key name one record. Keys by record id and keys by value can
    // still meet on one record; the store finds those once it has resolved them.
    let mut seen: foldhash::HashSet<(Option<&str>, &str)> =
        foldhash::HashSet::with_capacity_and_hasher(inputs.len(), Default::default());
    let mut duplicates: Vec<String> = Vec::new();
    for input in inputs {
        let key = (input.id_property.as_deref(), input.id.as_str());
        if !seen.insert(key) && !duplicates.contains(&input.id) {
            duplicates.push(input.id.clone());
        }
    }
    if !duplicates.is_empty() {
        return Err(duplicate_rejection(duplicates));
    }
    inputs
        .iter()
        .map(|input| match input_problems(schema, input) {
            InputProblems::None => Ok(Precheck::Valid),
            InputProblems::EmptyId => match mode {
                BatchErrors::Whole => Err(Rejection::validation(EMPTY_ID.to_string(), [])),
                BatchErrors::PerInput => Ok(Precheck::Failed(error_shapes::input_error(
                    input,
                    "VALIDATION_ERROR",
                    EMPTY_ID.to_string(),
                    &[],
                ))),
            },
            InputProblems::Properties(problems) => match mode {
                BatchErrors::Whole => Err(Rejection::property_values(&problems)),
                BatchErrors::PerInput => Ok(Precheck::Failed(error_shapes::property_values_error(
                    input, &problems,
                ))),
            },
        })
        .collect()
}

const EMPTY_ID: &str = "The id of an input must not be empty";

/// Checks an upsert's `idProperty`, with HubSpot's wording when it cannot be used.
///
/// `hs_object_id` is refused like any property without unique values, as HubSpot refuses it:
/// an input names a record by its record id by leaving `idProperty` out.
fn check_id_property(schema: &Schema, name: &str) -> Result<(), Rejection> {
    require_unique(
        schema,
        name,
        "Unable to perform update/upsert by non-unique project property",
        "Unable to perform update/upsert by non-unique or non-existent project property",
    )
}

/// Checks the `idProperty` of a read: the record id, or a unique property.
pub(crate) fn check_read_id_property(schema: &Schema, name: &str) -> Result<(), Rejection> {
    if name == "hs_object_id" {
        return Ok(());
    }
    require_unique(
        schema,
        name,
        "Unable to read by non-unique project property",
        "Unable to read by non-existent project property",
    )
}

/// Accepts a unique property; refuses others with `non_unique` or `unknown`, followed by the
/// property's name, naming it in the context as `idProperty`.
fn require_unique(
    schema: &Schema,
    name: &str,
    non_unique: &str,
    unknown: &str,
) -> Result<(), Rejection> {
    let wording = match schema.access(name) {
        Some(Access::Unique) => return Ok(()),
        Some(_) => non_unique,
        None => unknown,
    };
    Err(Rejection::validation(
        format!("{wording} {name}"),
        [("idProperty", vec![name.to_string()])],
    ))
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

/// What is wrong with one input's data, if anything.
enum InputProblems {
    None,
    EmptyId,
    Properties(Vec<PropertyProblem>),
}

/// The `(name, value)` pairs an input writes: its properties in name order, the id property
/// left out, then the id property set to the input's id.
fn input_values(input: &SimplePublicObjectBatchInputUpsert) -> impl Iterator<Item = (&str, &str)> {
    let id_property = input.id_property.as_deref();
    input
        .properties
        .iter()
        .filter(move |(name, _)| Some(name.as_str()) != id_property)
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain(id_property.map(|name| (name, input.id.as_str())))
}

/// Every property of `input` that cannot be written, in name order, then its id when the id
/// property refuses it.
fn input_problems(schema: &Schema, input: &SimplePublicObjectBatchInputUpsert) -> InputProblems {
    if input.id.is_empty() {
        return InputProblems::EmptyId;
    }
    let mut problems = Vec::new();
    for (name, value) in input_values(input) {
        let problem = match schema.get(name) {
            None => Some(PropertyProblem::unknown(name, value)),
            Some((_, property)) if property.access == Access::ReadOnly => {
                Some(PropertyProblem::read_only(name, value))
            }
            Some((_, property)) => check_value(&property.property_type, value)
                .err()
                .map(|invalid| PropertyProblem::invalid(name, value, invalid)),
        };
        problems.extend(problem);
    }
    if problems.is_empty() {
        InputProblems::None
    } else {
        InputProblems::Properties(problems)
    }
}

/// Why one valid input could not be written.
enum WriteFailure {
    /// It names a record by record id, and there is none.
    NotFound,
    /// It would give a unique value to a second record.
    Conflict {
        property: String,
        value: String,
        owner: u64,
    },
}

/// What one write changed, so that a refused batch can be taken back.
struct Undo {
    record: u64,
    /// Whether the write created the record.
    created: bool,
    /// The record's values before, when the write changed them.
    props_before: Option<Props>,
    /// The record's update time before.
    updated_before: i64,
    /// The unique index changes made: `(old hash, new hash)`.
    moves: Vec<(Option<u64>, Option<u64>)>,
}

/// The records and their unique-value index.
#[derive(Debug)]
pub(crate) struct Store {
    schema: Schema,
    /// Record ids are given in order from 1 and records are never removed: record `n` is at
    /// index `n - 1`.
    records: Vec<StoredRecord>,
    unique: UniqueIndex,
}

impl Store {
    /// An empty store of records with `schema`'s properties.
    pub(crate) fn new(schema: Schema) -> Self {
        Self {
            schema,
            records: Vec::new(),
            unique: UniqueIndex::default(),
        }
    }

    /// Where record `id` is in `records`.
    fn slot(id: u64) -> Option<usize> {
        usize::try_from(id.checked_sub(1)?).ok()
    }

    fn record(&self, id: u64) -> Option<&StoredRecord> {
        self.records.get(Self::slot(id)?)
    }

    fn record_mut(&mut self, id: u64) -> Option<&mut StoredRecord> {
        self.records.get_mut(Self::slot(id)?)
    }

    /// The id the next new record gets.
    fn next_id(&self) -> u64 {
        self.records.len() as u64 + 1
    }

    /// The record holding `value` in the unique property `id`.
    fn unique_owner(&self, id: PropId, value: &str) -> Option<u64> {
        self.unique
            .candidates(value_hash(id, value))
            .find(|&owner| self.record(owner).and_then(|r| r.props.get(id)) == Some(value))
    }

    /// The record an input names, if it exists: by record id without `idProperty`, otherwise
    /// by the value of that unique property.
    fn resolve(&self, id_property: Option<&str>, id: &str) -> Option<u64> {
        match id_property {
            None => {
                let n: u64 = id.parse().ok()?;
                self.record(n).map(|_| n)
            }
            Some(name) => match self.schema.get(name)? {
                (prop, property) if property.access == Access::Unique => {
                    self.unique_owner(prop, id)
                }
                _ => None,
            },
        }
    }

    /// Upserts a prechecked batch; `checks` holds one verdict per input.
    ///
    /// Rejects the whole batch without writing when two inputs name one record, and, with
    /// [`BatchErrors::Whole`], when a write would give a unique value to a second record (a
    /// 409): writes already made for the batch are taken back. Otherwise writes every valid
    /// input and reports the others; an input naming a missing record by record id fails on
    /// its own in either mode.
    pub(crate) fn upsert(
        &mut self,
        inputs: Vec<SimplePublicObjectBatchInputUpsert>,
        checks: Vec<Precheck>,
        mode: BatchErrors,
        now: DateTime<Utc>,
    ) -> Result<BatchOutcome, Rejection> {
        // Resolve every input first, so that a rejected batch writes nothing.
        let mut targets: Vec<Option<u64>> = Vec::with_capacity(inputs.len());
        let mut seen: foldhash::HashSet<u64> =
            foldhash::HashSet::with_capacity_and_hasher(inputs.len(), Default::default());
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

        let now_ms = now.timestamp_millis();
        let mut outcome = BatchOutcome {
            results: Vec::with_capacity(inputs.len()),
            errors: Vec::new(),
        };
        let mut undo: Vec<Undo> = Vec::new();
        for ((input, check), target) in inputs.into_iter().zip(checks).zip(targets) {
            if let Precheck::Failed(error) = check {
                outcome.errors.push(error);
                continue;
            }
            match self.write(&input, target, now_ms) {
                Ok((result, done)) => {
                    outcome.results.push(result);
                    if mode == BatchErrors::Whole {
                        undo.push(done);
                    }
                }
                Err(WriteFailure::NotFound) => outcome.errors.push(error_shapes::input_error(
                    &input,
                    "OBJECT_NOT_FOUND",
                    format!(
                        "No project with id {} exists. Without idProperty the id is a record id, and only existing records can be updated.",
                        input.id
                    ),
                    &[],
                )),
                Err(WriteFailure::Conflict {
                    property,
                    value,
                    owner,
                }) => match mode {
                    BatchErrors::Whole => {
                        self.take_back(undo);
                        return Err(Rejection::conflict(&property, &value, owner));
                    }
                    BatchErrors::PerInput => {
                        let problem = PropertyProblem {
                            message: format!(
                                "{value} already has that value on another project (id {owner})"
                            ),
                            name: property,
                            value,
                            code: "DUPLICATE_VALUE",
                        };
                        outcome
                            .errors
                            .push(error_shapes::property_values_error(&input, &[problem]));
                    }
                },
            }
        }
        Ok(outcome)
    }

    /// Takes back the writes of a refused batch, latest first.
    fn take_back(&mut self, undo: Vec<Undo>) {
        for Undo {
            record,
            created,
            props_before,
            updated_before,
            moves,
        } in undo.into_iter().rev()
        {
            for (old, new) in moves.into_iter().rev() {
                if let Some(new) = new {
                    self.unique.remove(new, record);
                }
                if let Some(old) = old {
                    self.unique.insert(old, record);
                }
            }
            if created {
                // The newest record, as writes are taken back in reverse order.
                self.records.pop();
            } else if let Some(stored) = self.record_mut(record) {
                if let Some(props) = props_before {
                    stored.props = props;
                }
                stored.updated_ms = updated_before;
            }
        }
    }

    /// Writes one valid input: creates or updates its record.
    fn write(
        &mut self,
        input: &SimplePublicObjectBatchInputUpsert,
        target: Option<u64>,
        now_ms: i64,
    ) -> Result<(SimplePublicUpsertObject, Undo), WriteFailure> {
        if target.is_none() && input.id_property.is_none() {
            return Err(WriteFailure::NotFound);
        }
        let record_id = target.unwrap_or_else(|| self.next_id());

        // The values to write. Every name was checked against the schema before.
        let mut writes: Vec<(PropId, &str, &str, bool)> =
            Vec::with_capacity(input.properties.len() + 1);
        for (name, value) in input_values(input) {
            if let Some((prop, property)) = self.schema.get(name) {
                writes.push((prop, name, value, property.access == Access::Unique));
            }
        }

        // Unique values must not belong to another record.
        for (prop, name, value, unique) in &writes {
            if !*unique || value.is_empty() {
                continue;
            }
            if let Some(owner) = self.unique_owner(*prop, value)
                && owner != record_id
            {
                return Err(WriteFailure::Conflict {
                    property: name.to_string(),
                    value: value.to_string(),
                    owner,
                });
            }
        }

        let is_new = target.is_none();
        if is_new {
            self.records.push(StoredRecord::new(now_ms));
        }
        let Some(record) = self.record_mut(record_id) else {
            // Unreachable: the record was resolved or inserted above under the same lock.
            return Err(WriteFailure::NotFound);
        };
        let before_updated = record.updated_ms;
        if !is_new {
            record.touch(now_ms);
        }
        // Only changed values are written; rewriting the same value is free.
        let mut changes: Vec<(PropId, &str)> = Vec::with_capacity(writes.len());
        let mut moves: Vec<(Option<u64>, Option<u64>)> = Vec::new();
        for (prop, _, value, unique) in writes {
            let old = record.props.get(prop);
            if old == Some(value) || (old.is_none() && value.is_empty()) {
                continue;
            }
            if unique {
                // HubSpot clears a property set to the empty string.
                let new = (!value.is_empty()).then(|| value_hash(prop, value));
                moves.push((old.map(|old| value_hash(prop, old)), new));
            }
            changes.push((prop, value));
        }
        let mut before_props = None;
        if !changes.is_empty() {
            changes.sort_unstable_by_key(|(prop, _)| *prop);
            let props = record.props.with_changes(&changes);
            before_props = Some(std::mem::replace(&mut record.props, props));
        }
        for (old, new) in &moves {
            if let Some(old) = old {
                self.unique.remove(*old, record_id);
            }
            if let Some(new) = new {
                self.unique.insert(*new, record_id);
            }
        }
        let undo = Undo {
            record: record_id,
            created: is_new,
            props_before: before_props,
            updated_before: before_updated,
            moves,
        };
        let Some(view) = self.get(record_id) else {
            return Err(WriteFailure::NotFound);
        };
        let result = SimplePublicUpsertObject {
            archived: false,
            archived_at: None,
            created_at: view.created_at(),
            id: view.id_text(),
            new: is_new,
            object_write_trace_id: input.object_write_trace_id.clone(),
            properties: view.api_properties(),
            properties_with_history: BTreeMap::new(),
            updated_at: view.updated_at(),
            url: None,
            warnings: Vec::new(),
        };
        Ok((result, undo))
    }

    /// The record with id `id`, with the schema naming its properties.
    fn get(&self, id: u64) -> Option<RecordRef<'_>> {
        Some(RecordRef {
            id,
            record: self.record(id)?,
            schema: &self.schema,
        })
    }

    /// Finds a record by its id, or by the value of a unique property.
    ///
    /// `hs_object_id`, which a read may name as its `idProperty`, means the record id.
    pub(crate) fn find(&self, id_property: Option<&str>, id: &str) -> Option<RecordRef<'_>> {
        let id_property = id_property.filter(|name| *name != "hs_object_id");
        self.get(self.resolve(id_property, id)?)
    }

    /// Every record, in id order.
    pub(crate) fn all(&self) -> impl Iterator<Item = RecordRef<'_>> {
        (1..).zip(&self.records).map(|(id, record)| RecordRef {
            id,
            record,
            schema: &self.schema,
        })
    }

    /// The number of records.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{PropertyDef, PropertyType};
    use crate::time::now_millis;

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

    fn code(id: &str, props: &[(&str, &str)]) -> SimplePublicObjectBatchInputUpsert {
        input(id, Some("project_code"), props)
    }

    fn run(
        store: &mut Store,
        mode: BatchErrors,
        inputs: Vec<SimplePublicObjectBatchInputUpsert>,
    ) -> Result<BatchOutcome, Rejection> {
        let checks = precheck(&store.schema, &inputs, mode)?;
        store.upsert(inputs, checks, mode, now_millis())
    }

    fn store_with_ext() -> Store {
        Store::new(Schema::new(&[PropertyDef::new(
            "ext",
            PropertyType::String,
        )
        .with_unique_values()]))
    }

    fn snapshot(store: &Store) -> Vec<(String, BTreeMap<String, String>, DateTime<Utc>)> {
        store
            .all()
            .map(|r| (r.id_text(), r.owned_properties(), r.updated_at()))
            .collect()
    }

    #[test]
    fn per_input_a_taken_unique_value_fails_only_its_input() {
        let mut store = store_with_ext();
        let out = run(
            &mut store,
            BatchErrors::PerInput,
            vec![code("A", &[("ext", "X")]), code("B", &[("ext", "X")])],
        )
        .unwrap();
        assert_eq!(out.results.len(), 1);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].context["propertyName"], vec!["ext"]);
        assert!(out.errors[0].message.contains("DUPLICATE_VALUE"));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn whole_a_taken_unique_value_takes_the_batch_back() {
        let mut store = store_with_ext();
        run(
            &mut store,
            BatchErrors::Whole,
            vec![
                code("A", &[("ext", "X"), ("hs_name", "a")]),
                code("B", &[("ext", "Y")]),
            ],
        )
        .unwrap();
        let before = snapshot(&store);
        // A gives up X and takes Z, C is created with X, D is created, then B collides with
        // Z, now A's: everything the batch did must be undone.
        let err = run(
            &mut store,
            BatchErrors::Whole,
            vec![
                code("A", &[("ext", "Z"), ("hs_name", "changed")]),
                code("C", &[("ext", "X")]),
                code("D", &[]),
                code("B", &[("ext", "Z")]),
            ],
        )
        .unwrap_err();
        assert_eq!((err.status, err.category), (409, "CONFLICT"));
        assert_eq!(err.context["propertyName"], ["ext"]);
        assert_eq!(err.context["propertyValue"], ["Z"]);
        assert_eq!(snapshot(&store), before);
        assert_eq!(store.find(Some("ext"), "X").unwrap().id_text(), "1");
        assert_eq!(store.find(Some("ext"), "Y").unwrap().id_text(), "2");
        assert!(store.find(Some("ext"), "Z").is_none());
        assert!(store.find(Some("project_code"), "C").is_none());
        // The index is whole again: the same batch without the collision goes through.
        let out = run(
            &mut store,
            BatchErrors::Whole,
            vec![code("A", &[("ext", "Z")]), code("C", &[("ext", "X")])],
        )
        .unwrap();
        assert_eq!(out.results.len(), 2);
        assert_eq!(store.find(Some("ext"), "X").unwrap().id_text(), "3");
    }

    #[test]
    fn whole_an_invalid_value_rejects_with_the_first_bad_inputs_problems() {
        let mut store = Store::new(Schema::new(&[]));
        let err = run(
            &mut store,
            BatchErrors::Whole,
            vec![
                code("OK", &[("hs_name", "fine")]),
                code(
                    "BAD1",
                    &[
                        ("hs_target_due_date", "2027-13-45"),
                        ("hs_pipeline_stage", "nowhere"),
                        ("nope", "x"),
                    ],
                ),
                code("BAD2", &[("hubspot_owner_id", "abc")]),
            ],
        )
        .unwrap_err();
        assert_eq!((err.status, err.category), (400, "VALIDATION_ERROR"));
        let codes: Vec<_> = err
            .errors
            .iter()
            .filter_map(|e| e.code.as_deref())
            .collect();
        assert_eq!(
            codes,
            ["INVALID_OPTION", "INVALID_DATE", "PROPERTY_DOESNT_EXIST"]
        );
        assert!(err.message.contains("2027-13-45 is not a valid date"));
        assert!(!err.message.contains("abc"), "only the first bad input");
        assert_eq!(store.len(), 0);
    }

    #[test]
    fn per_input_an_invalid_value_fails_its_input_and_the_rest_is_written() {
        let mut store = Store::new(Schema::new(&[]));
        let out = run(
            &mut store,
            BatchErrors::PerInput,
            vec![
                code("OK", &[("hs_pipeline_stage", "done")]),
                code("BAD", &[("hubspot_owner_id", "abc")]),
            ],
        )
        .unwrap();
        assert_eq!(out.results.len(), 1);
        assert_eq!(out.errors[0].id.as_deref(), Some("BAD"));
        assert!(out.errors[0].message.contains("INVALID_INTEGER"));
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn an_id_is_checked_against_its_typed_unique_property() {
        let mut store = Store::new(Schema::new(&[PropertyDef::new(
            "erp_number",
            PropertyType::Number,
        )
        .with_unique_values()]));
        let err = run(
            &mut store,
            BatchErrors::Whole,
            vec![input("ERP-1", Some("erp_number"), &[])],
        )
        .unwrap_err();
        assert!(err.message.contains("INVALID_INTEGER"), "{}", err.message);
        run(
            &mut store,
            BatchErrors::Whole,
            vec![input("1001", Some("erp_number"), &[])],
        )
        .unwrap();
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn two_keys_naming_one_record_reject_the_batch_without_writing() {
        let mut store = Store::new(Schema::new(&[]));
        run(&mut store, BatchErrors::Whole, vec![code("A", &[])]).unwrap();
        let by_code = code("A", &[("hs_name", "x")]);
        let by_id = input("1", None, &[("hs_name", "y")]);
        for mode in [BatchErrors::Whole, BatchErrors::PerInput] {
            let err = run(&mut store, mode, vec![by_code.clone(), by_id.clone()]).unwrap_err();
            assert_eq!(err.status, 400);
            assert_eq!(store.find(None, "1").unwrap().value("hs_name"), None);
        }
    }

    #[test]
    fn hs_object_id_is_refused_as_id_property_and_means_the_record_id_in_reads() {
        let mut store = Store::new(Schema::new(&[]));
        run(&mut store, BatchErrors::Whole, vec![code("A", &[])]).unwrap();
        let err = run(
            &mut store,
            BatchErrors::Whole,
            vec![input("1", Some("hs_object_id"), &[])],
        )
        .unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.contains("non-unique"), "{}", err.message);
        assert_eq!(
            store.find(Some("hs_object_id"), "1").unwrap().id_text(),
            "1"
        );
        assert!(check_read_id_property(&store.schema, "hs_object_id").is_ok());
    }

    #[test]
    fn empty_value_clears_a_property_and_frees_a_unique_value() {
        let mut store = store_with_ext();
        run(
            &mut store,
            BatchErrors::Whole,
            vec![code("A", &[("ext", "X"), ("hs_name", "n")])],
        )
        .unwrap();
        run(
            &mut store,
            BatchErrors::Whole,
            vec![code("A", &[("ext", ""), ("hs_name", "")])],
        )
        .unwrap();
        assert!(store.find(Some("ext"), "X").is_none());
        let record = store.find(Some("project_code"), "A").unwrap();
        assert_eq!(record.value("hs_name"), None);
    }

    #[test]
    fn a_redefined_built_in_can_be_the_id_property() {
        let mut store = Store::new(Schema::new(&[PropertyDef::new(
            "hs_name",
            PropertyType::String,
        )
        .with_unique_values()]));
        run(
            &mut store,
            BatchErrors::Whole,
            vec![input("N", Some("hs_name"), &[])],
        )
        .unwrap();
        let record = store.find(Some("hs_name"), "N").unwrap();
        assert_eq!(record.properties(), BTreeMap::from([("hs_name", "N")]));
        assert!(store.find(Some("project_code"), "N").is_none());
    }

    #[test]
    fn a_missing_record_id_fails_its_input_in_both_modes() {
        for mode in [BatchErrors::Whole, BatchErrors::PerInput] {
            let mut store = Store::new(Schema::new(&[]));
            let out = run(
                &mut store,
                mode,
                vec![code("A", &[]), input("999", None, &[])],
            )
            .unwrap();
            assert_eq!(out.results.len(), 1);
            assert_eq!(out.errors[0].category, "OBJECT_NOT_FOUND");
        }
    }
}
