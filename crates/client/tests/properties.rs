//! The engine's invariants, under random inputs, batch sizes, repeated records and fault
//! schedules, against a HubSpot stand-in on loopback that records what it received and wrote,
//! and against the in-process emulator with its seeded faults:
//!
//! - every input gets exactly one outcome;
//! - no request carries two inputs for one record;
//! - writes to one record reach the server in input order;
//! - nothing is reported written that the server did not write.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use common::*;
use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use hubspot_projects::{Client, Outcome, RateBudget, UpsertInput};
use hubspot_projects_emulator::{Emulator, EmulatorConfig, Faults};
use proptest::prelude::*;
use serde_json::{Value, json};

/// What the server does with the n-th request.
#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    ServerError,
    RateLimited,
    /// A 207 that fails the inputs whose id ends in 7 and writes the others.
    Partial,
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        1 => Just(Fault::ServerError),
        1 => Just(Fault::RateLimited),
        2 => Just(Fault::Partial),
    ]
}

/// What the stand-in saw and did.
#[derive(Default)]
struct Ledger {
    requests: usize,
    /// Per record id, the input sequence numbers of the writes it applied, in arrival order.
    writes: HashMap<String, Vec<u64>>,
    /// A request that carried two inputs for one record.
    repeated_in_a_request: Option<String>,
}

fn answer(
    schedule: &[Fault],
    ledger: &Mutex<Ledger>,
    request: &HttpMockRequest,
) -> HttpMockResponse {
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap();
    let mut ledger = ledger.lock().unwrap();
    let n = ledger.requests;
    ledger.requests += 1;
    let fault = schedule.get(n).copied().unwrap_or(Fault::None);
    let inputs = body["inputs"].as_array().unwrap().clone();
    let mut seen = HashSet::new();
    for input in &inputs {
        let id = input["id"].as_str().unwrap().to_string();
        if !seen.insert(id.clone()) {
            ledger.repeated_in_a_request = Some(id);
        }
    }
    match fault {
        Fault::ServerError => return raw_response(500, "text/plain", "busy"),
        Fault::RateLimited => {
            return json_response(
                429,
                &json!({"status":"error","message":"You have reached your ten_secondly_rolling limit.","policyName":"TEN_SECONDLY_ROLLING"}),
            );
        }
        Fault::None | Fault::Partial => {}
    }
    let (mut results, mut errors) = (Vec::new(), Vec::new());
    for input in &inputs {
        let id = input["id"].as_str().unwrap().to_string();
        if matches!(fault, Fault::Partial) && id.ends_with('7') {
            errors.push(json!({
                "status": "error", "category": "VALIDATION_ERROR", "message": "refused",
                "context": {"objectWriteTraceId": [input["objectWriteTraceId"]]}, "errors": [], "links": {},
            }));
            continue;
        }
        let sequence: u64 = input["properties"]["seq"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let new = !ledger.writes.contains_key(&id);
        ledger.writes.entry(id).or_default().push(sequence);
        results.push(result_for(input, new));
    }
    let status = if errors.is_empty() { 200 } else { 207 };
    json_response(status, &batch_body(results, errors))
}

fn run(ids: Vec<u8>, batch_size: usize, in_flight: usize, schedule: Vec<Fault>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = MockServer::start();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    {
        let ledger = ledger.clone();
        server.mock(move |when, then| {
            when.method("POST").path(PATH);
            then.respond_with(move |request| answer(&schedule, &ledger, request));
        });
    }
    let client = Client::builder()
        .access_token(TOKEN)
        .base_url(server.base_url())
        .rate_budget(RateBudget::Unlimited)
        .retry_policy(fast_retries(4))
        .batch_size(batch_size)
        .fixed_in_flight(in_flight)
        .build()
        .unwrap();
    let inputs: Vec<UpsertInput> = ids
        .iter()
        .enumerate()
        .map(|(at, id)| {
            UpsertInput::new("project_code", format!("P{id}")).property("seq", at.to_string())
        })
        .collect();
    let report = runtime.block_on(client.upsert(inputs.clone()));
    let ledger = ledger.lock().unwrap();

    // Exactly one outcome per input, in input order.
    assert_eq!(report.outcomes.len(), inputs.len());
    for (at, record) in report.outcomes.iter().enumerate() {
        assert_eq!(record.tag, at);
        assert_eq!(record.id, inputs[at].id);
    }
    assert_eq!(report.summary.total(), inputs.len() as u64);
    // Never two inputs for one record in a request.
    assert_eq!(ledger.repeated_in_a_request, None);
    // Writes to one record arrive in input order.
    for (id, sequence) in &ledger.writes {
        assert!(
            sequence.windows(2).all(|pair| pair[0] < pair[1]),
            "{id}: writes arrived as {sequence:?}"
        );
    }
    // Nothing reported written that the server did not write: every success names a write the
    // server made of that very input.
    let written_inputs: HashSet<(String, u64)> = ledger
        .writes
        .iter()
        .flat_map(|(id, seqs)| seqs.iter().map(move |s| (id.clone(), *s)))
        .collect();
    for (at, record) in report.outcomes.iter().enumerate() {
        if record.outcome.is_success() {
            assert!(
                written_inputs.contains(&(record.id.clone(), at as u64)),
                "input {at} ({}) reported {:?} but never written",
                record.id,
                record.outcome
            );
        } else {
            assert!(matches!(record.outcome, Outcome::Failed(_)), "{record:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_input_gets_one_true_outcome(
        ids in proptest::collection::vec(0u8..40, 1..300),
        batch_size in 1usize..=100,
        in_flight in 1usize..=8,
        schedule in proptest::collection::vec(fault(), 0..40),
    ) {
        run(ids, batch_size, in_flight, schedule);
    }
}

/// The same invariants against the in-process emulator, with its own seeded faults (5xx, 429,
/// dropped connections, latency): what the emulator holds at the end must be, for every
/// record, the value of the last input in input order that the client reported written.
fn run_against_the_emulator(
    ids: Vec<u8>,
    batch_size: usize,
    in_flight: usize,
    faults: Faults,
    seed: u64,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = Emulator::start(EmulatorConfig {
            faults,
            seed,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let client = Client::builder()
            .access_token(TOKEN)
            .base_url(emulator.base_url())
            .rate_budget(RateBudget::Unlimited)
            .retry_policy(fast_retries(4))
            .timeout(std::time::Duration::from_secs(5))
            .batch_size(batch_size)
            .fixed_in_flight(in_flight)
            .build()
            .unwrap();
        let inputs: Vec<UpsertInput> = ids
            .iter()
            .enumerate()
            .map(|(at, id)| {
                UpsertInput::new("project_code", format!("P{id}"))
                    .property("hs_name", format!("v{at}"))
            })
            .collect();
        let report = client.upsert(inputs.clone()).await;
        assert_eq!(report.outcomes.len(), inputs.len());
        assert_eq!(report.summary.total(), inputs.len() as u64);
        let mut last_written: HashMap<String, String> = HashMap::new();
        for (at, record) in report.outcomes.iter().enumerate() {
            assert_eq!(record.tag, at);
            if let Outcome::Failed(error) = &record.outcome {
                // The emulator rejects a batch naming one record twice: never sent.
                assert!(!error.message.contains("Duplicate"), "{error}");
            }
            if record.outcome.is_success() {
                last_written.insert(record.id.clone(), format!("v{at}"));
            }
        }
        let held: HashMap<String, String> = emulator
            .records()
            .into_iter()
            .map(|r| {
                (
                    r.properties["project_code"].clone(),
                    r.properties["hs_name"].clone(),
                )
            })
            .collect();
        for (id, value) in &last_written {
            assert_eq!(
                held.get(id),
                Some(value),
                "{id}: writes applied out of input order"
            );
        }
        emulator.shutdown().await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_emulator_ends_with_the_last_written_value_of_every_record(
        ids in proptest::collection::vec(0u8..30, 1..250),
        batch_size in 1usize..=100,
        in_flight in 1usize..=6,
        server_error in 0.0f64..0.2,
        rate_limited in 0.0f64..0.1,
        drop_connection in 0.0f64..0.05,
        seed in any::<u64>(),
    ) {
        let faults = Faults {
            server_error,
            rate_limited,
            drop_connection,
            ..Faults::default()
        };
        run_against_the_emulator(ids, batch_size, in_flight, faults, seed);
    }
}
