//! A stateful local emulator of HubSpot's CRM projects batch upsert
//! (`POST /crm/objects/v3/projects/batch/upsert`), faithful enough to test an integration end
//! to end without a HubSpot account.
//!
//! It keeps records in memory and upserts them by a unique property, answers with HubSpot's
//! shapes (200, 207 with per-input errors, 400, 401, 403, 413, HubSpot's 429 bodies), counts
//! requests against per-token rolling and daily budgets, and injects faults (500, HTML 502,
//! 503, 429, dropped connections, latency) drawn from a seeded generator.
//!
//! Bodies whose shape the contract (`openapi/projects.json`) defines are serialized through the
//! types generated from it (`hubspot-projects-api`), so the emulator cannot drift from it.
//!
//! ```no_run
//! use hubspot_projects_emulator::{Emulator, EmulatorConfig};
//! # async fn run() -> std::io::Result<()> {
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! println!("HubSpot at {}", emulator.base_url());
//! // ... point a client at it, then check the end state:
//! assert_eq!(emulator.records().len(), emulator.record_count());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Routes
//!
//! - `POST` the batch upsert at each of [`UPSERT_PATHS`].
//! - `GET /crm/objects/v3/projects/{id}` (also under `2026-03` and `/crm/v3/objects/projects`),
//!   with optional `idProperty` and `properties=a,b`, reads a record back.
//! - `GET /_emulator/health` answers `{"status":"ok"}`.
//! - `GET /_emulator/records` lists every record as NDJSON: `id`, `properties`, `createdAt`,
//!   `updatedAt`.
//!
//! The `/_emulator/` routes need no token and are not counted, limited or faulted.
//!
//! # Semantics, and the emulator's assumptions
//!
//! - The schema holds `hs_name`, `hs_description`, `hs_pipeline`, `hs_pipeline_stage`,
//!   `hs_target_due_date`, `hubspot_owner_id`, the unique custom `project_code`, the read-only
//!   `hs_object_id`, `hs_createdate` and `hs_lastmodifieddate`, and any configured
//!   [`PropertyDef`].
//! - An input with a unique `idProperty` creates the record (`new: true`, a fresh numeric id,
//!   `createdAt == updatedAt`) or updates it (`new: false`, `updatedAt` moves on, properties the
//!   input does not name are kept).
//! - **Assumption:** HubSpot does not document an input without `idProperty`. The emulator
//!   takes its `id` as the record id: the record is updated when it exists, and otherwise that
//!   input fails (`OBJECT_NOT_FOUND`) in a 207.
//! - A property set to the empty string is cleared, as HubSpot does.
//! - A whole batch is refused with a 400 `VALIDATION_ERROR` when an `idProperty` is unknown or
//!   not unique (`hs_object_id` included), when two inputs name the same record, when it holds
//!   more than 100 inputs, or when its JSON is malformed or mistyped. Bodies over
//!   [`MAX_BODY_BYTES`] get a 413.
//! - An input that names an unknown or read-only property, or takes another record's unique
//!   value, fails on its own in a 207; the others are written. Its `StandardError` has
//!   `status: "error"`, the input's `id`, and a `context` of `id`, `objectWriteTraceId` (when
//!   the input had one) and `propertyName`.
//! - Each batch is applied under one lock, so concurrent batches upserting one unique value end
//!   with one record.
//! - Budgets are counted per token and only for admitted requests: a 429 does not consume
//!   budget (see [`EmulatorConfig::rate_limit`]). The rate-limit headers are sent on every API
//!   answer when a budget is configured, and left out otherwise.
//! - The order of the gate is: token (401/403), budgets (429), faults, then the request itself.
//!   A faulted request was counted against the budget, as it reached the server; only the
//!   latency fault goes on to write records.

#![warn(missing_docs)]

mod cli;
mod config;
mod faults;
mod limits;
mod server;
mod store;

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use cli::{EmulatorArgs, serve};
pub use config::{
    ConfigError, EmulatorConfig, Faults, PropertyDef, READ_SCOPE, RateBudget, TokenGrant,
    WRITE_SCOPE,
};
pub use server::{MAX_BODY_BYTES, UPSERT_PATHS};

/// Starts emulators.
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `127.0.0.1:config.port` and serves in the background until the handle is shut
    /// down or dropped.
    ///
    /// Fails when the port cannot be bound or a fault probability is outside `0..=1`.
    pub async fn start(config: EmulatorConfig) -> io::Result<EmulatorHandle> {
        config
            .faults
            .validate()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(server::AppState::new(&config));
        let router = server::router(state.clone());
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

/// A running emulator. Dropping it stops the server too, without waiting.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    state: Arc<server::AppState>,
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
    /// faulted and dropped ones included; `/_emulator/` routes excluded).
    pub fn request_count(&self) -> u64 {
        self.state.request_count()
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
