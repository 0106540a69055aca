//! The client: cheap to clone, with one limiter and one in-flight bound for all clones.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use futures::Stream;
use hubspot_projects_api::types;
use tokio::sync::Semaphore;

use crate::config::ClientBuilder;
use crate::correlate::{LeanAnswer, correlate};
use crate::engine;
use crate::error::Error;
use crate::input::UpsertInput;
use crate::outcome::{
    BatchAnswer, BatchReport, NotAttempted, Outcome, RecordOutcome, Summary, UpsertReport,
};
use crate::pace::{Pacer, RateBudget};
use crate::plan::record_key;
use crate::retry::{Jitter, RetryPolicy};
use crate::send::{DailyStop, Sender, Unanswered};
use crate::tag::TraceIds;

pub(crate) struct Inner {
    pub(crate) sender: Sender,
    pub(crate) trace_ids: TraceIds,
    pub(crate) base_url: String,
    pub(crate) batch_size: usize,
    pub(crate) max_in_flight: usize,
}

/// The HubSpot CRM projects client. Clones are cheap and share the rate limiter and the bound
/// on requests in flight.
///
/// `Debug` output never shows the access token.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("rate_budget", &self.rate_budget())
            .field("max_in_flight", &self.inner.max_in_flight)
            .field("batch_size", &self.inner.batch_size)
            .field("retry_policy", &self.inner.sender.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub(crate) fn from_parts(
        builder: ClientBuilder,
        base_url: String,
        http: reqwest::Client,
    ) -> Self {
        let api = hubspot_projects_api::Client::new_with_client(&base_url, http);
        Self {
            inner: Arc::new(Inner {
                sender: Sender {
                    api,
                    pacer: Pacer::new(builder.rate_budget),
                    in_flight: Semaphore::new(builder.max_in_flight),
                    retry: builder.retry_policy,
                    jitter: Jitter::new(),
                },
                trace_ids: TraceIds::new(),
                base_url,
                batch_size: builder.batch_size,
                max_in_flight: builder.max_in_flight,
            }),
        }
    }

    /// Where requests go.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The rate budget applied now: the configured one, or a lower one HubSpot's rate-limit
    /// headers announced.
    pub fn rate_budget(&self) -> RateBudget {
        self.inner.sender.pacer.current()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.sender.retry
    }

    /// Inputs per request in [`upsert`](Self::upsert) and [`upsert_stream`](Self::upsert_stream).
    pub fn batch_size(&self) -> usize {
        self.inner.batch_size
    }

    /// Sends one batch request of 1 to 100 inputs (paced, and retried when retryable) and
    /// returns HubSpot's answer with one outcome per input.
    ///
    /// Refuses, without sending, an input that HubSpot would refuse (empty id, idProperty or
    /// property name) and two inputs for the same record (HubSpot rejects such a batch whole).
    /// A failure of the whole request is an [`Error`]; per-record failures of a 207 are in
    /// [`BatchAnswer::outcomes`].
    pub async fn upsert_batch(&self, inputs: Vec<UpsertInput>) -> Result<BatchAnswer, Error> {
        if inputs.is_empty() || inputs.len() > crate::config::MAX_BATCH_SIZE {
            return Err(Error::Config(format!(
                "one batch request takes 1 to {} inputs, not {}; use upsert for any number",
                crate::config::MAX_BATCH_SIZE,
                inputs.len()
            )));
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
        let body = self.request_body(inputs);
        let (result, exchange) = self
            .inner
            .sender
            .send(&body, None, |bytes, _, _| {
                serde_json::from_slice::<types::BatchResponseSimplePublicUpsertObjectWithErrors>(
                    bytes,
                )
            })
            .await;
        let answered = match result {
            Ok(answered) => answered,
            Err(Unanswered::Failed(error)) => return Err(error),
            Err(Unanswered::NotSent(message)) => {
                return Err(Error::RateLimited {
                    daily: true,
                    policy: Some("DAILY".into()),
                    message,
                    retry_after: None,
                    correlation_id: None,
                });
            }
        };
        let outcomes = correlate(
            &body.inputs,
            &answered.body.results,
            &answered.body.errors,
            answered.status,
            answered.correlation_id.as_deref(),
        );
        let outcomes = body
            .inputs
            .into_iter()
            .zip(outcomes)
            .enumerate()
            .map(|(tag, (input, outcome))| RecordOutcome {
                tag,
                id: input.id,
                id_property: input.id_property,
                outcome,
            })
            .collect();
        Ok(BatchAnswer {
            status: answered.status,
            correlation_id: answered.correlation_id,
            results: answered.body.results,
            errors: answered.body.errors,
            outcomes,
            requests: exchange.requests,
            rate_limited: exchange.rate_limited,
        })
    }

    /// Builds the request body for one batch exactly as [`Client::upsert_batch`] does: each
    /// input without an `objectWriteTraceId` is tagged with a fresh uuid, and the inputs are
    /// moved, not copied.
    pub fn request_body(
        &self,
        inputs: Vec<UpsertInput>,
    ) -> types::BatchInputSimplePublicObjectBatchInputUpsert {
        let inputs = inputs
            .into_iter()
            .map(|mut input| {
                self.inner.trace_ids.tag(&mut input.object_write_trace_id);
                types::SimplePublicObjectBatchInputUpsert {
                    id: input.id,
                    id_property: input.id_property,
                    object_write_trace_id: input.object_write_trace_id,
                    properties: input.properties,
                }
            })
            .collect();
        types::BatchInputSimplePublicObjectBatchInputUpsert { inputs }
    }

    /// Sends one planned batch and reports an outcome for each of its inputs.
    pub(crate) async fn run_batch<T>(
        &self,
        tags: Vec<T>,
        inputs: Vec<UpsertInput>,
        stop: &DailyStop,
    ) -> BatchReport<T> {
        let body = self.request_body(inputs);
        // Only outcomes leave the engine, so the answer is read in place, not into HubSpot's
        // full record types.
        let (result, exchange) = self
            .inner
            .sender
            .send(&body, Some(stop), |bytes, status, correlation_id| {
                let answer: LeanAnswer<'_> = serde_json::from_slice(bytes)?;
                Ok(correlate(
                    &body.inputs,
                    &answer.results,
                    &answer.errors,
                    status,
                    correlation_id,
                ))
            })
            .await;
        let outcomes: Vec<Outcome> = match result {
            Ok(answered) => answered.body,
            Err(Unanswered::NotSent(message))
            | Err(Unanswered::Failed(Error::RateLimited {
                daily: true,
                message,
                ..
            })) => {
                let reason = NotAttempted::DailyLimitReached { message };
                vec![Outcome::NotAttempted(reason); body.inputs.len()]
            }
            Err(Unanswered::Failed(error)) => {
                vec![Outcome::Failed(error.to_record_error()); body.inputs.len()]
            }
        };
        let outcomes = tags
            .into_iter()
            .zip(body.inputs)
            .zip(outcomes)
            .map(|((tag, input), outcome)| RecordOutcome {
                tag,
                id: input.id,
                id_property: input.id_property,
                outcome,
            })
            .collect();
        BatchReport {
            outcomes,
            requests: exchange.requests,
            retries: exchange.requests.saturating_sub(1),
            rate_limited: exchange.rate_limited,
            daily_limit_reached: stop.get().is_some(),
        }
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
    /// - invalid inputs (empty id, idProperty or property name) fail locally and are not sent;
    /// - two writes to the same record never share a batch, and the later waits for the
    ///   earlier, so the last write in input order wins;
    /// - after HubSpot's daily limit, nothing more is sent: every input not yet confirmed, and
    ///   every input still to come from the stream, is reported
    ///   [`NotAttempted::DailyLimitReached`] with `daily_limit_reached` set.
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
        engine::reports(self.clone(), inputs)
    }
}
