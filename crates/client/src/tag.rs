//! Trace ids for inputs that have none, so that HubSpot's answer can be tied back to them.

use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out unique version-4 uuids cheaply: random bytes drawn once per client, with a counter
/// mixed into the low bytes, so that tagging a million inputs costs no system call each.
pub(crate) struct TraceIds {
    base: [u8; 16],
    counter: AtomicU64,
}

impl TraceIds {
    pub(crate) fn new() -> Self {
        Self {
            base: *uuid::Uuid::new_v4().as_bytes(),
            counter: AtomicU64::new(0),
        }
    }

    /// A new trace id.
    pub(crate) fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut bytes = self.base;
        // Bytes 10..16 are plain random bits in a v4 uuid: 48 bits of counter stay unique.
        for (slot, byte) in bytes[10..].iter_mut().zip(n.to_be_bytes()[2..].iter()) {
            *slot ^= byte;
        }
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut buffer = [0u8; uuid::fmt::Hyphenated::LENGTH];
        id.hyphenated().encode_lower(&mut buffer).to_string()
    }

    /// Sets a trace id where the input has none.
    pub(crate) fn tag(&self, trace_id: &mut Option<String>) {
        if trace_id.is_none() {
            *trace_id = Some(self.next());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn trace_ids_are_unique_v4_uuids() {
        let ids = TraceIds::new();
        let drawn: HashSet<String> = (0..10_000).map(|_| ids.next()).collect();
        assert_eq!(drawn.len(), 10_000);
        for id in drawn.iter().take(10) {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4);
        }
        assert_ne!(TraceIds::new().next(), TraceIds::new().next());
    }

    #[test]
    fn the_callers_trace_id_is_kept() {
        let ids = TraceIds::new();
        let mut own = Some("mine".to_string());
        ids.tag(&mut own);
        assert_eq!(own.as_deref(), Some("mine"));
        let mut none = None;
        ids.tag(&mut none);
        assert!(none.is_some());
    }
}
