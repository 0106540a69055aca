//! The compact storage of one record's property values: one allocation per record.

/// A property's number in the schema: the index of its name.
pub(crate) type PropId = usize;

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
///
/// A `BTreeMap<String, String>` per record cost about 1.2 KB; this costs the values' bytes
/// plus two or three bytes a property.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Props(Box<[u8]>);

impl Props {
    /// The `(id, value)` pairs, in id order.
    pub(crate) fn iter(&self) -> PropsIter<'_> {
        PropsIter {
            bytes: &self.0,
            pos: 0,
        }
    }

    /// The value held for `id`, if any.
    pub(crate) fn get(&self, id: PropId) -> Option<&str> {
        self.iter()
            .take_while(|(held, _)| *held <= id)
            .find(|(held, _)| *held == id)
            .map(|(_, value)| value)
    }

    /// These values with `changes` (sorted by id, each id at most once) applied: a value
    /// replaces the held one, and an empty value clears it.
    pub(crate) fn with_changes(&self, changes: &[(PropId, &str)]) -> Self {
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
pub(crate) struct PropsIter<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn varints_round_trip_across_byte_boundaries() {
        for n in [0, 1, 127, 128, 16_383, 16_384, usize::MAX >> 1] {
            let mut out = Vec::new();
            put_varint(&mut out, n);
            let mut pos = 0;
            assert_eq!(get_varint(&out, &mut pos), Some(n));
            assert_eq!(pos, out.len());
        }
        // A truncated number is refused rather than read past the end.
        assert_eq!(get_varint(&[0x80], &mut 0), None);
    }
}
