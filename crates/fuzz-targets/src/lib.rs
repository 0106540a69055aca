//! The bodies of the workspace's fuzz targets: what untrusted bytes reach, each driven with
//! arbitrary input and checked for more than "no panic".
//!
//! | target | what it feeds | what it checks besides panics |
//! |---|---|---|
//! | `csv_reader` | a CSV file to the CLI's reader | lines strictly increase; each row a record or an error naming its line; the same rows whatever the reads' sizes; an I/O failure ends the rows with one error; `--empty-as-blank` changes only empty values |
//! | `ndjson_reader` | an NDJSON file to the CLI's reader | the same, and every row's line holds the text it came from |
//! | `journal` | a journal file to the CLI's resume | entries within the input's bounds; `read_confirmed` agrees with the entries: refuses what they cannot support, otherwise confirms exactly their written rows |
//! | `client_error` | an error answer (status, headers, body) to the client | the status and correlation id are kept; HubSpot's message or an excerpt without control characters; the daily 429 is told apart |
//! | `client_answer` | a 2xx answer to a batch of inputs | one outcome per input; a write is reported only for a result of the answer that names that input |
//! | `property_errors` | a validation message | what it reads survives being written back and read again |
//! | `emulator_upsert` | HTTP requests to the emulator's routes | every answer has a status and a correlation id; JSON answers of the batch upsert match the contract; records appear only as the answers say |
//!
//! Each body is a function of the input bytes that panics when a check fails, so that
//! cargo-fuzz (the `fuzz/` directory) and the stable smoke run (`tests/smoke.rs`, part of
//! `cargo test --workspace`) run exactly the same code. The inputs are text where the target
//! takes more than one thing (see [`case`]), so that seeds can be written by hand.

#![warn(missing_docs)]

pub mod case;
pub mod contract;
pub mod smoke;
pub mod source;
pub mod targets;

/// One fuzz target: its name (as cargo-fuzz knows it) and its body.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The name of the cargo-fuzz target and of its seed, regression and dictionary files.
    pub name: &'static str,
    /// Runs one input; panics when a check fails.
    pub run: fn(&[u8]),
}

/// Every target, in the order the smoke run takes them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "csv_reader",
        run: targets::csv_reader::run,
    },
    Target {
        name: "ndjson_reader",
        run: targets::ndjson_reader::run,
    },
    Target {
        name: "journal",
        run: targets::journal::run,
    },
    Target {
        name: "client_error",
        run: targets::client_error::run,
    },
    Target {
        name: "client_answer",
        run: targets::client_answer::run,
    },
    Target {
        name: "property_errors",
        run: targets::property_errors::run,
    },
    Target {
        name: "emulator_upsert",
        run: targets::emulator_upsert::run,
    },
];

/// The target named `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|target| target.name == name)
}
