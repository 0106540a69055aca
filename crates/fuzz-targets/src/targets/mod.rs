//! The targets' bodies, one module each.

pub mod client_answer;
pub mod client_error;
pub mod csv_reader;
pub mod emulator_upsert;
pub mod journal;
pub mod ndjson_reader;
pub mod property_errors;
mod rows;
