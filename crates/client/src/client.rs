//! The client façade: cheap to clone, every clone sharing one pacer and one bound on requests
//! in flight. The work is done by [`batch`](crate::batch) (one batch) and
//! [`engine`](crate::engine) (a stream of them).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;

use crate::batch;
use crate::config::{ClientBuilder, MAX_BATCH_SIZE};
use crate::engine;
use crate::error::Error;
use crate::input::UpsertInput;
use crate::outcome::{BatchAnswer, BatchReport, RecordOutcome, Summary, UpsertReport};
use crate::pace::RateBudget;
use crate::plan::record_key;
use crate::retry::RetryPolicy;
use crate::shared::Shared;

/// The HubSpot CRM projects client. Clones are cheap and share the rate limiter and the bound
/// on requests in flight.
///
/// `Debug` output never shows the access token.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.base_url)
            .field("api_version", &self.shared.operation.version)
            .field("rate_budget", &self.rate_budget())
            .field("in_flight", &self.shared.in_flight.mode())
            .field("batch_size", &self.shared.batch_size)
            .field("retry_policy", &self.shared.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Where requests go.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The API version requests go to (`v3`, `2026-03`, …).
    pub fn api_version(&self) -> &'static str {
        self.shared.operation.version
    }

    /// The rate budget applied now: the configured one, or a lower one HubSpot's rate-limit
    /// headers announced.
    pub fn rate_budget(&self) -> RateBudget {
        self.shared.pacer.current()
    }

    /// How many requests may be in flight now: with the default automatic setting, what the
    /// rate budget needs at the latency HubSpot has been answering with (see
    /// [`ClientBuilder::max_in_flight`]).
    pub fn in_flight_limit(&self) -> usize {
        self.shared.in_flight.target()
    }

    /// How many access tokens the client got from HubSpot's token endpoint (OAuth credentials
    /// only; 0 otherwise).
    pub fn token_refreshes(&self) -> u64 {
        match &self.shared.auth {
            Some(crate::shared::Auth::OAuth(source)) => source.refreshes(),
            _ => 0,
        }
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.shared.retry
    }

    /// Inputs per request in [`upsert`](Self::upsert) and [`upsert_stream`](Self::upsert_stream).
    pub fn batch_size(&self) -> usize {
        self.shared.batch_size
    }

    /// Sends one batch request of 1 to 100 inputs (paced, and retried when retryable) and
    /// returns HubSpot's answer with one outcome per input.
    ///
    /// Refuses, without sending, an input that HubSpot would refuse (see
    /// [`UpsertInput::problem`]) and two inputs for the same record (HubSpot rejects such a
    /// batch whole). A failure of the whole request is an [`Error`]; per-record failures of a
    /// 207 are in [`BatchAnswer::outcomes`].
    pub async fn upsert_batch(&self, inputs: Vec<UpsertInput>) -> Result<BatchAnswer, Error> {
        if inputs.is_empty() || inputs.len() > MAX_BATCH_SIZE {
            return Err(Error::BatchSize {
                given: inputs.len(),
                max: MAX_BATCH_SIZE,
            });
        }
        let mut seen = HashMap::with_capacity(inputs.len());
        for (index, input) in inputs.iter().enumerate() {
            let reason = match (input.problem(), seen.insert(record_key(input), index)) {
                (Some(problem), _) => problem.to_string(),
                (None, Some(earlier)) => format!(
                    "it writes the same record as input {earlier}, and HubSpot rejects such a batch whole; send it in a later batch"
                ),
                (None, None) => continue,
            };
            return Err(Error::InvalidInput {
                index,
                id: input.id.clone(),
                reason,
            });
        }
        let typed = batch::execute_typed(&self.shared, inputs).await?;
        let outcomes = typed
            .inputs
            .into_iter()
            .zip(typed.outcomes)
            .enumerate()
            .map(|(tag, (input, outcome))| RecordOutcome {
                tag,
                id: input.id,
                id_property: input.id_property,
                outcome,
            })
            .collect();
        Ok(BatchAnswer {
            status: typed.status,
            correlation_id: typed.correlation_id,
            results: typed.answer.results,
            errors: typed.answer.errors,
            outcomes,
            requests: typed.tally.requests,
            rate_limited: typed.tally.rate_limited,
        })
    }

    /// Upserts any number of inputs: split into batches, paced, sent with bounded concurrency,
    /// retried, and accounted for one by one. Outcomes come back in input order, tagged with
    /// the input's index.
    pub async fn upsert(&self, inputs: Vec<UpsertInput>) -> UpsertReport {
        use futures::StreamExt;
        let started = Instant::now();
        let total = inputs.len();
        let reports = self.upsert_stream(futures::stream::iter(inputs.into_iter().enumerate()));
        futures::pin_mut!(reports);
        let mut summary = Summary::default();
        let mut slots: Vec<Option<RecordOutcome<usize>>> = Vec::new();
        slots.resize_with(total, || None);
        while let Some(report) = reports.next().await {
            summary.add(&report);
            for outcome in report.outcomes {
                let at = outcome.tag;
                slots[at] = Some(outcome);
            }
        }
        summary.elapsed = started.elapsed();
        UpsertReport {
            outcomes: slots.into_iter().flatten().collect(),
            summary,
        }
    }

    /// Upserts a stream of tagged inputs, yielding one report per batch as each completes.
    ///
    /// Memory stays flat however long the stream: only the batches being filled, waiting or in
    /// flight are held. Every input gets exactly one outcome, in some report:
    /// - invalid inputs (see [`UpsertInput::problem`]) fail locally and are not sent;
    /// - two writes to the same record never share a batch, and the later waits for the
    ///   earlier, so the last write in input order wins;
    /// - once sending stops (HubSpot's daily limit, a refused token, an endpoint that answers
    ///   nothing for too long), nothing more is sent: every input not yet confirmed, and every
    ///   input still to come from the stream, is reported
    ///   [`NotAttempted`](crate::NotAttempted) with the reason, which every later report also
    ///   carries in [`BatchReport::stopped`].
    ///
    /// The work runs on the Tokio runtime that polls the stream.
    pub fn upsert_stream<T, S>(
        &self,
        inputs: S,
    ) -> impl Stream<Item = BatchReport<T>> + Send + use<T, S>
    where
        S: Stream<Item = (T, UpsertInput)> + Send + 'static,
        T: Send + 'static,
    {
        engine::reports(self.shared.clone(), inputs)
    }
}
