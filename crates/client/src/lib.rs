//! Bulk upsert of HubSpot CRM projects that paces itself, retries safely and accounts for
//! every record.
//!
//! ```no_run
//! use hubspot_projects::{Client, Outcome, UpsertInput};
//!
//! # async fn run() -> Result<(), hubspot_projects::Error> {
//! let client = Client::builder()
//!     .access_token(std::env::var("HUBSPOT_ACCESS_TOKEN").unwrap_or_default())
//!     .rate_budget("100/10s".parse().expect("a valid budget"))
//!     .build()?;
//!
//! let inputs = (0..250)
//!     .map(|i| UpsertInput::new("project_code", format!("PRJ-{i}")).property("hs_name", format!("Project {i}")))
//!     .collect();
//! let report = client.upsert(inputs).await; // 3 requests: 100, 100, 50
//! for record in &report.outcomes {
//!     match &record.outcome {
//!         Outcome::Created { record_id } | Outcome::Updated { record_id } => {
//!             println!("{} → {record_id}", record.id)
//!         }
//!         Outcome::Failed(error) => eprintln!("{}: {error}", record.id),
//!         Outcome::NotAttempted(reason) => eprintln!("{}: {reason}", record.id),
//!     }
//! }
//! println!("{:?}", report.summary);
//! # Ok(())
//! # }
//! ```
//!
//! # What the client does for you
//!
//! - **Auth**: the token goes in a sensitive `Authorization: Bearer` header; it never appears
//!   in `Debug` output, errors or logs.
//! - **Batches**: [`Client::upsert`] and [`Client::upsert_stream`] split inputs into requests
//!   of at most 100, never with two writes to the same record in one request; a later write
//!   to a record waits for the earlier one, so the last write in input order wins.
//! - **Pacing**: a GCRA limiter (shared by every clone of the client) keeps the configured
//!   [`RateBudget`] in every window, and tightens itself from HubSpot's rate-limit headers.
//! - **Retries** ([`RetryPolicy`]): short-window 429s, 408, 5xx, connection errors and
//!   timeouts, with exponential backoff, full jitter and `Retry-After`. The daily 429 is never
//!   retried: sending stops and the rest is reported [`NotAttempted`].
//! - **Outcomes**: every input ends [`Outcome::Created`], [`Outcome::Updated`],
//!   [`Outcome::Failed`] (with HubSpot's category, message and correlation id) or
//!   [`Outcome::NotAttempted`]. An input HubSpot's answer does not confirm is never counted as
//!   a success.
//!
//! The generated client and its types are re-exported as [`api`] and [`types`].

#![warn(missing_docs)]

mod classify;
mod client;
mod config;
mod correlate;
mod engine;
mod error;
mod input;
mod outcome;
mod pace;
mod plan;
mod retry;
mod send;
mod tag;

pub use client::Client;
pub use config::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
    MAX_BATCH_SIZE,
};
pub use error::Error;
pub use input::UpsertInput;
pub use outcome::{
    BatchAnswer, BatchReport, NotAttempted, Outcome, RecordError, RecordOutcome, Summary,
    UpsertReport,
};
pub use pace::{ParseRateBudgetError, RateBudget};
pub use plan::BatchPlanner;
pub use retry::RetryPolicy;

/// The generated (progenitor) crate this one builds on.
pub use hubspot_projects_api as api;
/// The generated request and response types.
pub use hubspot_projects_api::types;
pub use hubspot_projects_api::{BatchStatus, CORRELATION_ID_HEADER};
