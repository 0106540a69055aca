//! The file formats of the `hubspot-projects` command: what it reads, and what it writes so
//! that a run can be checked and resumed.
//!
//! - [`input`]: CSV and NDJSON readers that turn rows into [`UpsertInput`]s lazily, with the
//!   line each row starts on, and bad rows as errors that name the line, the id and what to do.
//! - [`row_hash`]: a stable hash of an input exactly as it is sent.
//! - [`journal`]: the record of what HubSpot confirmed writing, with the fingerprint of the
//!   input it covers, and the check that lets a resumed run skip only rows whose exact content
//!   was confirmed at the same line.
//! - [`report`]: one NDJSON line per input and what became of it.
//!
//! Reading a CSV file:
//!
//! ```
//! use hubspot_projects_cli::input::{InputFormat, ReadOptions, Records};
//!
//! let text = "project_code,hs_name\r\nPRJ-1,Launch\r\n\r\nPRJ-2,Build\r\n";
//! let options = ReadOptions::new("project_code");
//! let records = Records::open(text.as_bytes(), InputFormat::Csv, options)?;
//! assert_eq!(records.columns(), ["project_code", "hs_name"]);
//! let lines: Vec<u64> = records.map(|row| row.unwrap().line).collect();
//! assert_eq!(lines, [2, 4]);
//! # Ok::<(), hubspot_projects_cli::input::FatalInputError>(())
//! ```
//!
//! [`UpsertInput`]: hubspot_projects::UpsertInput

#![warn(missing_docs)]

pub mod input;
pub mod journal;
pub mod report;
pub mod row_hash;
