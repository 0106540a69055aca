//! What every request of a client and its clones shares: the HTTP client, the credentials,
//! the pacer, the bound on requests in flight and the retry policy.

use std::time::Duration;

use crate::auth::{OAuthSource, TokenSource};
use crate::config::ClientBuilder;
use crate::inflight::{InFlight, Mode};
use crate::pace::Pacer;
use crate::retry::{Jitter, RetryPolicy};
use crate::store::BudgetStore;
use crate::tag::TraceIds;
use std::sync::Arc;

/// Where a client's access tokens come from.
pub(crate) enum Auth {
    /// A static token, or the caller's own source.
    Source(Arc<dyn TokenSource>),
    /// An OAuth app's credentials, refreshed by the client.
    OAuth(Arc<OAuthSource>),
}

impl Auth {
    pub(crate) fn source(&self) -> &dyn TokenSource {
        match self {
            Self::Source(source) => source.as_ref(),
            Self::OAuth(source) => source.as_ref(),
        }
    }
}

/// The state behind a [`Client`](crate::Client), shared by its clones and by every run.
pub(crate) struct Shared {
    /// The generated client: its hooks (tracing span, header clean-up) wrap every request.
    pub(crate) api: hubspot_projects_api::Client,
    pub(crate) base_url: String,
    /// The batch upsert of the API version in use, as the contract describes it.
    pub(crate) operation: &'static hubspot_projects_api::Operation,
    /// Its method and full URL.
    pub(crate) method: reqwest::Method,
    pub(crate) upsert_url: String,
    /// Where access tokens come from; `None` when the caller's HTTP client sends them.
    pub(crate) auth: Option<Auth>,
    pub(crate) pacer: Pacer,
    pub(crate) in_flight: InFlight,
    pub(crate) retry: RetryPolicy,
    pub(crate) jitter: Jitter,
    pub(crate) trace_ids: TraceIds,
    pub(crate) batch_size: usize,
    pub(crate) unreachable_after: Duration,
    /// Whether a batch HubSpot rejects whole for some inputs' data is split to write the rest.
    pub(crate) isolate: bool,
}

impl Shared {
    pub(crate) fn new(
        builder: &ClientBuilder,
        base_url: String,
        http: reqwest::Client,
        auth: Option<Auth>,
        operation: &'static hubspot_projects_api::Operation,
        store: Arc<dyn BudgetStore>,
    ) -> Self {
        let upsert_url = format!("{base_url}{}", operation.path);
        Self {
            api: hubspot_projects_api::Client::new_with_client(&base_url, http),
            base_url,
            operation,
            // The contract's methods are HTTP's own; POST is the batch upsert's.
            method: reqwest::Method::from_bytes(operation.method.as_bytes())
                .unwrap_or(reqwest::Method::POST),
            upsert_url,
            auth,
            pacer: Pacer::with_store(builder.rate_budget, store, builder.timeout),
            in_flight: InFlight::new(
                if builder.fixed_in_flight {
                    Mode::Fixed(builder.max_in_flight)
                } else {
                    Mode::Auto {
                        max: builder.max_in_flight,
                    }
                },
                builder.rate_budget,
            ),
            retry: builder.retry_policy,
            jitter: Jitter::new(),
            trace_ids: TraceIds::new(),
            batch_size: builder.batch_size,
            unreachable_after: builder.unreachable_after,
            isolate: builder.isolate_rejected_inputs,
        }
    }
}
