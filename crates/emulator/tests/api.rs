//! The emulator's HubSpot behaviour, exercised over loopback HTTP.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hubspot_projects_emulator::{
    BatchErrors, EmulatorConfig, Faults, PropertyDef, PropertyType, RateBudget, TokenGrant,
    UPSERT_PATHS,
};
use serde_json::{Value, json};

const T: Option<&str> = Some("any-token");

#[tokio::test]
async fn create_then_update_flips_new_and_keeps_untouched_properties() {
    let emulator = start(EmulatorConfig::default()).await;
    let first = post(
        &emulator,
        T,
        batch(vec![input(
            "PRJ-1",
            Some("t1"),
            json!({"hs_name": "Launch", "hs_pipeline": "default"}),
        )]),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let created = &first.json()["results"][0];
    assert_eq!(created["new"], true);
    assert_eq!(created["objectWriteTraceId"], "t1");
    assert_eq!(created["createdAt"], created["updatedAt"]);
    assert_eq!(created["properties"]["project_code"], "PRJ-1");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.parse::<u64>().is_ok(), "numeric id, got {id}");
    assert_eq!(first.json()["status"], "COMPLETE");

    let second = post(
        &emulator,
        T,
        batch(vec![input(
            "PRJ-1",
            Some("t2"),
            json!({"hs_name": "Launch v2"}),
        )]),
    )
    .await;
    assert_eq!(second.status, 200);
    let updated = &second.json()["results"][0];
    assert_eq!(updated["new"], false);
    assert_eq!(updated["id"], id.as_str());
    assert_eq!(updated["objectWriteTraceId"], "t2");
    assert_eq!(updated["createdAt"], created["createdAt"]);
    let parse = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert!(parse(&updated["updatedAt"]) > parse(&created["updatedAt"]));
    assert_eq!(updated["properties"]["hs_name"], "Launch v2");
    assert_eq!(
        updated["properties"]["hs_pipeline"], "default",
        "untouched kept"
    );

    let records = emulator.records();
    assert_eq!(records.len(), 1);
    assert_eq!(emulator.record_count(), 1);
    assert_eq!(records[0].id, id);
    assert_eq!(records[0].properties["hs_name"], "Launch v2");
    assert_eq!(records[0].properties["hs_pipeline"], "default");
    assert!(records[0].updated_at > records[0].created_at);
    assert_eq!(emulator.request_count(), 2);
    emulator.shutdown().await;
}

#[tokio::test]
async fn omitted_id_property_updates_by_record_id_or_fails_the_input() {
    let emulator = start(EmulatorConfig::default()).await;
    let created = post(&emulator, T, batch(vec![input("A", None, json!({}))])).await;
    let id = created.json()["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = post(
        &emulator,
        T,
        json!({"inputs": [
            {"id": id, "properties": {"hs_name": "by id"}},
            {"id": "999999", "objectWriteTraceId": "missing", "properties": {"hs_name": "x"}},
        ]}),
    )
    .await;
    assert_eq!(answer.status, 207);
    let body = answer.json();
    assert_eq!(body["results"][0]["new"], false);
    assert_eq!(body["results"][0]["properties"]["hs_name"], "by id");
    assert_eq!(body["numErrors"], 1);
    let error = &body["errors"][0];
    assert_eq!(error["category"], "OBJECT_NOT_FOUND");
    assert_eq!(
        error["context"],
        json!({"id": ["999999"], "objectWriteTraceId": ["missing"]})
    );
    assert_eq!(emulator.record_count(), 1);
}

#[tokio::test]
async fn every_versions_path_upserts_the_same_records() {
    let emulator = start(EmulatorConfig::default()).await;
    let last = UPSERT_PATHS.len() - 1;
    for (i, path) in UPSERT_PATHS.iter().map(|p| p.path).enumerate() {
        let answer = post_raw(
            &emulator,
            path,
            T,
            batch(vec![input(
                "SAME",
                None,
                json!({"hs_name": format!("v{i}")}),
            )])
            .to_string(),
        )
        .await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert_eq!(answer.json()["results"][0]["new"], i == 0, "{path}");
    }
    assert_eq!(emulator.record_count(), 1);
    assert_eq!(
        emulator.records()[0].properties["hs_name"],
        format!("v{last}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_upserts_of_one_key_make_one_record() {
    let emulator = start(EmulatorConfig::default()).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let url = format!("{}{UPSERT}", emulator.base_url());
        tasks.push(tokio::spawn(async move {
            let body = batch(vec![
                input("RACE", None, json!({"hs_name": format!("writer {i}")})),
                input(&format!("OWN-{i}"), None, json!({})),
            ]);
            let response = client()
                .post(url)
                .bearer_auth("t")
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            body["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["properties"]["project_code"] == "RACE")
                .map(|r| r["new"].as_bool().unwrap())
                .collect::<Vec<_>>()
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await.unwrap().into_iter().filter(|new| *new).count();
    }
    assert_eq!(created, 1, "exactly one writer created RACE");
    let records = emulator.records();
    assert_eq!(records.len(), 17);
    assert_eq!(
        records
            .iter()
            .filter(|r| r.properties["project_code"] == "RACE")
            .count(),
        1
    );
}

fn per_input() -> EmulatorConfig {
    EmulatorConfig {
        batch_errors: BatchErrors::PerInput,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn per_input_an_unknown_property_fails_only_its_input_in_a_207() {
    let emulator = start(per_input()).await;
    let answer = post(
        &emulator,
        T,
        batch(vec![
            input("GOOD", Some("g"), json!({"hs_name": "fine"})),
            input("BAD", Some("b"), json!({"hs_name": "x", "nope": "y"})),
        ]),
    )
    .await;
    assert_eq!(answer.status, 207);
    let body = answer.json();
    assert_eq!(body["status"], "COMPLETE");
    assert_eq!(body["numErrors"], 1);
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    assert_eq!(body["results"][0]["objectWriteTraceId"], "g");
    let error = &body["errors"][0];
    assert_eq!(error["status"], "error");
    assert_eq!(error["category"], "VALIDATION_ERROR");
    assert_eq!(error["id"], "BAD");
    assert_eq!(
        error["context"],
        json!({"id": ["BAD"], "objectWriteTraceId": ["b"], "propertyName": ["nope"]})
    );
    assert_eq!(error["errors"], json!([]));
    assert_eq!(error["links"], json!({}));
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Property \\\"nope\\\" does not exist"),
        "{}",
        error["message"]
    );
    // Without a trace id, the context has no objectWriteTraceId key.
    let answer = post(
        &emulator,
        T,
        batch(vec![input("BAD", None, json!({"nope": "y"}))]),
    )
    .await;
    assert_eq!(answer.status, 207);
    assert_eq!(
        answer.json()["errors"][0]["context"],
        json!({"id": ["BAD"], "propertyName": ["nope"]})
    );
    assert_eq!(answer.json()["results"], json!([]));
    assert_eq!(emulator.record_count(), 1);
}

#[tokio::test]
async fn per_input_a_read_only_property_and_a_taken_unique_value_fail_their_input() {
    let config = EmulatorConfig {
        properties: vec![
            PropertyDef::new("external_ref", PropertyType::String).with_unique_values(),
        ],
        ..per_input()
    };
    let emulator = start(config).await;
    post(
        &emulator,
        T,
        batch(vec![input("A", None, json!({"external_ref": "R"}))]),
    )
    .await;
    let answer = post(
        &emulator,
        T,
        batch(vec![
            input("B", Some("b"), json!({"external_ref": "R"})),
            input("C", Some("c"), json!({"hs_object_id": "5"})),
        ]),
    )
    .await;
    assert_eq!(answer.status, 207);
    let body = answer.json();
    assert_eq!(body["numErrors"], 2);
    assert_eq!(
        body["errors"][0]["context"]["propertyName"],
        json!(["external_ref"])
    );
    assert_eq!(
        body["errors"][1]["context"]["propertyName"],
        json!(["hs_object_id"])
    );
    assert_eq!(emulator.record_count(), 1);
}

async fn assert_400(emulator: &hubspot_projects_emulator::EmulatorHandle, body: String) -> Value {
    let answer = post_raw(emulator, UPSERT, T, body).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["category"], "VALIDATION_ERROR");
    uuid::Uuid::parse_str(body["correlationId"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["correlationId"].as_str(),
        answer.header("x-hubspot-correlation-id")
    );
    body
}

#[tokio::test]
async fn whole_batch_errors_are_400_validation_errors() {
    let emulator = start(EmulatorConfig::default()).await;

    let body = assert_400(
        &emulator,
        json!({"inputs": [{"id": "x", "idProperty": "hs_name", "properties": {}}]}).to_string(),
    )
    .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Unable to perform update/upsert by non-unique"),
        "{body}"
    );
    let body = assert_400(
        &emulator,
        json!({"inputs": [{"id": "1", "idProperty": "hs_object_id", "properties": {}}]})
            .to_string(),
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("non-unique"));
    let body = assert_400(
        &emulator,
        json!({"inputs": [{"id": "x", "idProperty": "no_such", "properties": {}}]}).to_string(),
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("no_such"));

    // Two inputs for one record: nothing written, not even the other input.
    let body = assert_400(
        &emulator,
        batch(vec![
            input("OTHER", None, json!({})),
            input("DUP", None, json!({"hs_name": "a"})),
            input("DUP", None, json!({"hs_name": "b"})),
        ])
        .to_string(),
    )
    .await;
    assert_eq!(body["context"]["ids"], json!(["DUP"]));
    assert_eq!(emulator.record_count(), 0);

    let many: Vec<Value> = (0..101)
        .map(|i| input(&format!("P{i}"), None, json!({})))
        .collect();
    let body = assert_400(&emulator, batch(many).to_string()).await;
    assert!(body["message"].as_str().unwrap().contains("100"));
    assert_eq!(emulator.record_count(), 0);

    let body = assert_400(&emulator, "{\"inputs\": [".to_string()).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid input JSON")
    );
    assert_400(
        &emulator,
        json!({"inputs": [{"id": 5, "properties": {}}]}).to_string(),
    )
    .await;
    assert_400(
        &emulator,
        json!({"inputs": [{"id": "a", "properties": {"hs_name": 1}}]}).to_string(),
    )
    .await;
    assert_400(&emulator, json!({"records": []}).to_string()).await;
    assert_400(&emulator, String::new()).await;
    assert_eq!(emulator.record_count(), 0);

    // Exactly 100 inputs pass.
    let hundred: Vec<Value> = (0..100)
        .map(|i| input(&format!("P{i}"), None, json!({})))
        .collect();
    assert_eq!(post(&emulator, T, batch(hundred)).await.status, 200);
    assert_eq!(emulator.record_count(), 100);
}

#[tokio::test]
async fn oversized_body_is_413() {
    let emulator = start(EmulatorConfig::default()).await;
    let big = "x".repeat(hubspot_projects_emulator::MAX_BODY_BYTES);
    let answer = post(
        &emulator,
        T,
        batch(vec![input("BIG", None, json!({"hs_description": big}))]),
    )
    .await;
    assert_eq!(answer.status, 413);
    assert_eq!(answer.json()["category"], "VALIDATION_ERROR");
    assert_eq!(emulator.record_count(), 0);
}

#[tokio::test]
async fn tokens_and_scopes() {
    let config = EmulatorConfig {
        tokens: vec![
            TokenGrant {
                token: "full".into(),
                scopes: None,
            },
            "reader:crm.objects.projects.read".parse().unwrap(),
        ],
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await;
    let one = || batch(vec![input("A", None, json!({}))]);

    let answer = post(&emulator, None, one()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["category"], "INVALID_AUTHENTICATION");
    let answer = post(&emulator, Some("stranger"), one()).await;
    assert_eq!(answer.status, 401);

    let answer = post(&emulator, Some("reader"), one()).await;
    assert_eq!(answer.status, 403);
    let body = answer.json();
    assert_eq!(body["category"], "MISSING_SCOPES");
    assert_eq!(
        body["context"]["missingScopes"],
        json!(["crm.objects.projects.write"])
    );
    assert_eq!(emulator.record_count(), 0);

    assert_eq!(post(&emulator, Some("full"), one()).await.status, 200);
    // The reader may read what it may not write.
    let read = get(
        &emulator,
        &read_path("A?idProperty=project_code"),
        Some("reader"),
    )
    .await;
    assert_eq!(read.status, 200);

    // Without configured tokens, any non-empty bearer is accepted, and an empty one is not.
    let open = start(EmulatorConfig::default()).await;
    assert_eq!(post(&open, Some("whatever"), one()).await.status, 200);
    let answer = post_raw(&open, UPSERT, Some(""), one().to_string()).await;
    assert_eq!(answer.status, 401);
}

#[tokio::test]
async fn rate_limit_headers_count_down_then_429() {
    let config = EmulatorConfig {
        rate_limit: RateBudget::Limited {
            requests: 3,
            interval: Duration::from_secs(60),
        },
        daily_limit: Some(1000),
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await;
    let one = |code: &str| batch(vec![input(code, None, json!({}))]);
    for expected in [2, 1, 0] {
        let answer = post(&emulator, Some("a"), one("A")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header_u64("x-hubspot-ratelimit-max"), 3);
        assert_eq!(answer.header_u64("x-hubspot-ratelimit-remaining"), expected);
        assert_eq!(
            answer.header_u64("x-hubspot-ratelimit-interval-milliseconds"),
            60_000
        );
        assert_eq!(answer.header_u64("x-hubspot-ratelimit-daily"), 1000);
        assert_eq!(
            answer.header_u64("x-hubspot-ratelimit-daily-remaining"),
            1000 - (3 - expected)
        );
    }
    for _ in 0..2 {
        let answer = post(&emulator, Some("a"), one("NOT-WRITTEN")).await;
        assert_eq!(answer.status, 429);
        assert_eq!(answer.header_u64("x-hubspot-ratelimit-remaining"), 0);
        // A refused request does not consume the daily budget.
        assert_eq!(
            answer.header_u64("x-hubspot-ratelimit-daily-remaining"),
            997
        );
        let body = answer.json();
        assert_eq!(
            body,
            json!({
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
                "correlationId": answer.header("x-hubspot-correlation-id").unwrap(),
                "policyName": "TEN_SECONDLY_ROLLING",
                "groupName": body["groupName"],
            })
        );
        assert!(body["groupName"].is_string());
    }
    // Budgets are per token.
    let answer = post(&emulator, Some("b"), one("B")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header_u64("x-hubspot-ratelimit-remaining"), 2);
    assert_eq!(emulator.record_count(), 2);
}

#[tokio::test]
async fn rolling_window_frees_budget() {
    let config = EmulatorConfig {
        rate_limit: "1/1s".parse().unwrap(),
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await;
    let one = || batch(vec![input("A", None, json!({}))]);
    assert_eq!(post(&emulator, T, one()).await.status, 200);
    assert_eq!(post(&emulator, T, one()).await.status, 429);
    // Wait for the window to roll past the admitted request, then the budget is back.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = post(&emulator, T, one()).await;
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 429);
        assert!(Instant::now() < deadline, "the window never rolled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn daily_limit_gives_the_daily_429() {
    let config = EmulatorConfig {
        daily_limit: Some(2),
        ..EmulatorConfig::default()
    };
    let emulator = start(config).await;
    let one = || batch(vec![input("A", None, json!({}))]);
    let first = post(&emulator, T, one()).await;
    assert_eq!(first.header_u64("x-hubspot-ratelimit-daily-remaining"), 1);
    assert!(first.header("x-hubspot-ratelimit-max").is_none());
    assert_eq!(post(&emulator, T, one()).await.status, 200);
    let answer = post(&emulator, T, one()).await;
    assert_eq!(answer.status, 429);
    let body = answer.json();
    assert_eq!(body["policyName"], "DAILY");
    assert_eq!(body["errorType"], "RATE_LIMIT");
    assert!(body["message"].as_str().unwrap().contains("daily limit"));
    assert_eq!(answer.header_u64("x-hubspot-ratelimit-daily-remaining"), 0);
}

#[tokio::test]
async fn no_rate_limit_headers_without_a_budget() {
    let emulator = start(EmulatorConfig::default()).await;
    let answer = post(&emulator, T, batch(vec![input("A", None, json!({}))])).await;
    assert!(answer.header("x-hubspot-ratelimit-remaining").is_none());
    assert!(answer.header("x-hubspot-ratelimit-daily").is_none());
}

fn only(faults: Faults) -> EmulatorConfig {
    EmulatorConfig {
        faults,
        seed: 42,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn fault_500_502_503_429_answer_without_writing() {
    let cases = [
        (
            Faults {
                server_error: 1.0,
                ..Faults::default()
            },
            500,
        ),
        (
            Faults {
                bad_gateway_html: 1.0,
                ..Faults::default()
            },
            502,
        ),
        (
            Faults {
                unavailable: 1.0,
                ..Faults::default()
            },
            503,
        ),
        (
            Faults {
                rate_limited: 1.0,
                ..Faults::default()
            },
            429,
        ),
    ];
    for (faults, status) in cases {
        let emulator = start(only(faults)).await;
        let answer = post(&emulator, T, batch(vec![input("A", None, json!({}))])).await;
        assert_eq!(answer.status, status, "{}", answer.body);
        match status {
            502 => {
                assert!(
                    answer
                        .header("content-type")
                        .unwrap()
                        .starts_with("text/html")
                );
                assert!(answer.body.contains("502 Bad Gateway"));
            }
            429 => assert_eq!(answer.json()["policyName"], "TEN_SECONDLY_ROLLING"),
            _ => {
                let body = answer.json();
                assert!(body["category"].is_string());
                assert!(body["message"].is_string());
            }
        }
        assert_eq!(emulator.record_count(), 0, "status {status} wrote");
        assert_eq!(emulator.request_count(), 1);
    }
}

#[tokio::test]
async fn dropped_connection_gives_no_answer_and_writes_nothing() {
    let emulator = start(only(Faults {
        drop_connection: 1.0,
        ..Faults::default()
    }))
    .await;
    let result = client()
        .post(format!("{}{UPSERT}", emulator.base_url()))
        .bearer_auth("t")
        .json(&batch(vec![input("A", None, json!({}))]))
        .send()
        .await;
    let error = result.expect_err("no answer");
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(emulator.record_count(), 0);
    assert_eq!(emulator.request_count(), 1);
    // The server itself goes on serving.
    let health = get(&emulator, "/_emulator/health", None).await;
    assert_eq!(health.status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn latency_fault_delays_and_still_writes() {
    let emulator = start(only(Faults {
        latency: 1.0,
        latency_ms: 300,
        ..Faults::default()
    }))
    .await;
    let began = Instant::now();
    let answer = post(&emulator, T, batch(vec![input("A", None, json!({}))])).await;
    assert!(began.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 200);
    assert_eq!(emulator.record_count(), 1);
}

async fn statuses(seed: u64, n: usize) -> Vec<u16> {
    let emulator = start(EmulatorConfig {
        seed,
        faults: Faults {
            server_error: 0.2,
            bad_gateway_html: 0.2,
            unavailable: 0.2,
            rate_limited: 0.2,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let mut out = Vec::new();
    for i in 0..n {
        let answer = post(
            &emulator,
            T,
            batch(vec![input(&format!("P{i}"), None, json!({}))]),
        )
        .await;
        out.push(answer.status.as_u16());
    }
    let written = out.iter().filter(|s| **s == 200).count();
    assert_eq!(emulator.record_count(), written);
    out
}

#[tokio::test]
async fn faults_are_deterministic_from_the_seed() {
    let a = statuses(7, 40).await;
    assert_eq!(a, statuses(7, 40).await);
    assert_ne!(a, statuses(8, 40).await);
    for status in [200, 500, 502, 503, 429] {
        assert!(a.contains(&status), "{status} never drawn in {a:?}");
    }
}

#[tokio::test]
async fn read_back_and_records_listing() {
    let emulator = start(EmulatorConfig::default()).await;
    let answer = post(
        &emulator,
        T,
        batch(vec![
            input("R1", None, json!({"hs_name": "One", "hs_pipeline": "p"})),
            input("R2", None, json!({"hs_name": "Two"})),
        ]),
    )
    .await;
    let id = answer.json()["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let by_id = get(&emulator, &read_path(&id), T).await;
    assert_eq!(by_id.status, 200);
    let body = by_id.json();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["properties"]["hs_name"], "One");
    assert_eq!(body["archived"], false);

    let selected = get(
        &emulator,
        &read_path("R1?idProperty=project_code&properties=hs_name,hs_description"),
        T,
    )
    .await;
    let properties = &selected.json()["properties"];
    assert_eq!(properties["hs_name"], "One");
    assert_eq!(properties["hs_description"], Value::Null);
    assert!(properties.get("hs_pipeline").is_none(), "not requested");
    assert_eq!(properties["hs_object_id"], id.as_str());

    assert_eq!(get(&emulator, &read_path("424242"), T).await.status, 404);
    assert_eq!(
        get(&emulator, &read_path("R1?idProperty=hs_name"), T)
            .await
            .status,
        400
    );
    assert_eq!(get(&emulator, &read_path("R1"), None).await.status, 401);

    let listing = get(&emulator, "/_emulator/records", None).await;
    assert_eq!(listing.status, 200);
    assert_eq!(listing.header("content-type"), Some("application/x-ndjson"));
    let lines: Vec<Value> = listing
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], id.as_str());
    assert_eq!(lines[0]["properties"]["project_code"], "R1");
    assert_eq!(lines[1]["properties"]["hs_name"], "Two");
    assert!(lines[0]["createdAt"].is_string() && lines[0]["updatedAt"].is_string());

    let health = get(&emulator, "/_emulator/health", None).await;
    assert_eq!(health.json(), json!({"status": "ok"}));
    assert!(health.header("x-hubspot-correlation-id").is_some());
    // /_emulator routes are not counted.
    assert_eq!(emulator.request_count(), 6);
}

/// Milliseconds since the epoch, as the emulator's statistics give arrival times.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn stats_count_every_api_request_and_when_the_first_and_last_arrived() {
    let emulator = start(EmulatorConfig {
        rate_limit: RateBudget::limited(3, Duration::from_secs(60)).unwrap(),
        ..EmulatorConfig::default()
    })
    .await;
    let before_any = get(&emulator, "/_emulator/stats", None).await;
    assert_eq!(before_any.status, 200);
    assert_eq!(
        before_any.json(),
        json!({"requests": 0, "firstRequestAt": null, "lastRequestAt": null})
    );

    let began = now_ms();
    let first = post(&emulator, T, batch(vec![input("S1", None, json!({}))])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // Taken after the first answer and before the next requests leave: the first arrival is
    // at or before it, the last at or after it.
    let between = now_ms();
    // Refused for its token, refused by the budget: both arrived, both count.
    assert_eq!(
        post(&emulator, None, batch(vec![input("S2", None, json!({}))]))
            .await
            .status,
        401
    );
    assert_eq!(
        get(&emulator, &read_path("S1?idProperty=project_code"), T)
            .await
            .status,
        200
    );
    assert_eq!(
        post(&emulator, T, batch(vec![input("S3", None, json!({}))]))
            .await
            .status,
        200
    );
    assert_eq!(
        post(&emulator, T, batch(vec![input("S4", None, json!({}))]))
            .await
            .status,
        429
    );
    let ended = now_ms();
    // The admin routes are not counted.
    assert_eq!(get(&emulator, "/_emulator/health", None).await.status, 200);

    let stats = get(&emulator, "/_emulator/stats", None).await.json();
    assert_eq!(stats["requests"], 5, "{stats}");
    let first_at = stats["firstRequestAt"].as_u64().expect("a time");
    let last_at = stats["lastRequestAt"].as_u64().expect("a time");
    assert!(
        began <= first_at && first_at <= between,
        "{began} {first_at} {between}"
    );
    assert!(
        between <= last_at && last_at <= ended,
        "{between} {last_at} {ended}"
    );
    assert_eq!(stats["requests"].as_u64(), Some(emulator.request_count()));
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let emulator = start(EmulatorConfig::default()).await;
    let url = format!("{}/_emulator/health", emulator.base_url());
    assert!(client().get(&url).send().await.is_ok());
    emulator.shutdown().await;
    let after = hubspot_projects_api::http::client_builder(&[])
        .unwrap()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await;
    assert!(after.is_err(), "still serving after shutdown");
}
