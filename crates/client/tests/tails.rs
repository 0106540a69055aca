//! A stream that pauses: its partial batch goes without waiting for the answers in flight, and a
//! reader that is only momentarily behind does not turn one batch into many requests.

use futures::StreamExt;
use futures::channel::mpsc;
use hubspot_projects::{Client, Outcome, UpsertInput};
use hubspot_projects_emulator::{Emulator, EmulatorConfig, Latency};
use std::time::Duration;

fn input(i: usize) -> (usize, UpsertInput) {
    (
        i,
        UpsertInput::new("project_code", format!("PRJ-{i:05}")).property("hs_name", "Tail"),
    )
}

async fn client_of(emulator: &hubspot_projects_emulator::EmulatorHandle) -> Client {
    Client::builder()
        .access_token("tails-test")
        .base_url(emulator.base_url())
        .rate_budget("unlimited".parse().unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_paused_stream_sends_its_partial_batch_while_the_first_is_still_in_flight() {
    // Every answer takes 2 s: the first batch is still unanswered when the stream pauses.
    let emulator = Emulator::start(EmulatorConfig {
        latency: Latency::fixed(Duration::from_secs(2)),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let client = client_of(&emulator).await;
    let (sender, receiver) = mpsc::unbounded();
    for i in 0..150 {
        sender.unbounded_send(input(i)).unwrap();
    }
    // The stream stays open: the last 50 inputs wait for more that does not come.
    let reports = client.upsert_stream(receiver);
    futures::pin_mut!(reports);
    let first = reports.next().await.expect("a first report");
    assert_eq!(
        emulator.request_count(),
        2,
        "the partial batch of 50 went before the first answer came back"
    );
    drop(sender);
    let mut created = first
        .outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Created { .. }))
        .count();
    while let Some(report) = reports.next().await {
        created += report
            .outcomes
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Created { .. }))
            .count();
    }
    assert_eq!(created, 150);
    assert_eq!(emulator.request_count(), 2);
}

#[tokio::test]
async fn a_reader_momentarily_behind_still_fills_its_batch() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = client_of(&emulator).await;
    let (sender, receiver) = mpsc::unbounded();
    // 100 inputs in ten bursts, the producer yielding between them as a reader waiting on
    // its next buffer would.
    let producer = tokio::spawn(async move {
        for burst in 0..10 {
            for i in burst * 10..burst * 10 + 10 {
                sender.unbounded_send(input(i)).unwrap();
            }
            tokio::task::yield_now().await;
        }
    });
    let report = {
        let reports = client.upsert_stream(receiver);
        futures::pin_mut!(reports);
        let mut all = Vec::new();
        while let Some(report) = reports.next().await {
            all.extend(report.outcomes);
        }
        all
    };
    producer.await.unwrap();
    assert_eq!(report.len(), 100);
    // Sent at each pause, the bursts would be ten requests. A run descheduled for longer
    // than the linger on a loaded machine may split once or twice.
    assert!(
        emulator.request_count() <= 3,
        "{} requests for one batch of input",
        emulator.request_count()
    );
}
