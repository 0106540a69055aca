//! Splitting inputs into batches of at most 100, never with two writes to the same record in
//! one batch, and remembering which batch must finish before which.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use crate::input::{RECORD_ID_PROPERTY, UpsertInput};

/// A record's identity, hashed: equal (idProperty, id) pairs give equal keys. A collision only
/// costs an extra split, never a merge of two writes to one record.
pub(crate) type RecordKey = u64;

/// The key of the record an input writes. An input without an idProperty names a record by
/// its id, as `hs_object_id` would: both give the same key, so that they never share a batch.
pub(crate) fn record_key(input: &UpsertInput) -> RecordKey {
    let mut hasher = DefaultHasher::new();
    input
        .id_property
        .as_deref()
        .unwrap_or(RECORD_ID_PROPERTY)
        .hash(&mut hasher);
    input.id.hash(&mut hasher);
    hasher.finish()
}

// Record keys are hashes already; a fast hasher is all their maps need.
type KeySet = foldhash::HashSet<RecordKey>;
type KeyMap<V> = foldhash::HashMap<RecordKey, V>;

/// A batch ready to send once the batches in `after` have completed.
pub(crate) struct PlannedBatch<T> {
    pub(crate) seq: u64,
    pub(crate) items: Vec<(T, UpsertInput)>,
    pub(crate) keys: Vec<RecordKey>,
    pub(crate) after: Vec<u64>,
}

struct OpenBatch<T> {
    seq: u64,
    items: Vec<(T, UpsertInput)>,
    keys: KeySet,
    after: Vec<u64>,
}

/// Places inputs, in input order, into batches.
///
/// An input goes into the first open batch after the last one that already writes its record,
/// so a later write to a record always lands in a later batch, and that batch waits for the
/// earlier one: the last write wins, in input order, however many batches are in flight.
/// Memory stays bounded: at most `max_open` batches are open, and only records of batches not
/// yet completed are remembered.
pub(crate) struct Planner<T> {
    batch_size: usize,
    max_open: usize,
    next_seq: u64,
    open: VecDeque<OpenBatch<T>>,
    /// The latest batch not yet completed that writes each record.
    last_writer: KeyMap<u64>,
    /// Batches created and not yet completed.
    incomplete: HashSet<u64>,
}

impl<T> Planner<T> {
    pub(crate) fn new(batch_size: usize, max_open: usize) -> Self {
        Self {
            batch_size: batch_size.clamp(1, 100),
            max_open: max_open.max(1),
            next_seq: 0,
            open: VecDeque::new(),
            last_writer: KeyMap::default(),
            incomplete: HashSet::new(),
        }
    }

    /// Adds an input; returns the batches this closed (full ones, and the oldest open one when
    /// too many are open).
    pub(crate) fn push(&mut self, tag: T, input: UpsertInput, closed: &mut Vec<PlannedBatch<T>>) {
        let key = record_key(&input);
        let target = loop {
            let target = self
                .open
                .iter()
                .rposition(|b| b.keys.contains(&key))
                .map_or(0, |at| at + 1);
            if target < self.max_open {
                break target;
            }
            // Too many open batches: close the oldest (it goes out partial).
            if let Some(oldest) = self.open.pop_front() {
                closed.push(self.close(oldest));
            }
        };
        if target == self.open.len() {
            let seq = self.next_seq;
            self.next_seq += 1;
            self.incomplete.insert(seq);
            self.open.push_back(OpenBatch {
                seq,
                items: Vec::with_capacity(self.batch_size),
                keys: KeySet::with_capacity_and_hasher(self.batch_size, Default::default()),
                after: Vec::new(),
            });
        }
        let batch = &mut self.open[target];
        if let Some(earlier) = self.last_writer.insert(key, batch.seq)
            && earlier != batch.seq
            && self.incomplete.contains(&earlier)
            && !batch.after.contains(&earlier)
        {
            batch.after.push(earlier);
        }
        batch.keys.insert(key);
        batch.items.push((tag, input));
        if batch.items.len() >= self.batch_size
            && let Some(full) = self.open.remove(target)
        {
            closed.push(self.close(full));
        }
    }

    fn close(&self, batch: OpenBatch<T>) -> PlannedBatch<T> {
        PlannedBatch {
            seq: batch.seq,
            items: batch.items,
            keys: batch.keys.into_iter().collect(),
            after: batch.after,
        }
    }

    /// Closes the oldest open batch, if any.
    pub(crate) fn flush_one(&mut self) -> Option<PlannedBatch<T>> {
        let oldest = self.open.pop_front()?;
        Some(self.close(oldest))
    }

    /// Closes every open batch, oldest first.
    pub(crate) fn flush_all(&mut self, closed: &mut Vec<PlannedBatch<T>>) {
        while let Some(batch) = self.flush_one() {
            closed.push(batch);
        }
    }

    /// Whether some batch is still open.
    pub(crate) fn has_open(&self) -> bool {
        !self.open.is_empty()
    }

    /// Whether `batch` may be sent now: every batch it waits for has completed.
    pub(crate) fn may_send(&self, batch: &PlannedBatch<T>) -> bool {
        batch.after.iter().all(|seq| !self.incomplete.contains(seq))
    }

    /// Records that a batch completed (whatever its outcome).
    pub(crate) fn completed(&mut self, seq: u64, keys: &[RecordKey]) {
        self.incomplete.remove(&seq);
        for key in keys {
            if self.last_writer.get(key) == Some(&seq) {
                self.last_writer.remove(key);
            }
        }
    }
}

/// How many batches may be open (filling) at once. More lets repeated records wait in later
/// batches without closing earlier ones early; fewer bounds memory.
pub(crate) const MAX_OPEN_BATCHES: usize = 4;

/// Counts the requests a sequence of inputs takes, split exactly as the engine splits it (at
/// most `batch_size` inputs a request, never two writes to one record in a request). For dry
/// runs: nothing is sent, and memory stays bounded however many inputs are pushed.
///
/// ```
/// use hubspot_projects::{BatchPlanner, UpsertInput};
/// let mut planner = BatchPlanner::new(100);
/// for i in 0..250 {
///     planner.push(UpsertInput::new("project_code", format!("PRJ-{}", i % 200)));
/// }
/// assert_eq!(planner.finish(), 3);
/// ```
pub struct BatchPlanner {
    planner: Planner<()>,
    closed: Vec<PlannedBatch<()>>,
    batches: u64,
}

impl BatchPlanner {
    /// A planner for requests of at most `batch_size` inputs (clamped to 1..=100).
    pub fn new(batch_size: usize) -> Self {
        Self {
            planner: Planner::new(batch_size, MAX_OPEN_BATCHES),
            closed: Vec::new(),
            batches: 0,
        }
    }

    /// Places one input.
    pub fn push(&mut self, input: UpsertInput) {
        self.planner.push((), input, &mut self.closed);
        self.count_closed();
    }

    fn count_closed(&mut self) {
        for batch in self.closed.drain(..) {
            // Nothing is sent, so a closed batch is as good as completed.
            self.planner.completed(batch.seq, &batch.keys);
            self.batches += 1;
        }
    }

    /// The number of requests, once every input is placed.
    pub fn finish(mut self) -> u64 {
        self.planner.flush_all(&mut self.closed);
        self.count_closed();
        self.batches
    }
}

/// Splits a whole input list at once (every batch in input order).
#[cfg(test)]
fn plan_all(inputs: Vec<UpsertInput>, batch_size: usize) -> Vec<PlannedBatch<usize>> {
    let mut planner = Planner::new(batch_size, 4);
    let mut closed = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        planner.push(i, input, &mut closed);
    }
    planner.flush_all(&mut closed);
    closed.sort_by_key(|b| b.seq);
    closed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(ids: impl IntoIterator<Item = String>) -> Vec<UpsertInput> {
        ids.into_iter()
            .map(|id| UpsertInput::new("code", id))
            .collect()
    }

    #[test]
    fn splits_into_batches_of_at_most_the_batch_size() {
        let batches = plan_all(inputs((0..250).map(|i| format!("P{i}"))), 100);
        let sizes: Vec<_> = batches.iter().map(|b| b.items.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert!(batches.iter().all(|b| b.after.is_empty()));
        let order: Vec<usize> = batches
            .iter()
            .flat_map(|b| b.items.iter().map(|(i, _)| *i))
            .collect();
        assert_eq!(order, (0..250).collect::<Vec<_>>());
    }

    #[test]
    fn a_repeated_record_goes_into_a_later_batch_that_waits_for_the_earlier() {
        // P0..P89, then P0..P9 again.
        let ids = (0..90).chain(0..10).map(|i| format!("P{i}"));
        let batches = plan_all(inputs(ids), 100);
        for batch in &batches {
            let keys: HashSet<_> = batch.items.iter().map(|(_, i)| record_key(i)).collect();
            assert_eq!(keys.len(), batch.items.len(), "a batch repeats a record");
        }
        assert_eq!(batches.len(), 2);
        let (first, second) = (&batches[0], &batches[1]);
        assert_eq!(first.items.len(), 90);
        assert_eq!(second.items.len(), 10);
        assert_eq!(second.after, [first.seq]);
        assert!(second.items.iter().all(|(i, _)| *i >= 90));
    }

    #[test]
    fn no_id_property_and_hs_object_id_name_the_same_record() {
        let by_id = UpsertInput {
            id: "101".into(),
            ..UpsertInput::default()
        };
        let by_object_id = UpsertInput::new("hs_object_id", "101");
        assert_eq!(record_key(&by_id), record_key(&by_object_id));
        assert_eq!(plan_all(vec![by_id, by_object_id], 100).len(), 2);
    }

    #[test]
    fn the_same_id_under_another_id_property_is_another_record() {
        let mut list = inputs(["A".to_string()]);
        list.push(UpsertInput::new("other_code", "A"));
        assert_eq!(plan_all(list, 100).len(), 1);
    }

    #[test]
    fn dependencies_clear_when_the_earlier_batch_completes() {
        let mut planner = Planner::new(2, 4);
        let mut closed = Vec::new();
        for (i, id) in ["A", "B", "A", "C"].into_iter().enumerate() {
            planner.push(i, UpsertInput::new("code", id), &mut closed);
        }
        // [A, B] closed full; [A, C] closed full and waits for it.
        assert_eq!(closed.len(), 2);
        let (first, second) = (&closed[0], &closed[1]);
        assert!(planner.may_send(first));
        assert!(!planner.may_send(second));
        planner.completed(first.seq, &first.keys);
        assert!(planner.may_send(second));
        assert!(!planner.has_open());
    }

    #[test]
    fn one_record_repeated_many_times_keeps_few_batches_open() {
        let mut planner = Planner::new(100, 3);
        let mut closed = Vec::new();
        for i in 0..10 {
            planner.push(i, UpsertInput::new("code", "same"), &mut closed);
        }
        assert!(planner.open.len() <= 3);
        planner.flush_all(&mut closed);
        assert_eq!(closed.len(), 10);
        closed.sort_by_key(|b| b.seq);
        for pair in closed.windows(2) {
            assert_eq!(
                pair[1].after,
                [pair[0].seq],
                "each write waits for the previous one"
            );
        }
    }
}
