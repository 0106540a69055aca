//! The streaming bulk engine: validate → plan batches → send them with bounded concurrency →
//! report each batch as it completes.

use std::collections::VecDeque;
use std::sync::Arc;

use futures::{FutureExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::client::Client;
use crate::input::UpsertInput;
use crate::outcome::{BatchReport, NotAttempted, Outcome, RecordError, RecordOutcome};
use crate::plan::{MAX_OPEN_BATCHES, PlannedBatch, Planner, RecordKey};
use crate::send::DailyStop;

/// How long a partial batch waits for more input when nothing else is in flight.
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

enum State<T, S> {
    Start(Client, S),
    Running(mpsc::Receiver<BatchReport<T>>),
}

/// The reports of a run over `inputs`. The run starts on first poll, on the polling runtime.
pub(crate) fn reports<T, S>(client: Client, inputs: S) -> impl Stream<Item = BatchReport<T>> + Send
where
    S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    T: Send + 'static,
{
    futures::stream::unfold(State::Start(client, inputs), |state| async move {
        let mut receiver = match state {
            State::Running(receiver) => receiver,
            State::Start(client, inputs) => {
                let (sender, receiver) = mpsc::channel(client.inner.max_in_flight.max(1));
                tokio::spawn(Run::new(client, sender).drive(inputs));
                receiver
            }
        };
        let report = receiver.recv().await?;
        Some((report, State::Running(receiver)))
    })
}

type Done<T> = (u64, Vec<RecordKey>, BatchReport<T>);

struct Run<T> {
    client: Client,
    reports: mpsc::Sender<BatchReport<T>>,
    planner: Planner<T>,
    ready: VecDeque<PlannedBatch<T>>,
    running: JoinSet<Done<T>>,
    /// Inputs refused before sending, reported in groups.
    refused: Vec<RecordOutcome<T>>,
    closed: Vec<PlannedBatch<T>>,
    stop: Arc<DailyStop>,
}

/// The consumer dropped the stream: stop working.
struct Gone;

impl<T: Send + 'static> Run<T> {
    fn new(client: Client, reports: mpsc::Sender<BatchReport<T>>) -> Self {
        let batch_size = client.inner.batch_size;
        Self {
            client,
            reports,
            planner: Planner::new(batch_size, MAX_OPEN_BATCHES),
            ready: VecDeque::new(),
            running: JoinSet::new(),
            refused: Vec::new(),
            closed: Vec::new(),
            stop: Arc::new(DailyStop::new()),
        }
    }

    async fn drive<S>(mut self, inputs: S)
    where
        S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    {
        let mut inputs = Box::pin(inputs.fuse());
        let _ = self.pump(&mut inputs).await;
    }

    async fn pump<S>(
        &mut self,
        inputs: &mut std::pin::Pin<Box<futures::stream::Fuse<S>>>,
    ) -> Result<(), Gone>
    where
        S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    {
        let max_in_flight = self.client.inner.max_in_flight.max(1);
        let batch_size = self.client.inner.batch_size;
        let mut input_done = false;
        loop {
            if self.stop.get().is_some() {
                return self.wind_down(inputs).await;
            }
            self.launch(max_in_flight);
            if self.refused.len() >= batch_size {
                self.report_refused().await?;
            }
            if input_done
                && self.ready.is_empty()
                && self.running.is_empty()
                && !self.planner.has_open()
            {
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
                        // The input is slow. With nothing in flight, a partial batch goes out
                        // after a short linger, not at once: each request spends rate budget,
                        // so a batch is only sent partial when the input has really paused.
                        let idle = self.running.is_empty()
                            && self.ready.is_empty()
                            && self.planner.has_open();
                        tokio::select! {
                            next = inputs.next() => match next {
                                Some((tag, input)) => self.accept(tag, input),
                                None => {
                                    input_done = true;
                                    self.flush_all();
                                }
                            },
                            Some(done) = self.running.join_next(), if !self.running.is_empty() => {
                                self.finish(done).await?;
                            }
                            () = tokio::time::sleep(LINGER), if idle => {
                                if let Some(batch) = self.planner.flush_one() {
                                    self.ready.push_back(batch);
                                }
                            }
                        }
                    }
                }
            } else if self.running.is_empty() {
                // Everything waiting depends on an open batch: send the oldest one.
                if let Some(batch) = self.planner.flush_one() {
                    self.ready.push_back(batch);
                } else if let Some(batch) = self.ready.pop_front() {
                    // Unreachable by construction (a batch only waits for earlier ones); sending
                    // beats hanging.
                    self.spawn(batch);
                }
            } else {
                self.report_refused().await?;
                if let Some(done) = self.running.join_next().await {
                    self.finish(done).await?;
                }
            }
        }
    }

    fn accept(&mut self, tag: T, input: UpsertInput) {
        if let Some(problem) = input.problem() {
            let error = RecordError::local(
                "INVALID_INPUT",
                format!(
                    "{problem}; HubSpot would refuse this input, so it was not sent: fix it and send it again"
                ),
            );
            self.refused.push(RecordOutcome {
                tag,
                id: input.id,
                id_property: input.id_property,
                outcome: Outcome::Failed(error),
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
        while self.running.len() < max_in_flight {
            let Some(at) = self.ready.iter().position(|b| self.planner.may_send(b)) else {
                return;
            };
            if let Some(batch) = self.ready.remove(at) {
                self.spawn(batch);
            }
        }
    }

    fn spawn(&mut self, batch: PlannedBatch<T>) {
        let client = self.client.clone();
        let stop = self.stop.clone();
        self.running.spawn(async move {
            let (tags, inputs): (Vec<T>, Vec<UpsertInput>) = batch.items.into_iter().unzip();
            let report = client.run_batch(tags, inputs, &stop).await;
            (batch.seq, batch.keys, report)
        });
    }

    async fn finish(&mut self, done: Result<Done<T>, tokio::task::JoinError>) -> Result<(), Gone> {
        match done {
            Ok((seq, keys, report)) => {
                self.planner.completed(seq, &keys);
                self.emit(report).await
            }
            Err(error) => {
                tracing::error!(%error, "a batch task ended without a report");
                Ok(())
            }
        }
    }

    async fn emit(&mut self, report: BatchReport<T>) -> Result<(), Gone> {
        self.reports.send(report).await.map_err(|_| Gone)
    }

    async fn report_refused(&mut self) -> Result<(), Gone> {
        if self.refused.is_empty() {
            return Ok(());
        }
        let outcomes = std::mem::take(&mut self.refused);
        self.emit(BatchReport::local(outcomes, self.stop.get().is_some()))
            .await
    }

    /// After the daily limit: let the batches in flight finish (they send nothing more), then
    /// report every input still held or still to come as not attempted.
    async fn wind_down<S>(
        &mut self,
        inputs: &mut std::pin::Pin<Box<futures::stream::Fuse<S>>>,
    ) -> Result<(), Gone>
    where
        S: Stream<Item = (T, UpsertInput)> + Send + 'static,
    {
        while let Some(done) = self.running.join_next().await {
            self.finish(done).await?;
        }
        self.report_refused().await?;
        let message = self.stop.get().cloned().unwrap_or_default();
        let not_attempted = |(tag, input): (T, UpsertInput)| RecordOutcome {
            tag,
            id: input.id,
            id_property: input.id_property,
            outcome: Outcome::NotAttempted(NotAttempted::DailyLimitReached {
                message: message.clone(),
            }),
        };
        self.flush_all();
        while let Some(batch) = self.ready.pop_front() {
            let outcomes = batch.items.into_iter().map(&not_attempted).collect();
            self.emit(BatchReport::local(outcomes, true)).await?;
        }
        let batch_size = self.client.inner.batch_size;
        let mut held = Vec::with_capacity(batch_size);
        while let Some(item) = inputs.next().await {
            held.push(not_attempted(item));
            if held.len() >= batch_size {
                self.emit(BatchReport::local(std::mem::take(&mut held), true))
                    .await?;
            }
        }
        if !held.is_empty() {
            self.emit(BatchReport::local(held, true)).await?;
        }
        Ok(())
    }
}
