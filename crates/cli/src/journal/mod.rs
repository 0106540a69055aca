//! The journal: which rows of an input HubSpot has confirmed writing, recorded as answers
//! arrive, so that a run stopped at any point (Ctrl-C, a crash, `kill -9`, the daily limit)
//! resumes without loss and without sending those rows again.
//!
//! The file is NDJSON. The first line is a [`JournalHeader`]: the format version, and the
//! fingerprint of what the journal covers (the input's format, id property and column, the
//! options that change what is sent, and the CSV header). Each further line is a
//! [`JournalEntry`]: a row's line, its id, the outcome HubSpot confirmed, and the [`RowHash`] of
//! the row exactly as it was sent.
//!
//! A journal is trusted only as far as it can be checked ([`read_confirmed`],
//! [`ResumeCheck`]):
//!
//! - its header must match the run's, or it is refused;
//! - a row is skipped only when the journal confirmed (created or updated) that very line with
//!   the same hash, so the same id and the same values; any other entry (failed, not attempted)
//!   is never skipped;
//! - a row that differs from the journal's at a confirmed line, or a confirmed line where the
//!   input has no row, means the input changed: the journal is refused, naming the line and
//!   the ids, rather than trusted;
//! - a line longer than [`MAX_LINE_BYTES`], an entry that names a line the input cannot have,
//!   more entries than the input has lines, a line confirmed twice, or a file that is not a
//!   regular file, is refused as damaged;
//! - only a half-written last line, as `kill -9` can leave, is ignored (the row it named is
//!   sent again, which an upsert makes harmless), and cut before the next entry is appended.
//!
//! Entries are appended as each batch completes and reach the disk (fsync) at most a few times
//! a second and at the end.
//!
//! [`RowHash`]: crate::row_hash::RowHash

mod check;
mod entry;
mod error;
mod header;
mod lines;
mod read;
mod write;

pub use check::{ConfirmedRows, ResumeCheck, RowMismatch, Verdict};
pub use entry::JournalEntry;
pub use error::JournalError;
pub use header::{FORMAT_VERSION, JournalHeader};
pub use lines::MAX_LINE_BYTES;
pub use read::{Entries, JournalLimits, entries, mismatch_error, read_confirmed};
pub use write::JournalWriter;
