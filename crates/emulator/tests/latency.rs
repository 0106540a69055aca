//! HubSpot's time to answer, over loopback HTTP: loose lower bounds, and that latency leaves
//! the sequence of faults alone.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hubspot_projects_emulator::{EmulatorConfig, Faults, Latency, OAuthClient, RateBudget};
use serde_json::json;

const T: Option<&str> = Some("any-token");

fn one(code: &str) -> serde_json::Value {
    batch(vec![input(code, None, json!({}))])
}

#[tokio::test]
async fn a_fixed_latency_delays_every_api_answer_but_not_the_admin_routes() {
    let latency = Duration::from_millis(600);
    let emulator = start(EmulatorConfig {
        latency: Latency::fixed(latency),
        rate_limit: RateBudget::limited(1, Duration::from_secs(60)).unwrap(),
        oauth_clients: vec![OAuthClient::new("app", "secret", "refresh")],
        ..EmulatorConfig::default()
    })
    .await;
    // The token endpoint answers after the latency too, refused or not, and counts for no
    // budget: the batch below is still the first request of the minute.
    for (secret, status) in [("secret", 200), ("wrong", 400)] {
        let began = Instant::now();
        let answer = refresh(&emulator, "app", secret, "refresh").await;
        let took = began.elapsed();
        assert_eq!(answer.status, status, "{}", answer.body);
        assert!(took >= latency, "the token answer came after {took:?}");
    }
    // Admitted, refused for its token, and refused by the budget: each waits.
    for (token, status) in [(T, 200), (None, 401), (T, 429)] {
        let began = Instant::now();
        let answer = post(&emulator, token, one("A")).await;
        let took = began.elapsed();
        assert_eq!(answer.status, status, "{}", answer.body);
        assert!(took >= latency, "{status} came after {took:?}");
    }
    let began = Instant::now();
    let health = get(&emulator, "/_emulator/health", None).await;
    assert_eq!(health.status, 200);
    assert!(
        began.elapsed() < latency,
        "the admin routes are not delayed: {:?}",
        began.elapsed()
    );
    assert_eq!(emulator.record_count(), 1);
}

#[tokio::test]
async fn a_ranged_latency_stays_within_its_range() {
    let (min, max) = (Duration::from_millis(200), Duration::from_millis(400));
    let emulator = start(EmulatorConfig {
        latency: Latency::range(min, max).unwrap(),
        seed: 3,
        ..EmulatorConfig::default()
    })
    .await;
    for i in 0..5 {
        let began = Instant::now();
        let answer = post(&emulator, T, one(&format!("P{i}"))).await;
        let took = began.elapsed();
        assert_eq!(answer.status, 200);
        // A loose upper bound: the machine may be busy.
        assert!(
            took >= min && took < max + Duration::from_secs(2),
            "{took:?}"
        );
    }
}

#[tokio::test]
async fn the_latency_fault_adds_to_the_latency() {
    let emulator = start(EmulatorConfig {
        latency: Latency::fixed(Duration::from_millis(300)),
        faults: Faults {
            latency: 1.0,
            latency_ms: 300,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let began = Instant::now();
    let answer = post(&emulator, T, one("A")).await;
    assert_eq!(answer.status, 200);
    assert!(
        began.elapsed() >= Duration::from_millis(600),
        "{:?}",
        began.elapsed()
    );
}

async fn fault_statuses(latency: Latency) -> Vec<u16> {
    let emulator = start(EmulatorConfig {
        seed: 11,
        latency,
        faults: Faults {
            server_error: 0.25,
            unavailable: 0.25,
            rate_limited: 0.25,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..24 {
        statuses.push(
            post(&emulator, T, one(&format!("P{i}")))
                .await
                .status
                .as_u16(),
        );
    }
    statuses
}

#[tokio::test]
async fn latency_does_not_change_the_sequence_of_faults() {
    let without = fault_statuses(Latency::NONE).await;
    let with = fault_statuses(
        Latency::range(Duration::from_millis(1), Duration::from_millis(20)).unwrap(),
    )
    .await;
    assert_eq!(without, with);
    assert!(
        without.contains(&200) && without.contains(&500),
        "{without:?}"
    );
}
