//! Bulk upsert of HubSpot CRM projects that paces itself, retries safely and accounts for
//! every record.
//!
//! ```
//! use hubspot_projects::{Client, Outcome, UpsertInput};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # // A local HubSpot stands in for the real one, so that this example runs as a test.
//! # let hubspot = hubspot_projects_emulator::Emulator::start(Default::default()).await?;
//! let client = Client::builder()
//!     .access_token("pat-na1-00000000-0000-0000-0000-000000000000") // sent as Bearer, never printed
//! #   .base_url(hubspot.base_url())
//!     .rate_budget("100/10s".parse()?)
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
//!         _ => {}
//!     }
//! }
//! assert_eq!(report.summary.created, 250);
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
//!   timeouts, with exponential backoff, full jitter and `Retry-After` (capped).
//! - **Stops**: HubSpot's daily 429, a refused token (401, 403) and an endpoint that answers
//!   nothing for too long stop the run at once instead of failing every later batch the same
//!   way: the rest is reported [`NotAttempted`] with the reason, to send again later.
//! - **Outcomes**: every input ends [`Outcome::Created`], [`Outcome::Updated`],
//!   [`Outcome::Failed`] (with HubSpot's category, message and correlation id) or
//!   [`Outcome::NotAttempted`]. An input HubSpot's answer does not confirm is never counted as
//!   a success.
//!
//! The generated client and its types are re-exported as [`api`] and [`types`].

#![warn(missing_docs)]

mod auth;
mod batch;
mod classify;
mod client;
mod config;
mod correlate;
mod engine;
mod error;
mod exchange;
mod inflight;
mod input;
mod isolate;
mod outcome;
mod pace;
mod plan;
#[cfg(feature = "redis")]
mod redis_budget;
mod retry;
mod shared;
mod stop;
mod store;
mod tag;
mod token;

pub use auth::{
    AccessToken, AuthError, OAuthCredentials, RefreshTokenCallback, TokenFuture, TokenSource,
    write_refresh_token_file,
};
pub use client::Client;
pub use config::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_MAX_IN_FLIGHT, DEFAULT_TIMEOUT,
    DEFAULT_UNREACHABLE_AFTER, DEFAULT_USER_AGENT, MAX_BATCH_SIZE, MAX_IN_FLIGHT_LIMIT,
};
pub use error::{ConfigError, Error, ErrorCategory};
pub use input::UpsertInput;
pub use outcome::{
    BatchAnswer, BatchReport, NotAttempted, Outcome, PropertyError, RecordError, RecordOutcome,
    Summary, UpsertReport,
};
pub use pace::{ParseRateBudgetError, RateBudget};
pub use plan::BatchPlanner;
#[cfg(feature = "redis")]
pub use redis_budget::RedisBudget;
pub use retry::RetryPolicy;

/// The API versions of the batch upsert this client can call, oldest first, as the contract
/// holds them: HubSpot's generally available versions and any beta it was imported with.
///
/// ```
/// let versions = hubspot_projects::api_versions();
/// assert!(versions.contains(&hubspot_projects::DEFAULT_API_VERSION));
/// for version in &versions {
///     assert!(hubspot_projects::api::operations::batch_upsert(version).is_some());
/// }
/// ```
pub fn api_versions() -> Vec<&'static str> {
    hubspot_projects_api::operations::BATCH_UPSERT
        .iter()
        .map(|operation| operation.version)
        .collect()
}

/// The API version a client calls unless told otherwise: the newest generally available one
/// in the contract.
pub const DEFAULT_API_VERSION: &str =
    hubspot_projects_api::operations::default_batch_upsert().version;

/// The generated (progenitor) crate this one builds on.
pub use hubspot_projects_api as api;
/// The generated request and response types.
pub use hubspot_projects_api::types;
pub use hubspot_projects_api::{BatchStatus, CORRELATION_ID_HEADER};

/// The engine's per-batch work, exposed for the micro-benchmark only: not part of the API.
#[doc(hidden)]
pub mod bench_support {
    use crate::{Client, Outcome, UpsertInput, types};

    /// Tags and serializes one batch exactly as the engine does before sending it.
    pub fn serialize_batch(client: &Client, inputs: Vec<UpsertInput>) -> bytes::Bytes {
        crate::batch::prepare(client.shared(), inputs).body
    }

    /// Reads a 2xx answer to `inputs` (as sent) into outcomes exactly as the engine does.
    pub fn read_answer(
        inputs: &[types::SimplePublicObjectBatchInputUpsert],
        answer: &[u8],
    ) -> Vec<Outcome> {
        crate::batch::outcomes_of(inputs, 200, None, answer)
    }
}

/// How the engine reads HubSpot's error answers, exposed for the fuzz targets only: not part of
/// the API.
#[doc(hidden)]
pub mod fuzz_support {
    use crate::{Error, PropertyError};

    /// Reads an error answer (any status outside 2xx, any body) exactly as the engine does.
    pub fn error_from_answer(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Error {
        crate::classify::error_from_answer(status, headers, body)
    }

    /// Reads the property errors HubSpot embeds in a validation message, as the engine does.
    pub fn property_errors(message: &str) -> Vec<PropertyError> {
        crate::classify::property_errors(message)
    }
}

/// Secret strings, as [`OAuthCredentials::on_refresh_token`] hands them out.
pub use secrecy::{ExposeSecret, SecretString};
