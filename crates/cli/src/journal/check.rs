//! Matching an input's rows against what a journal confirmed.

use crate::row_hash::RowHash;

/// The rows a journal confirmed, as (line, row hash) sorted by line: 16 bytes per row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfirmedRows {
    rows: Vec<(u64, RowHash)>,
}

impl ConfirmedRows {
    /// The rows from `(line, hash)` pairs in any order; `Err` with the first line named twice.
    pub fn new(mut rows: Vec<(u64, RowHash)>) -> Result<Self, u64> {
        rows.sort_unstable_by_key(|(line, _)| *line);
        if let Some(pair) = rows.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(pair[0].0);
        }
        // Only give back much unused room: shrinking copies the whole set.
        if rows.capacity() > rows.len() + rows.len() / 8 {
            rows.shrink_to_fit();
        }
        Ok(Self { rows })
    }

    /// How many rows were confirmed.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row was confirmed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A check of an input's rows, read in order, against these.
    pub fn check(&self) -> ResumeCheck<'_> {
        ResumeCheck {
            rows: &self.rows,
            next: 0,
        }
    }
}

/// What to do with a row of a resumed input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The journal does not confirm this line: send the row.
    Send,
    /// The journal confirmed this very row: do not send it again.
    Skip,
    /// The input is not the one the journal was written for.
    Mismatch(RowMismatch),
}

/// How an input differs from what its journal confirmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowMismatch {
    /// The row at a confirmed line is not the row the journal confirmed there (another id,
    /// other values, or now invalid).
    Changed {
        /// The line.
        line: u64,
        /// The input's id at that line, when it could be read.
        input_id: Option<String>,
    },
    /// The journal confirmed a line where no row of the input starts.
    NoRow {
        /// The journal's line.
        line: u64,
        /// The line of the input's first row after it, if any.
        next_row: Option<u64>,
    },
}

/// Walks an input's rows, in increasing line order, against the confirmed rows: each row is
/// skipped only when the journal confirmed the same line with the same hash.
///
/// ```
/// use hubspot_projects_cli::journal::{ConfirmedRows, RowMismatch, Verdict};
/// use hubspot_projects_cli::row_hash::RowHash;
/// let confirmed = ConfirmedRows::new(vec![(3, RowHash(30)), (2, RowHash(20))]).unwrap();
/// let mut check = confirmed.check();
/// assert_eq!(check.check(2, Some(RowHash(20)), Some("P-1")), Verdict::Skip);
/// assert_eq!(
///     check.check(3, Some(RowHash(31)), Some("P-2")),
///     Verdict::Mismatch(RowMismatch::Changed { line: 3, input_id: Some("P-2".into()) })
/// );
/// ```
#[derive(Debug)]
pub struct ResumeCheck<'a> {
    rows: &'a [(u64, RowHash)],
    next: usize,
}

impl ResumeCheck<'_> {
    /// The verdict on the row at `line`: `hash` is `None` for a row that is invalid, `id` the
    /// row's id when it could be read.
    pub fn check(&mut self, line: u64, hash: Option<RowHash>, id: Option<&str>) -> Verdict {
        self.check_with(line, || hash, id)
    }

    /// [`check`](Self::check), with the hash asked for only when the journal confirmed `line`:
    /// no other verdict depends on it.
    fn check_with(
        &mut self,
        line: u64,
        hash: impl FnOnce() -> Option<RowHash>,
        id: Option<&str>,
    ) -> Verdict {
        let Some(&(confirmed_line, confirmed_hash)) = self.rows.get(self.next) else {
            return Verdict::Send;
        };
        if confirmed_line < line {
            return Verdict::Mismatch(RowMismatch::NoRow {
                line: confirmed_line,
                next_row: Some(line),
            });
        }
        if confirmed_line > line {
            return Verdict::Send;
        }
        if hash() == Some(confirmed_hash) {
            self.next += 1;
            return Verdict::Skip;
        }
        Verdict::Mismatch(RowMismatch::Changed {
            line,
            input_id: id.map(str::to_string),
        })
    }

    /// The verdict on a row as the reader gives it: a record (hashed as sent, when its line is
    /// one the journal confirmed) or a row that could not be read.
    pub fn check_row(
        &mut self,
        row: &Result<crate::input::SourceRecord, crate::input::InputError>,
    ) -> Verdict {
        match row {
            Ok(record) => self.check_with(
                record.line,
                || Some(RowHash::of(&record.input)),
                Some(&record.input.id),
            ),
            Err(error) => self.check(error.line, None, error.id.as_deref()),
        }
    }

    /// Called at the end of the input: every confirmed row must have been met.
    pub fn finish(&self) -> Result<(), RowMismatch> {
        match self.rows.get(self.next) {
            None => Ok(()),
            Some(&(line, _)) => Err(RowMismatch::NoRow {
                line,
                next_row: None,
            }),
        }
    }

    /// How many rows were skipped so far.
    pub fn skipped(&self) -> usize {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn confirmed(rows: &[(u64, u64)]) -> ConfirmedRows {
        ConfirmedRows::new(rows.iter().map(|(l, h)| (*l, RowHash(*h))).collect()).unwrap()
    }

    #[test]
    fn rows_are_skipped_only_at_the_same_line_with_the_same_hash() {
        let rows = confirmed(&[(5, 50), (2, 20)]);
        let mut check = rows.check();
        assert_eq!(check.check(2, Some(RowHash(20)), None), Verdict::Skip);
        assert_eq!(check.check(3, Some(RowHash(20)), None), Verdict::Send);
        assert_eq!(check.check(4, None, None), Verdict::Send);
        assert_eq!(check.check(5, Some(RowHash(50)), None), Verdict::Skip);
        assert_eq!(check.check(6, Some(RowHash(60)), None), Verdict::Send);
        assert_eq!(check.finish(), Ok(()));
        assert_eq!(check.skipped(), 2);
    }

    #[test]
    fn a_changed_or_invalid_row_at_a_confirmed_line_is_a_mismatch() {
        let rows = confirmed(&[(2, 20)]);
        assert_eq!(
            rows.check().check(2, Some(RowHash(21)), Some("NEW")),
            Verdict::Mismatch(RowMismatch::Changed {
                line: 2,
                input_id: Some("NEW".into())
            })
        );
        assert!(matches!(
            rows.check().check(2, None, None),
            Verdict::Mismatch(RowMismatch::Changed { line: 2, .. })
        ));
    }

    #[test]
    fn a_confirmed_line_the_input_does_not_have_is_a_mismatch() {
        let rows = confirmed(&[(3, 30), (9, 90)]);
        let mut check = rows.check();
        assert_eq!(check.check(2, Some(RowHash(1)), None), Verdict::Send);
        assert_eq!(
            check.check(4, Some(RowHash(1)), None),
            Verdict::Mismatch(RowMismatch::NoRow {
                line: 3,
                next_row: Some(4)
            })
        );
        let mut check = rows.check();
        assert_eq!(check.check(3, Some(RowHash(30)), None), Verdict::Skip);
        assert_eq!(
            check.finish(),
            Err(RowMismatch::NoRow {
                line: 9,
                next_row: None
            })
        );
    }

    #[test]
    fn a_line_confirmed_twice_is_refused() {
        let rows = vec![(4, RowHash(1)), (2, RowHash(1)), (4, RowHash(1))];
        assert_eq!(ConfirmedRows::new(rows), Err(4));
    }
}
