//! A stateful local emulator of HubSpot's CRM projects batch upsert
//! (`POST /crm/objects/v3/projects/batch/upsert`), faithful enough to test an integration end
//! to end without a HubSpot account, and unfriendly where HubSpot is.
//!
//! It keeps records in memory and upserts them by a unique property, checks values against
//! typed properties, answers with HubSpot's shapes (200, 207 with per-input errors, the whole
//! batch's 400 and 409, 401 with an expired OAuth token, 403, 408, 413, 415, HubSpot's 429
//! bodies), takes HubSpot's time to answer, counts requests against rolling and daily budgets,
//! serves OAuth's refresh grant with expiring access tokens, and injects faults (500, HTML 502,
//! 503, 429, dropped connections, latency) drawn from a seeded generator.
//!
//! Bodies whose shape the contract (`openapi/projects.json`) defines are serialized through the
//! types generated from it (`hubspot-projects-api`), so the emulator cannot drift from it.
//!
//! ```no_run
//! use hubspot_projects_emulator::{Emulator, EmulatorConfig};
//! # async fn run() -> std::io::Result<()> {
//! let emulator = Emulator::start(EmulatorConfig {
//!     latency: "300ms..1500ms".parse().unwrap(),
//!     ..EmulatorConfig::default()
//! })
//! .await?;
//! println!("HubSpot at {}", emulator.base_url());
//! // ... point a client at it, then check the end state:
//! assert_eq!(emulator.records().len(), emulator.record_count());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The command-line face (`EmulatorArgs`, `serve`, and the `hubspot-projects-emulator`
//! binary) needs the `cli` feature.
//!
//! # Routes
//!
//! - `POST` the batch upsert at each of [`UPSERT_PATHS`] whose version is served (all by
//!   default; see [`EmulatorConfig::api_versions`]), and `GET` one record back at the same
//!   version's [`UpsertPath::read_path`], with optional `idProperty` and `properties=a,b`.
//! - `POST` the OAuth token endpoint at each of [`TOKEN_PATHS`] (form-encoded
//!   `grant_type=refresh_token&client_id=…&client_secret=…&refresh_token=…`).
//! - `GET /_emulator/health` answers `{"status":"ok"}`.
//! - `GET /_emulator/records` lists every record as NDJSON: `id`, `properties`, `createdAt`,
//!   `updatedAt`.
//! - `GET /_emulator/stats` answers `{"requests":N,"firstRequestAt":…,"lastRequestAt":…}`:
//!   the requests on the HubSpot routes (refused ones included) and when the first and the
//!   latest arrived, in milliseconds since the epoch (`null` before any).
//! - `GET /_emulator/oauth` answers the [`OAuthCounters`] as JSON: `refreshes`,
//!   `refusedRefreshes`, `accessTokensIssued`, `refreshTokensRotated`,
//!   `expiredTokenRejections`, `refreshTokensRevoked`.
//! - `POST /_emulator/oauth/revoke` with `{"refreshToken": "…"}` revokes that refresh token
//!   (access tokens issued from it live on, as in HubSpot), with `{"clientId": "…"}`
//!   uninstalls the app (its refresh and access tokens all stop working); answers
//!   `{"revoked": N}`.
//!
//! The `/_emulator/` routes and the token endpoint need no bearer token and are not counted,
//! limited or faulted. The token endpoint's answers take the configured [`Latency`] (see
//! [`EmulatorConfig::latency`]); the `/_emulator/` routes answer at once.
//!
//! # Semantics, and the emulator's assumptions
//!
//! - The schema holds HubSpot's built-in properties, typed as HubSpot types them:
//!   `hs_name`, `hs_description`, `hs_pipeline` (strings), `hs_pipeline_stage` (an
//!   enumeration of [`DEFAULT_PIPELINE_STAGES`]), `hs_target_due_date` (a date),
//!   `hubspot_owner_id` (a number); the unique custom string `project_code`; the read-only
//!   `hs_object_id`, `hs_createdate` and `hs_lastmodifieddate`; and any configured
//!   [`PropertyDef`], which may redefine a default one.
//! - Values are checked against their property's [`PropertyType`]; the empty string is always
//!   valid and clears the property, as HubSpot does.
//! - An input with a unique `idProperty` creates the record (`new: true`, a fresh numeric id,
//!   `createdAt == updatedAt`) or updates it (`new: false`, `updatedAt` moves on, properties the
//!   input does not name are kept).
//! - **Record identity.** An input without `idProperty` names a record by its record id
//!   (HubSpot does not document this case): the record is updated when it exists, and otherwise
//!   that input fails on its own (`OBJECT_NOT_FOUND`, in a 207, in both batch error modes).
//!   `idProperty: "hs_object_id"` is refused like any property without unique values: the
//!   whole batch gets a 400 `VALIDATION_ERROR` "Unable to perform update/upsert by non-unique
//!   … hs_object_id", as HubSpot answers. Two inputs that name one record, by the same key or
//!   by a record id and a unique value that lead to it, reject the whole batch with a 400
//!   (`Duplicate IDs found in batch input`, the ids in `context.ids`), nothing written.
//! - A whole batch is also refused with a 400 `VALIDATION_ERROR` when an `idProperty` is
//!   unknown or not unique, when it holds more than 100 inputs, or when its JSON is malformed
//!   or mistyped; with a 413 when its body is over [`MAX_BODY_BYTES`]; with a 415 when its
//!   `Content-Type` is not JSON; with a 408 (and the connection closed) when its body does not
//!   arrive within [`EmulatorConfig::body_timeout`].
//! - Bad input data is answered as [`BatchErrors`] says. With [`BatchErrors::Whole`] (the
//!   default, HubSpot's observed behaviour) an unknown or read-only property, an invalid
//!   value or an empty id makes the whole batch a 400 `VALIDATION_ERROR` whose message is
//!   `Property values were not valid: [...]`, one entry per bad property of the first bad
//!   input (`isValid`, `message`, `error`, `name`, `localizedErrorMessage`, `propertyValue`),
//!   with `errors[]` (`code`, `message`, `context.propertyName`) and `context.propertyName`; a
//!   unique value that another record holds makes it a 409 `CONFLICT` naming the property and
//!   the value (`context.propertyName`, `context.propertyValue`). Nothing of such a batch is
//!   written. With [`BatchErrors::PerInput`] each bad input fails on its own in a 207: its
//!   `StandardError` has `status: "error"`, the input's `id`, the same embedded report in its
//!   message, and a `context` of `id`, `objectWriteTraceId` (when the input had one) and
//!   `propertyName`; the others are written.
//! - Each batch is applied under one lock, so concurrent batches upserting one unique value end
//!   with one record.
//! - Budgets are counted per static token, and per app for OAuth access tokens, and only for
//!   admitted requests: a 429 does not consume budget (see [`EmulatorConfig::rate_limit`]).
//!   The rate-limit headers are sent on every API answer when a budget is configured, and
//!   left out otherwise.
//! - The order of the gate is: token (401/403), budgets (429), faults, then the request itself;
//!   the answer leaves after the configured [`Latency`] (counted from the request's arrival),
//!   whatever it is. A faulted request was counted against the budget, as it reached the
//!   server; only the latency fault goes on to write records.
//! - An expired OAuth access token gets HubSpot's 401: category `EXPIRED_AUTHENTICATION`,
//!   `status: "error"`, the message `The OAuth token used to make this call expired N
//!   second(s) ago.` (or minute(s), hour(s), day(s): the largest whole unit), and the time of
//!   expiry in `context["expire time"]`.
//! - Secrets (static tokens, client secrets, refresh and access tokens) are never logged nor
//!   shown in `Debug` output.

#![warn(missing_docs)]

mod admin;
mod answers;
mod api;
mod body;
#[cfg(feature = "cli")]
mod cli;
mod config;
mod error_shapes;
mod faults;
mod headers;
mod latency;
mod limits;
mod oauth;
mod paths;
mod props;
mod schema;
mod server;
mod state;
mod store;
mod time;
mod token_endpoint;
mod unique;
mod values;

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api::MAX_BODY_BYTES;
#[cfg(feature = "cli")]
pub use cli::{EmulatorArgs, serve};
pub use config::{
    BatchErrors, ConfigError, DEFAULT_BODY_TIMEOUT, DEFAULT_TOKEN_TTL, EmulatorConfig, Faults,
    READ_SCOPE, RateBudget, TokenGrant, WRITE_SCOPE,
};
pub use latency::Latency;
pub use oauth::{OAuthClient, OAuthCounters};
pub use paths::{TOKEN_PATHS, UPSERT_PATHS, UpsertPath, api_versions};
pub use schema::{DEFAULT_PIPELINE_STAGES, PropertyDef, PropertyType};

/// Starts emulators.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `127.0.0.1:config.port` and serves in the background until the handle is shut
    /// down or dropped.
    ///
    /// Fails when the configuration does not pass [`EmulatorConfig::validate`] (for example
    /// fault probabilities that add up to more than 1), or the port cannot be bound.
    pub async fn start(config: EmulatorConfig) -> io::Result<EmulatorHandle> {
        config
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(state::AppState::new(&config));
        let router = server::router(state.clone(), &config);
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(server::run(listener, router, receiver));
        Ok(EmulatorHandle {
            addr,
            state,
            shutdown,
            task,
        })
    }
}

/// The emulator's application without a listener, exposed for the fuzz targets only: not part
/// of the API.
#[doc(hidden)]
pub mod fuzz_support {
    use std::sync::Arc;

    use crate::{ConfigError, EmulatorConfig, server, state};

    /// The routes [`Emulator::start`](crate::Emulator::start) serves for `config`, with a fresh
    /// state, to be called in-process (`tower_service::Service::call`). `config.port` is not
    /// used.
    pub fn router(config: &EmulatorConfig) -> Result<axum::Router, ConfigError> {
        config.validate()?;
        let state = Arc::new(state::AppState::new(config));
        Ok(server::router(state, config))
    }
}

/// A running emulator. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    state: Arc<state::AppState>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl EmulatorHandle {
    /// The base URL to give a client, like `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the emulator listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of every record, in id order.
    pub fn records(&self) -> Vec<Record> {
        let store = self.state.store();
        store
            .all()
            .map(|r| Record {
                id: r.id_text(),
                properties: r.owned_properties(),
                created_at: r.created_at(),
                updated_at: r.updated_at(),
            })
            .collect()
    }

    /// The number of records.
    pub fn record_count(&self) -> usize {
        self.state.store().len()
    }

    /// The number of requests received on the HubSpot routes, whatever their answer (refused,
    /// faulted and dropped ones included; `/_emulator/` routes and the OAuth token endpoint
    /// excluded).
    pub fn request_count(&self) -> u64 {
        self.state.request_count()
    }

    /// What the OAuth token endpoint and the API's token checks have counted so far.
    pub fn oauth_counters(&self) -> OAuthCounters {
        self.state.oauth().counters()
    }

    /// Every refresh token the OAuth token endpoint handed out in place of a used one
    /// (`rotate_refresh_tokens`), oldest first; the configured ones are not in it. For tests
    /// that check that no refresh token shows in what a client writes or logs. Only the handle
    /// gives them: no route does.
    pub fn issued_refresh_tokens(&self) -> Vec<String> {
        self.state.oauth().issued_refresh_tokens()
    }

    /// Revokes one refresh token; access tokens issued from it live on, as in HubSpot.
    /// Returns whether the token was live.
    pub fn revoke_refresh_token(&self, refresh_token: &str) -> bool {
        self.state.oauth().revoke_refresh_token(refresh_token) > 0
    }

    /// Uninstalls an OAuth app: its refresh tokens and access tokens all stop working.
    /// Returns the number of refresh tokens revoked.
    pub fn revoke_oauth_client(&self, client_id: &str) -> u64 {
        self.state.oauth().revoke_client(client_id)
    }

    /// Stops accepting connections, lets open ones finish (at most 5 s), and waits for the
    /// server to stop.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// A stored project, as [`EmulatorHandle::records`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// HubSpot's numeric record id, as a string.
    pub id: String,
    /// The property values written (system properties such as `hs_object_id` left out).
    pub properties: BTreeMap<String, String>,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record was last updated.
    pub updated_at: DateTime<Utc>,
}
