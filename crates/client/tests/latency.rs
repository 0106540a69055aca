//! At HubSpot's latency, the defaults fill the budget: the number in flight follows rate ×
//! latency instead of a fixed few.

use hubspot_projects::{Client, UpsertInput};
use hubspot_projects_emulator::{Emulator, EmulatorConfig, Faults};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_300_ms_and_20_per_second_the_defaults_use_the_budget() {
    let budget = "20/1s".parse().unwrap();
    let emulator = Emulator::start(EmulatorConfig {
        rate_limit: budget,
        // Every answer takes 300 ms.
        faults: Faults {
            latency: 1.0,
            latency_ms: 300,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    // No concurrency setting at all: only the budget.
    let client = Client::builder()
        .access_token("latency-test")
        .base_url(emulator.base_url())
        .rate_budget(budget)
        .build()
        .unwrap();
    let records = 12_000;
    let inputs = (0..records)
        .map(|i| UpsertInput::new("project_code", format!("PRJ-{i:06}")))
        .collect();
    let report = client.upsert(inputs).await;
    let summary = &report.summary;
    assert_eq!(summary.created, records as u64, "{summary:?}");
    // Pacing keeps 2% of every window spare for jitter on the way to the server; on a loaded
    // two-core machine shared with the server, a rare 429 may still slip through (and is
    // retried). The benchmark, with the server in its own process, shows none.
    assert!(summary.rate_limited <= 3, "{summary:?}");
    assert_eq!(summary.requests - summary.rate_limited, 120, "{summary:?}");
    // The ceiling is 20 requests a second over the whole run, the last answer's latency
    // included; a fixed 4 in flight would reach about 13 a second (65%).
    let ceiling = 20.0 * summary.elapsed.as_secs_f64();
    let fraction = (summary.requests - summary.rate_limited) as f64 / ceiling;
    assert!(
        fraction >= 0.85,
        "{fraction:.3} of the ceiling: {summary:?}"
    );
}
