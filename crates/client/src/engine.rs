//! The streaming bulk engine: check inputs → plan batches → run them with bounded
//! concurrency → report each batch as it completes.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::Fuse;
use futures::{FutureExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::{Id, JoinError, JoinSet};

use crate::batch::{self, BatchOutcomes};
use crate::error::ErrorCategory;
use crate::input::UpsertInput;
use crate::outcome::{BatchReport, NotAttempted, Outcome, RecordError, RecordOutcome};
use crate::plan::{MAX_OPEN_BATCHES, PlannedBatch, Planner, RecordKey};
use crate::shared::Shared;
use crate::stop::RunStop;

/// How long a partial batch waits for more input when nothing is in flight: a reader that is
/// momentarily behind must not turn one batch into two requests.
const IDLE_LINGER: std::time::Duration = std::time::Duration::from_millis(20);

/// How long a partial batch waits for more input while other batches are in flight: longer,
/// since the budget is being used meanwhile, but bounded, so that a stream that really pauses
/// does not leave its last rows waiting for answers that may take seconds.
const BUSY_LINGER: std::time::Duration = std::time::Duration::from_millis(250);

enum State<T, S> {
    Start(Arc<Shared>, S),
    Running(mpsc::Receiver<BatchReport<T>>),
}

/// The reports of a run over `inputs`. The run starts on first poll, on the polling runtime.
pub(crate) fn reports<T, S>(
    shared: Arc<Shared>,
    inputs: S,
) -> impl Stream<Item = BatchReport<T>> + Send
where
    S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    T: Send + 'static,
{
    futures::stream::unfold(State::Start(shared, inputs), |state| async move {
        let mut receiver = match state {
            State::Running(receiver) => receiver,
            State::Start(shared, inputs) => {
                let (sender, receiver) = mpsc::channel(shared.in_flight.mode().cap());
                tokio::spawn(Run::new(shared, sender).drive(inputs));
                receiver
            }
        };
        let report = receiver.recv().await?;
        Some((report, State::Running(receiver)))
    })
}

/// What the engine keeps of a batch while its task runs: enough to report every input even if
/// the task never returns.
struct Running<T> {
    seq: u64,
    keys: Vec<RecordKey>,
    tags: Vec<T>,
    identities: Vec<(String, Option<String>)>,
}

type Inputs<S> = Pin<Box<Fuse<S>>>;

struct Run<T> {
    shared: Arc<Shared>,
    reports: mpsc::Sender<BatchReport<T>>,
    planner: Planner<T>,
    ready: VecDeque<PlannedBatch<T>>,
    tasks: JoinSet<BatchOutcomes>,
    running: HashMap<Id, Running<T>>,
    /// Inputs refused before sending, reported in groups.
    refused: Vec<RecordOutcome<T>>,
    closed: Vec<PlannedBatch<T>>,
    stop: Arc<RunStop>,
}

/// The consumer dropped the stream: stop working.
struct Gone;

impl<T: Send + 'static> Run<T> {
    fn new(shared: Arc<Shared>, reports: mpsc::Sender<BatchReport<T>>) -> Self {
        let batch_size = shared.batch_size;
        Self {
            shared,
            reports,
            planner: Planner::new(batch_size, MAX_OPEN_BATCHES),
            ready: VecDeque::new(),
            tasks: JoinSet::new(),
            running: HashMap::new(),
            refused: Vec::new(),
            closed: Vec::new(),
            stop: Arc::new(RunStop::new()),
        }
    }

    async fn drive<S>(mut self, inputs: S)
    where
        S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    {
        let mut inputs = Box::pin(inputs.fuse());
        let _ = self.pump(&mut inputs).await;
    }

    async fn pump<S>(&mut self, inputs: &mut Inputs<S>) -> Result<(), Gone>
    where
        S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    {
        let batch_size = self.shared.batch_size;
        let mut input_done = false;
        loop {
            if self.stop.reason().is_some() {
                return self.wind_down(inputs).await;
            }
            // As many batches run, and wait ready, as may be in flight now.
            let max_in_flight = self.shared.in_flight.target();
            self.launch(max_in_flight);
            if self.refused.len() >= batch_size {
                self.report_refused().await?;
            }
            if input_done && self.ready.is_empty() && self.tasks.is_empty() {
                return self.report_refused().await;
            }
            let want_input = !input_done && self.ready.len() < max_in_flight;
            if want_input {
                match inputs.next().now_or_never() {
                    Some(Some((tag, input))) => self.accept(tag, input),
                    Some(None) => {
                        input_done = true;
                        self.flush_all();
                    }
                    None => {
                        self.report_refused().await?;
                        // The input is slow. A partial batch goes out after a linger, not at
                        // once: each request spends rate budget, so a batch is only sent
                        // partial when the input has really paused; and then without waiting
                        // for every batch in flight to be answered.
                        let idle = self.ready.is_empty() && self.planner.has_open();
                        let linger = if self.tasks.is_empty() {
                            IDLE_LINGER
                        } else {
                            BUSY_LINGER
                        };
                        tokio::select! {
                            next = inputs.next() => match next {
                                Some((tag, input)) => self.accept(tag, input),
                                None => {
                                    input_done = true;
                                    self.flush_all();
                                }
                            },
                            Some(done) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                                self.finish(done).await?;
                            }
                            () = tokio::time::sleep(linger), if idle => {
                                self.ready.extend(self.planner.flush_one());
                            }
                        }
                    }
                }
            } else if self.tasks.is_empty() {
                // Everything waiting depends on an open batch: send the oldest one.
                self.ready.extend(self.planner.flush_one());
            } else {
                self.report_refused().await?;
                if let Some(done) = self.tasks.join_next_with_id().await {
                    self.finish(done).await?;
                }
            }
        }
    }

    fn accept(&mut self, tag: T, input: UpsertInput) {
        if let Some(problem) = input.problem() {
            self.refused.push(RecordOutcome {
                tag,
                id: input.id,
                id_property: input.id_property,
                outcome: batch::refused(problem),
            });
            return;
        }
        self.planner.push(tag, input, &mut self.closed);
        self.ready.extend(self.closed.drain(..));
    }

    fn flush_all(&mut self) {
        self.planner.flush_all(&mut self.closed);
        self.ready.extend(self.closed.drain(..));
    }

    fn launch(&mut self, max_in_flight: usize) {
        while self.tasks.len() < max_in_flight {
            let Some(at) = self.ready.iter().position(|b| self.planner.may_send(b)) else {
                return;
            };
            if let Some(batch) = self.ready.remove(at) {
                self.spawn(batch);
            }
        }
    }

    fn spawn(&mut self, batch: PlannedBatch<T>) {
        let mut tags = Vec::with_capacity(batch.items.len());
        let mut identities = Vec::with_capacity(batch.items.len());
        let mut inputs = Vec::with_capacity(batch.items.len());
        for (tag, input) in batch.items {
            tags.push(tag);
            identities.push((input.id.clone(), input.id_property.clone()));
            inputs.push(input);
        }
        let shared = self.shared.clone();
        let stop = self.stop.clone();
        let handle = self
            .tasks
            .spawn(async move { batch::execute(&shared, &stop, inputs).await });
        self.running.insert(
            handle.id(),
            Running {
                seq: batch.seq,
                keys: batch.keys,
                tags,
                identities,
            },
        );
    }

    async fn finish(&mut self, done: Result<(Id, BatchOutcomes), JoinError>) -> Result<(), Gone> {
        let (id, outcomes) = match done {
            Ok((id, outcomes)) => (id, Ok(outcomes)),
            Err(error) => (error.id(), Err(error)),
        };
        let Some(running) = self.running.remove(&id) else {
            return Ok(());
        };
        self.planner.completed(running.seq, &running.keys);
        let report = match outcomes {
            Ok(done) => {
                let mut report = BatchReport::local(
                    zip_outcomes(running.tags, running.identities, done.outcomes),
                    self.stop.reason(),
                );
                report.requests = done.tally.requests;
                report.retries = done.tally.retries;
                report.rate_limited = done.tally.rate_limited;
                report.isolation_requests = done.isolation_requests;
                report
            }
            Err(error) => {
                // A batch task that panicked or was cancelled: its inputs were not confirmed.
                tracing::error!(%error, "a batch task ended without outcomes");
                let failure = Outcome::Failed(RecordError::new(
                    ErrorCategory::Internal,
                    format!(
                        "the client failed while sending this input's batch ({error}); it may or may not have been written, and sending it again is safe"
                    ),
                ));
                let outcomes = vec![failure; running.tags.len()];
                BatchReport::local(
                    zip_outcomes(running.tags, running.identities, outcomes),
                    self.stop.reason(),
                )
            }
        };
        self.emit(report).await
    }

    async fn emit(&mut self, report: BatchReport<T>) -> Result<(), Gone> {
        self.reports.send(report).await.map_err(|_| Gone)
    }

    async fn report_refused(&mut self) -> Result<(), Gone> {
        if self.refused.is_empty() {
            return Ok(());
        }
        let outcomes = std::mem::take(&mut self.refused);
        self.emit(BatchReport::local(outcomes, self.stop.reason()))
            .await
    }

    /// After a stop: let the batches in flight finish (they send nothing more), then report
    /// every input still held or still to come as not attempted.
    async fn wind_down<S>(&mut self, inputs: &mut Inputs<S>) -> Result<(), Gone>
    where
        S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    {
        while let Some(done) = self.tasks.join_next_with_id().await {
            self.finish(done).await?;
        }
        self.report_refused().await?;
        let reason = self.stop.reason().unwrap_or(NotAttempted::Cancelled);
        let not_attempted = |(tag, input): (T, UpsertInput)| RecordOutcome {
            tag,
            id: input.id,
            id_property: input.id_property,
            outcome: Outcome::NotAttempted(reason.clone()),
        };
        self.flush_all();
        while let Some(batch) = self.ready.pop_front() {
            let outcomes = batch.items.into_iter().map(&not_attempted).collect();
            self.emit(BatchReport::local(outcomes, Some(reason.clone())))
                .await?;
        }
        let batch_size = self.shared.batch_size;
        let mut held = Vec::with_capacity(batch_size);
        while let Some(item) = inputs.next().await {
            held.push(not_attempted(item));
            if held.len() >= batch_size {
                self.emit(BatchReport::local(
                    std::mem::take(&mut held),
                    Some(reason.clone()),
                ))
                .await?;
            }
        }
        if !held.is_empty() {
            self.emit(BatchReport::local(held, Some(reason))).await?;
        }
        Ok(())
    }
}

fn zip_outcomes<T>(
    tags: Vec<T>,
    identities: Vec<(String, Option<String>)>,
    outcomes: Vec<Outcome>,
) -> Vec<RecordOutcome<T>> {
    tags.into_iter()
        .zip(identities)
        .zip(outcomes)
        .map(|((tag, (id, id_property)), outcome)| RecordOutcome {
            tag,
            id,
            id_property,
            outcome,
        })
        .collect()
}
