//! The property schema, the records and the upsert semantics, independent of HTTP.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
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

/// A hasher for keys that already are well-mixed 64-bit hashes: it passes them through.
#[derive(Clone, Copy, Debug, Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A hash map keyed by hashes already computed.
type HashKeyedMap<V> = HashMap<u64, V, BuildHasherDefault<PreHashed>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PropKind {
    Plain,
    Unique,
    ReadOnly,
}

/// A property's number in the schema: the index of its name.
type PropId = usize;

/// The known properties of projects, each numbered so that records store small ids rather than
/// names.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    ids: FastMap<String, PropId>,
    /// By id: the name and kind.
    props: Vec<(Box<str>, PropKind)>,
}

impl Schema {
    pub(crate) fn new(extra: &[PropertyDef]) -> Self {
        let mut schema = Self {
            ids: FastMap::default(),
            props: Vec::new(),
        };
        for name in SYSTEM_PROPERTIES {
            schema.define(name, PropKind::ReadOnly);
        }
        for name in BUILT_IN_PROPERTIES {
            schema.define(name, PropKind::Plain);
        }
        schema.define(DEFAULT_UNIQUE_PROPERTY, PropKind::Unique);
        for def in extra {
            let kind = if def.unique {
                PropKind::Unique
            } else {
                PropKind::Plain
            };
            schema.define(&def.name, kind);
        }
        schema
    }

    /// Adds a property, or gives a known one a new kind: the last definition wins.
    fn define(&mut self, name: &str, kind: PropKind) {
        if let Some(&id) = self.ids.get(name)
            && let Some(prop) = self.props.get_mut(id)
        {
            prop.1 = kind;
            return;
        }
        self.ids.insert(name.to_string(), self.props.len());
        self.props.push((name.into(), kind));
    }

    /// The id and kind of a known property.
    fn lookup(&self, name: &str) -> Option<(PropId, PropKind)> {
        let id = *self.ids.get(name)?;
        Some((id, self.props.get(id)?.1))
    }

    fn kind(&self, name: &str) -> Option<PropKind> {
        self.lookup(name).map(|(_, kind)| kind)
    }

    /// The name of a property id.
    fn name(&self, id: PropId) -> &str {
        self.props.get(id).map_or("", |prop| &prop.0)
    }

    /// Whether `name` is a known property.
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.ids.contains_key(name)
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

/// Appends `n` as LEB128: seven bits a byte, low bits first.
fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads a LEB128 number at `*pos` and moves past it.
fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<usize> {
    let mut n = 0usize;
    let mut shift = 0u32;
    loop {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        n |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some(n);
        }
        shift += 7;
    }
}

/// A record's property values in one allocation: for each property, in id order, its id and
/// the value's length (both LEB128), then the value's bytes. Empty values are never held.
#[derive(Clone, Debug, Default)]
struct Props(Box<[u8]>);

impl Props {
    fn iter(&self) -> PropsIter<'_> {
        PropsIter {
            bytes: &self.0,
            pos: 0,
        }
    }

    fn get(&self, id: PropId) -> Option<&str> {
        self.iter()
            .take_while(|(held, _)| *held <= id)
            .find(|(held, _)| *held == id)
            .map(|(_, value)| value)
    }

    /// These values with `changes` (sorted by id, each id at most once) applied: a value
    /// replaces the held one, and an empty value clears it.
    fn with_changes(&self, changes: &[(PropId, &str)]) -> Self {
        fn push(out: &mut Vec<u8>, id: PropId, value: &str) {
            if !value.is_empty() {
                put_varint(out, id);
                put_varint(out, value.len());
                out.extend_from_slice(value.as_bytes());
            }
        }
        let added: usize = changes.iter().map(|(_, value)| value.len() + 4).sum();
        let mut out = Vec::with_capacity(self.0.len() + added);
        let mut held = self.iter().peekable();
        let mut changes = changes.iter().peekable();
        loop {
            match (held.peek().copied(), changes.peek().copied()) {
                (None, None) => break,
                (Some((id, value)), None) => {
                    push(&mut out, id, value);
                    held.next();
                }
                (Some((id, value)), Some(&(changed, _))) if id < changed => {
                    push(&mut out, id, value);
                    held.next();
                }
                (held_next, Some(&(changed, value))) => {
                    push(&mut out, changed, value);
                    changes.next();
                    if held_next.is_some_and(|(id, _)| id == changed) {
                        held.next();
                    }
                }
            }
        }
        Self(out.into_boxed_slice())
    }
}

/// The `(id, value)` pairs of [`Props`], in id order.
struct PropsIter<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PropsIter<'a> {
    type Item = (PropId, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let id = get_varint(self.bytes, &mut self.pos)?;
        let len = get_varint(self.bytes, &mut self.pos)?;
        let end = self.pos.checked_add(len)?;
        let value = std::str::from_utf8(self.bytes.get(self.pos..end)?).ok()?;
        self.pos = end;
        Some((id, value))
    }
}

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
                let (id, _) = self.schema.lookup(other)?;
                self.record.props.get(id).map(str::to_string)
            }
        }
    }
}

/// A stored timestamp as a time; every stored one is in range.
fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Appends `n` as `width` decimal digits, `width` at most 4.
fn push_digits(out: &mut String, mut n: u32, width: usize) {
    let mut digits = [b'0'; 4];
    for slot in digits.iter_mut().take(width).rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for digit in digits.iter().take(width) {
        out.push(char::from(*digit));
    }
}

/// A timestamp as HubSpot writes it in property values: RFC 3339 in UTC, with milliseconds.
fn hubspot_time(t: DateTime<Utc>) -> String {
    let millis = t.timestamp_subsec_millis();
    let year = t.year();
    if !(0..=9999).contains(&year) || millis >= 1000 {
        // Far dates and leap seconds: rare enough for chrono's general formatter.
        return t.to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let mut out = String::with_capacity(24);
    push_digits(&mut out, year.unsigned_abs(), 4);
    out.push('-');
    push_digits(&mut out, t.month(), 2);
    out.push('-');
    push_digits(&mut out, t.day(), 2);
    out.push('T');
    push_digits(&mut out, t.hour(), 2);
    out.push(':');
    push_digits(&mut out, t.minute(), 2);
    out.push(':');
    push_digits(&mut out, t.second(), 2);
    out.push('.');
    push_digits(&mut out, millis, 3);
    out.push('Z');
    out
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

/// The hash of a unique property's value, which the index is keyed by.
fn value_hash(id: PropId, value: &str) -> u64 {
    let mut hasher = Fnv::default();
    hasher.write_usize(id);
    hasher.write(value.as_bytes());
    hasher.finish()
}

/// Unique property values → the record holding each, keyed by [`value_hash`] so that values
/// are not stored twice: a candidate is confirmed against the record's own value.
#[derive(Debug, Default)]
struct UniqueIndex {
    /// The first record whose value has this hash.
    first: HashKeyedMap<u64>,
    /// Further records whose value has the same hash as another's: almost always empty.
    more: HashKeyedMap<Vec<u64>>,
}

impl UniqueIndex {
    /// The records holding a value with hash `hash`, for the caller to confirm.
    fn candidates(&self, hash: u64) -> impl Iterator<Item = u64> + '_ {
        let first = self.first.get(&hash).copied();
        let more = first
            .and_then(|_| self.more.get(&hash))
            .into_iter()
            .flatten()
            .copied();
        first.into_iter().chain(more)
    }

    fn insert(&mut self, hash: u64, record: u64) {
        match self.first.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(record);
            }
            Entry::Occupied(_) => self.more.entry(hash).or_default().push(record),
        }
    }

    fn remove(&mut self, hash: u64, record: u64) {
        if self.first.get(&hash) == Some(&record) {
            let next = match self.more.get_mut(&hash) {
                Some(more) => {
                    let next = more.pop();
                    if more.is_empty() {
                        self.more.remove(&hash);
                    }
                    next
                }
                None => None,
            };
            match next {
                Some(next) => self.first.insert(hash, next),
                None => self.first.remove(&hash),
            };
        } else if let Some(more) = self.more.get_mut(&hash) {
            if let Some(at) = more.iter().position(|held| *held == record) {
                more.swap_remove(at);
            }
            if more.is_empty() {
                self.more.remove(&hash);
            }
        }
    }
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
    let detail = |name: &str, text: String, error: &str| {
        serde_json::json!({
            "isValid": false,
            "message": text,
            "error": error,
            "name": name,
            "localizedErrorMessage": text,
        })
    };
    let details: Vec<serde_json::Value> = unknown
        .iter()
        .map(|name| {
            detail(
                name,
                format!("Property \"{name}\" does not exist"),
                "PROPERTY_DOESNT_EXIST",
            )
        })
        .chain(read_only.iter().map(|name| {
            let text = format!("\"{name}\" is a read only property; its value cannot be set.");
            detail(name, text, "READ_ONLY_VALUE")
        }))
        .collect();
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

    /// The record an input designates, if it exists.
    fn resolve(&self, id_property: Option<&str>, id: &str) -> Option<u64> {
        match id_property {
            None | Some("hs_object_id") => {
                let n: u64 = id.parse().ok()?;
                self.record(n).map(|_| n)
            }
            Some(name) => match self.schema.lookup(name)? {
                (prop, PropKind::Unique) => self.unique_owner(prop, id),
                _ => None,
            },
        }
    }

    /// Upserts a prechecked batch; `checks` holds one verdict per input.
    ///
    /// Either rejects the whole batch (two inputs naming one record) without writing, or writes
    /// every valid input and reports the others.
    pub(crate) fn upsert(
        &mut self,
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

        let now_ms = now.timestamp_millis();
        let mut outcome = BatchOutcome {
            results: Vec::with_capacity(inputs.len()),
            errors: Vec::new(),
        };
        for ((input, check), target) in inputs.into_iter().zip(checks).zip(targets) {
            if let Precheck::Failed(error) = check {
                outcome.errors.push(error);
                continue;
            }
            match self.write(&input, target, now_ms) {
                Ok(result) => outcome.results.push(result),
                Err(error) => outcome.errors.push(*error),
            }
        }
        Ok(outcome)
    }

    /// Writes one valid input: creates or updates its record.
    fn write(
        &mut self,
        input: &SimplePublicObjectBatchInputUpsert,
        target: Option<u64>,
        now_ms: i64,
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
        let record_id = target.unwrap_or_else(|| self.next_id());

        // The values to write: the input's properties, with the id property set to the id.
        let id_name = input.id_property.as_deref().filter(|_| !by_record_id);
        let mut writes: Vec<(PropId, &str, &str, bool)> =
            Vec::with_capacity(input.properties.len() + 1);
        let named = input
            .properties
            .iter()
            .filter(|(name, _)| Some(name.as_str()) != id_name)
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .chain(id_name.map(|name| (name, input.id.as_str())));
        for (name, value) in named {
            let Some((prop, kind)) = self.schema.lookup(name) else {
                // Unreachable: the precheck refused unknown properties and idProperty values.
                return Err(Box::new(input_error(
                    input,
                    "VALIDATION_ERROR",
                    format!("Property \"{name}\" does not exist"),
                    &[name],
                )));
            };
            // The id property was checked to be unique.
            let unique = kind == PropKind::Unique || Some(name) == id_name;
            writes.push((prop, name, value, unique));
        }

        // Unique values must not belong to another record.
        for (prop, name, value, unique) in &writes {
            if !*unique || value.is_empty() {
                continue;
            }
            if let Some(owner) = self.unique_owner(*prop, value)
                && owner != record_id
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
            self.records.push(StoredRecord::new(now_ms));
        }
        let Some(record) = Self::slot(record_id).and_then(|slot| self.records.get_mut(slot)) else {
            // Unreachable: the record was resolved or inserted above under the same lock.
            return Err(Box::new(input_error(
                input,
                "INTERNAL_ERROR",
                "The record vanished while it was written".to_string(),
                &[],
            )));
        };
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
        if !changes.is_empty() {
            changes.sort_unstable_by_key(|(prop, _)| *prop);
            record.props = record.props.with_changes(&changes);
        }
        for (old, new) in moves {
            if let Some(old) = old {
                self.unique.remove(old, record_id);
            }
            if let Some(new) = new {
                self.unique.insert(new, record_id);
            }
        }
        let Some(view) = self.get(record_id) else {
            return Err(Box::new(input_error(
                input,
                "INTERNAL_ERROR",
                "The record vanished while it was written".to_string(),
                &[],
            )));
        };
        Ok(SimplePublicUpsertObject {
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
        })
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
    pub(crate) fn find(&self, id_property: Option<&str>, id: &str) -> Option<RecordRef<'_>> {
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
        store.upsert(inputs, checks, now_millis())
    }

    #[test]
    fn unique_value_moved_to_another_record_is_refused() {
        let schema = Schema::new(&[PropertyDef {
            name: "ext".into(),
            unique: true,
        }]);
        let mut store = Store::new(schema.clone());
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
        let mut store = Store::new(schema.clone());
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
        assert_eq!(store.find(None, "1").unwrap().value("hs_name"), None);
    }

    #[test]
    fn empty_value_clears_a_property_and_frees_a_unique_value() {
        let schema = Schema::new(&[PropertyDef {
            name: "ext".into(),
            unique: true,
        }]);
        let mut store = Store::new(schema.clone());
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
        assert_eq!(record.value("hs_name"), None);
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let samples = [
            0,
            1,
            999,
            -1,
            951_782_400_123,
            1_700_000_000_000,
            253_402_300_799_999,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_800_000,
        ];
        for ms in samples
            .into_iter()
            .chain((0..2000).map(|n| n * 86_399_937 + 17))
        {
            let t = DateTime::from_timestamp_millis(ms).unwrap();
            assert_eq!(
                hubspot_time(t),
                t.to_rfc3339_opts(SecondsFormat::Millis, true),
                "{ms}"
            );
        }
    }

    #[test]
    fn props_apply_changes_in_id_order() {
        let long = "x".repeat(300);
        let props = Props::default().with_changes(&[(1, "a"), (3, ""), (200, &long)]);
        assert_eq!(
            props.iter().collect::<Vec<_>>(),
            vec![(1, "a"), (200, long.as_str())]
        );
        let props = props.with_changes(&[(0, "z"), (1, ""), (5, "é"), (200, "b")]);
        assert_eq!(
            props.iter().collect::<Vec<_>>(),
            vec![(0, "z"), (5, "é"), (200, "b")]
        );
        assert_eq!(props.get(5), Some("é"));
        assert_eq!(props.get(1), None);
        assert_eq!(props.get(201), None);
    }

    #[test]
    fn unique_index_keeps_records_whose_values_share_a_hash() {
        let mut index = UniqueIndex::default();
        index.insert(7, 1);
        index.insert(7, 2);
        index.insert(7, 3);
        assert_eq!(index.candidates(7).collect::<Vec<_>>(), vec![1, 2, 3]);
        index.remove(7, 1);
        let mut left: Vec<u64> = index.candidates(7).collect();
        left.sort_unstable();
        assert_eq!(left, vec![2, 3]);
        index.remove(7, 2);
        index.remove(7, 3);
        assert_eq!(index.candidates(7).count(), 0);
        assert!(index.first.is_empty() && index.more.is_empty());
    }

    #[test]
    fn a_configured_property_may_redefine_a_built_in_one() {
        let schema = Schema::new(&[PropertyDef {
            name: "hs_name".into(),
            unique: true,
        }]);
        assert_eq!(schema.kind("hs_name"), Some(PropKind::Unique));
        let mut store = Store::new(schema.clone());
        run(&mut store, &schema, vec![input("N", Some("hs_name"), &[])]).unwrap();
        let record = store.find(Some("hs_name"), "N").unwrap();
        assert_eq!(record.properties(), BTreeMap::from([("hs_name", "N")]));
        assert!(store.find(Some("project_code"), "N").is_none());
    }
}
