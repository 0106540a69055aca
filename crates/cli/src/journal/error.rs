//! What can be wrong with a journal, in words a person can act on.

use std::path::PathBuf;

/// How to start over, the remedy of every journal that cannot be trusted.
pub(crate) const START_OVER: &str = "start over: delete the journal (or give another --journal \
     file) and run without --resume; records already written are then updated again, not \
     duplicated";

/// Problems with a journal file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file cannot be read or written.
    #[error("journal {path}: {source}")]
    Io {
        /// The journal's path.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The path is a device, a pipe or a directory: a journal must be a file that can be read
    /// back and synced.
    #[error("journal {0} is not a regular file; give --journal the path of a file")]
    NotRegular(PathBuf),
    /// The file is not a journal of this tool.
    #[error(
        "{path} is not a hubspot-projects journal ({detail}); give --journal another path, \
         and never the input or the report"
    )]
    NotAJournal {
        /// The path.
        path: PathBuf,
        /// What was found instead.
        detail: String,
    },
    /// The journal was written by another version of this tool.
    #[error(
        "journal {path} is in format {version}, which this version of hubspot-projects does not \
         read{why}; {}",
        START_OVER
    )]
    OtherFormat {
        /// The journal's path.
        path: PathBuf,
        /// The version its header names.
        version: u64,
        /// Why it cannot be read.
        why: &'static str,
    },
    /// The journal is damaged before its last line, or holds what no input can match.
    #[error("journal {path} is damaged: {message}; {}", START_OVER)]
    Damaged {
        /// The journal's path.
        path: PathBuf,
        /// What is wrong, and where.
        message: String,
    },
    /// The journal was written for another input or other options.
    #[error(
        "journal {path} was written for {input:?} read another way: {}; it cannot tell what was \
         written for this run. Resume with the same options, or {}",
        differences.join("; "), START_OVER
    )]
    HeaderMismatch {
        /// The journal's path.
        path: PathBuf,
        /// The input the journal names.
        input: String,
        /// What differs.
        differences: Vec<String>,
    },
    /// The input's rows are not the ones the journal confirmed.
    #[error("{0}")]
    InputMismatch(String),
    /// Without --resume, an existing journal is not overwritten.
    #[error(
        "journal {0} already exists: add --resume to continue that run, or delete the file to \
         start over"
    )]
    Exists(PathBuf),
}
