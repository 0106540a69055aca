//! The index of unique property values: which record holds each value.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;

use crate::props::PropId;

/// The hash of a unique property's value, which the index is keyed by.
pub(crate) fn value_hash(id: PropId, value: &str) -> u64 {
    FixedState::default().hash_one((id, value))
}

/// A map keyed by [`value_hash`]es.
type HashKeyed<V> = HashMap<u64, V, FixedState>;

/// Unique property values → the record holding each, keyed by [`value_hash`] so that values
/// are not stored twice: a candidate is confirmed against the record's own value.
#[derive(Debug, Default)]
pub(crate) struct UniqueIndex {
    /// The first record whose value has this hash.
    first: HashKeyed<u64>,
    /// Further records whose value has the same hash as another's: almost always empty.
    more: HashKeyed<Vec<u64>>,
}

impl UniqueIndex {
    /// The records holding a value with hash `hash`, for the caller to confirm.
    pub(crate) fn candidates(&self, hash: u64) -> impl Iterator<Item = u64> + '_ {
        let first = self.first.get(&hash).copied();
        let more = first
            .and_then(|_| self.more.get(&hash))
            .into_iter()
            .flatten()
            .copied();
        first.into_iter().chain(more)
    }

    /// Records that `record` holds a value with hash `hash`.
    pub(crate) fn insert(&mut self, hash: u64, record: u64) {
        match self.first.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(record);
            }
            Entry::Occupied(_) => self.more.entry(hash).or_default().push(record),
        }
    }

    /// Forgets that `record` holds a value with hash `hash`.
    pub(crate) fn remove(&mut self, hash: u64, record: u64) {
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

    /// Whether the index is empty.
    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.first.is_empty() && self.more.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_whose_values_share_a_hash_are_all_kept() {
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
        assert!(index.is_empty());
    }

    #[test]
    fn a_value_hash_depends_on_the_property_and_the_value() {
        assert_eq!(value_hash(1, "A"), value_hash(1, "A"));
        assert_ne!(value_hash(1, "A"), value_hash(2, "A"));
        assert_ne!(value_hash(1, "A"), value_hash(1, "B"));
    }
}
