//! The bulk engine against a real HTTP server on loopback.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use hubspot_projects::{Error, NotAttempted, Outcome, UpsertInput};
use serde_json::json;

#[tokio::test]
async fn two_hundred_fifty_inputs_make_three_requests_of_100_100_and_50() {
    let (server, seen) = echo_server();
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(250)).await;

    let mut sizes = seen.batch_sizes();
    sizes.sort_unstable();
    assert_eq!(sizes, [50, 100, 100]);
    assert_eq!(report.summary.created, 250);
    assert_eq!(report.summary.requests, 3);
    assert_eq!(report.summary.retries, 0);
    // One outcome per input, in input order, tied to the right record.
    assert_eq!(report.outcomes.len(), 250);
    for (i, record) in report.outcomes.iter().enumerate() {
        assert_eq!(record.tag, i);
        assert_eq!(record.id, format!("PRJ-{i:04}"));
        assert_eq!(
            record.outcome,
            Outcome::Created {
                record_id: format!("rec-PRJ-{i:04}")
            }
        );
    }
    // Every input went out tagged with its own trace id.
    let traces: HashSet<String> = seen
        .bodies()
        .iter()
        .flat_map(|b| b["inputs"].as_array().unwrap().clone())
        .map(|i| i["objectWriteTraceId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(traces.len(), 250);
}

#[tokio::test]
async fn repeated_records_never_share_a_request_and_the_last_write_wins() {
    // Answers take a while, so that several batches are in flight at once.
    let server = httpmock::MockServer::start();
    let seen = std::sync::Arc::new(Seen::default());
    let state = seen.clone();
    server.mock(move |when, then| {
        when.method("POST").path(PATH);
        then.delay(Duration::from_millis(20))
            .respond_with(move |request| echo(&state, request));
    });
    // 90 distinct records; every 10th position repeats the record 5 positions earlier.
    let mut list = Vec::new();
    for position in 0..100usize {
        let record = if position % 10 == 5 {
            position - 5
        } else {
            position
        };
        list.push(
            UpsertInput::new("project_code", format!("PRJ-{record}"))
                .property("hs_name", format!("write {position}")),
        );
    }
    let client = builder(&server)
        .batch_size(10)
        .max_in_flight(4)
        .build()
        .unwrap();
    let report = client.upsert(list.clone()).await;

    for body in seen.bodies() {
        let ids: Vec<&str> = body["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        let distinct: HashSet<&&str> = ids.iter().collect();
        assert_eq!(
            distinct.len(),
            ids.len(),
            "a request repeats a record: {ids:?}"
        );
    }
    let records = seen.records.lock().unwrap();
    assert_eq!(records.len(), 90);
    for (position, input) in list.iter().enumerate() {
        let last = list.iter().rposition(|other| other.id == input.id).unwrap();
        assert_eq!(
            records[&input.id],
            format!("write {last}"),
            "record of position {position}"
        );
    }
    assert_eq!(report.summary.created + report.summary.updated, 100);
    assert_eq!(report.summary.updated, 10);
}

#[tokio::test]
async fn a_207_fails_exactly_the_inputs_it_names() {
    let (server, _) = server_with(|_, _, request| {
        let body: serde_json::Value = serde_json::from_slice(request.body_ref()).unwrap();
        let (mut results, mut errors) = (vec![], vec![]);
        for input in body["inputs"].as_array().unwrap() {
            let id = input["id"].as_str().unwrap();
            if id.ends_with('3') {
                errors.push(json!({
                    "status": "error", "category": "VALIDATION_ERROR",
                    "message": format!("Property values were not valid for {id}"),
                    "context": {"id": [id], "objectWriteTraceId": [input["objectWriteTraceId"]], "propertyName": ["hs_pipeline"]},
                    "errors": [], "links": {},
                }));
            } else {
                results.push(result_for(input, true));
            }
        }
        json_response(207, &batch_body(results, errors))
    });
    let client = builder(&server).build().unwrap();
    let answer = client.upsert_batch(inputs(20)).await.unwrap();

    assert_eq!(answer.status, 207);
    assert!(answer.is_partial());
    assert_eq!(answer.errors.len(), 2);
    for record in &answer.outcomes {
        if record.id.ends_with('3') {
            let Outcome::Failed(error) = &record.outcome else {
                panic!("{record:?}")
            };
            assert_eq!(error.category, "VALIDATION_ERROR");
            assert_eq!(
                error.message,
                format!("Property values were not valid for {}", record.id)
            );
            assert_eq!(error.context["propertyName"], ["hs_pipeline"]);
            assert_eq!(error.correlation_id.as_deref(), Some("corr-from-header"));
        } else {
            assert_eq!(
                record.outcome,
                Outcome::Created {
                    record_id: format!("rec-{}", record.id)
                }
            );
        }
    }
}

#[tokio::test]
async fn a_207_with_a_category_and_code_in_no_enum_still_counts_the_written_records() {
    let (server, _) = server_with(|_, _, request| {
        let body: serde_json::Value = serde_json::from_slice(request.body_ref()).unwrap();
        let (mut results, mut errors) = (vec![], vec![]);
        for (at, input) in body["inputs"].as_array().unwrap().iter().enumerate() {
            if at == 0 {
                errors.push(json!({
                    "status": "error", "category": "ADMIN_VALIDATION_RULE_2031",
                    "message": "A rule HubSpot added later refused this value",
                    "context": {"objectWriteTraceId": [input["objectWriteTraceId"]]},
                    "errors": [{"message": "refused", "code": "RULE_VIOLATED_BRAND_NEW", "in": "hs_name"}],
                    "links": {}, "subCategory": {"kind": "anything"},
                }));
            } else {
                results.push(result_for(input, false));
            }
        }
        let mut answer = batch_body(results, errors);
        answer["status"] = json!("ARCHIVED_IN_A_FUTURE_VERSION");
        json_response(207, &answer)
    });
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(10)).await;
    assert_eq!(report.summary.updated, 9, "{:?}", report.summary);
    assert!(
        matches!(&report.outcomes[0].outcome, Outcome::Failed(e) if e.category == "ADMIN_VALIDATION_RULE_2031")
    );
    // The typed answer decodes too.
    let answer = client.upsert_batch(inputs(3)).await.unwrap();
    assert_eq!(answer.errors[0].category, "ADMIN_VALIDATION_RULE_2031");
    assert_eq!(
        answer
            .outcomes
            .iter()
            .filter(|o| o.outcome.is_success())
            .count(),
        2
    );
}

#[tokio::test]
async fn a_207_with_empty_results_counts_nothing_as_a_success() {
    let (server, _) = server_with(|_, _, _| {
        let error = json!({"status": "error", "category": "VALIDATION_ERROR", "message": "something failed", "context": {}, "errors": [], "links": {}});
        json_response(207, &batch_body(vec![], vec![error]))
    });
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(5)).await;
    assert_eq!(report.summary.created + report.summary.updated, 0);
    assert_eq!(report.summary.failed, 5);
    for record in &report.outcomes {
        assert!(
            matches!(&record.outcome, Outcome::Failed(e) if e.category == "UNCONFIRMED" && e.message.contains("something failed"))
        );
    }
}

fn ten_secondly() -> serde_json::Value {
    json!({"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c-429","policyName":"TEN_SECONDLY_ROLLING","groupName":"g"})
}

#[tokio::test]
async fn a_ten_secondly_429_twice_then_200_succeeds_after_backoff() {
    let (server, seen) = server_with(|n, seen, request| {
        if n < 2 {
            json_response(429, &ten_secondly())
        } else {
            echo(seen, request)
        }
    });
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(10)).await;
    assert_eq!(report.summary.created, 10);
    assert_eq!(report.summary.requests, 3);
    assert_eq!(report.summary.retries, 2);
    assert_eq!(report.summary.rate_limited, 2);
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (server, seen) = server_with(|n, seen, request| {
        if n == 0 {
            let mut response = json_response(429, &ten_secondly());
            response
                .headers
                .get_or_insert_with(Vec::new)
                .push(("retry-after".into(), "1".into()));
            response
        } else {
            echo(seen, request)
        }
    });
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(1)).await;
    assert_eq!(report.summary.created, 1);
    let arrivals = seen.arrivals.lock().unwrap();
    // The first attempt was answered 429 before it was recorded; the retry came ≥ 1 s later.
    assert_eq!(arrivals.len(), 1);
    assert!(
        report.summary.elapsed >= Duration::from_secs(1),
        "{:?}",
        report.summary.elapsed
    );
}

#[tokio::test]
async fn a_daily_429_is_not_retried_and_the_rest_is_not_attempted() {
    let (server, seen) = server_with(|n, seen, request| {
        if n == 0 {
            echo(seen, request)
        } else {
            json_response(
                429,
                &json!({"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c-daily","policyName":"DAILY","groupName":"g"}),
            )
        }
    });
    let client = builder(&server)
        .batch_size(10)
        .max_in_flight(1)
        .build()
        .unwrap();
    let stream = client.upsert_stream(futures::stream::iter(inputs(55).into_iter().enumerate()));
    let reports: Vec<_> = stream.collect().await;

    assert_eq!(
        seen.count.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the daily 429 was retried or sending went on"
    );
    let mut tags: Vec<usize> = reports
        .iter()
        .flat_map(|r| r.outcomes.iter().map(|o| o.tag))
        .collect();
    tags.sort_unstable();
    assert_eq!(
        tags,
        (0..55).collect::<Vec<_>>(),
        "every input gets exactly one outcome"
    );
    let outcomes: Vec<_> = reports.iter().flat_map(|r| r.outcomes.iter()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.outcome.is_success()).count(),
        10
    );
    for record in outcomes.iter().filter(|o| !o.outcome.is_success()) {
        assert!(
            matches!(&record.outcome, Outcome::NotAttempted(NotAttempted::DailyLimitReached { message }) if message.contains("daily limit")),
            "{record:?}"
        );
    }
    assert!(reports.last().unwrap().daily_limit_reached());
    let rate_limited: u32 = reports.iter().map(|r| r.rate_limited).sum();
    assert_eq!(rate_limited, 1);
}

#[tokio::test]
async fn server_errors_500_html_502_and_503_are_retried() {
    let (server, seen) = server_with(|n, seen, request| match n {
        0 => json_response(
            500,
            &json!({"status":"error","message":"internal error","correlationId":"c-500","category":"INTERNAL_ERROR"}),
        ),
        1 => raw_response(
            502,
            "text/html",
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        ),
        2 => raw_response(503, "text/plain", "Service Unavailable"),
        _ => echo(seen, request),
    });
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(3)).await;
    assert_eq!(report.summary.created, 3);
    assert_eq!(report.summary.requests, 4);
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test]
async fn an_html_502_that_persists_keeps_its_status() {
    let (server, _) =
        server_with(|_, _, _| raw_response(502, "text/html", "<html>Bad Gateway</html>"));
    let client = builder(&server)
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let error = client.upsert_batch(inputs(1)).await.unwrap_err();
    assert!(
        matches!(&error, Error::Server { status: 502, message, .. } if message.contains("Bad Gateway")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_400_is_not_retried_and_fails_its_inputs_with_hubspots_message() {
    let (server, seen) = server_with(|_, _, _| {
        json_response(
            400,
            &json!({"status":"error","message":"Unable to perform upsert by non-unique property project_code","correlationId":"c-400","category":"VALIDATION_ERROR"}),
        )
    });
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(7)).await;
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(report.summary.failed, 7);
    for record in &report.outcomes {
        let Outcome::Failed(error) = &record.outcome else {
            panic!("{record:?}")
        };
        assert_eq!(error.status, Some(400));
        assert_eq!(error.category, "VALIDATION_ERROR");
        assert!(
            error
                .message
                .contains("Unable to perform upsert by non-unique property project_code")
        );
        assert_eq!(error.correlation_id.as_deref(), Some("c-400"));
    }
    let error = client.upsert_batch(inputs(1)).await.unwrap_err();
    assert!(matches!(error, Error::Validation { status: 400, .. }));
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_401_and_a_403_are_typed_and_not_retried() {
    let (server, seen) = server_with(|n, _, _| {
        if n == 0 {
            json_response(
                401,
                &json!({"status":"error","message":"Authentication credentials not found.","correlationId":"c-401","category":"INVALID_AUTHENTICATION"}),
            )
        } else {
            json_response(
                403,
                &json!({"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c-403","category":"MISSING_SCOPES","context":{"missingScopes":["crm.objects.projects.write"]}}),
            )
        }
    });
    let client = builder(&server).build().unwrap();
    let error = client.upsert_batch(inputs(1)).await.unwrap_err();
    assert!(
        matches!(&error, Error::Unauthorized { correlation_id: Some(c), .. } if c == "c-401"),
        "{error:?}"
    );
    let error = client.upsert_batch(inputs(1)).await.unwrap_err();
    assert!(
        matches!(&error, Error::MissingScopes { scopes, .. } if scopes == &["crm.objects.projects.write"]),
        "{error:?}"
    );
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_connection_reset_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = std::thread::spawn(move || {
        // Accept and drop three connections, then stop listening.
        for _ in 0..3 {
            let (connection, _) = listener.accept().unwrap();
            drop(connection);
        }
    });
    let client = hubspot_projects::Client::builder()
        .access_token(TOKEN)
        .base_url(format!("http://{address}"))
        .retry_policy(fast_retries(3))
        .rate_budget(hubspot_projects::RateBudget::Unlimited)
        .build()
        .unwrap();
    let report = client.upsert(inputs(2)).await;
    accepted.join().unwrap();
    assert_eq!(report.summary.requests, 3);
    assert_eq!(report.summary.retries, 2);
    for record in &report.outcomes {
        assert!(
            matches!(&record.outcome, Outcome::Failed(e) if e.category == "TRANSPORT"),
            "{record:?}"
        );
    }
}

#[tokio::test]
async fn a_timeout_is_retried() {
    let server = httpmock::MockServer::start();
    let mock = server.mock(|when, then| {
        when.method("POST").path(PATH);
        then.delay(Duration::from_millis(400)).status(200);
    });
    let client = builder(&server)
        .timeout(Duration::from_millis(100))
        .retry_policy(fast_retries(3))
        .build()
        .unwrap();
    let report = client.upsert(inputs(1)).await;
    assert!(
        matches!(&report.outcomes[0].outcome, Outcome::Failed(e) if e.category == "TIMEOUT"),
        "{:?}",
        report.outcomes[0]
    );
    assert_eq!(report.summary.requests, 3);
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn invalid_inputs_fail_locally_and_are_never_sent() {
    let (server, seen) = echo_server();
    let client = builder(&server).build().unwrap();
    let list = vec![
        UpsertInput::new("project_code", "PRJ-1"),
        UpsertInput::new("project_code", ""),
        UpsertInput::new("", "PRJ-2"),
        UpsertInput::new("project_code", "PRJ-3").property("", "x"),
    ];
    let report = client.upsert(list).await;
    assert_eq!(seen.batch_sizes(), [1]);
    assert_eq!(report.summary.created, 1);
    assert_eq!(report.summary.failed, 3);
    for record in &report.outcomes[1..] {
        assert!(
            matches!(&record.outcome, Outcome::Failed(e) if e.category == "INVALID_INPUT"),
            "{record:?}"
        );
    }
    let refused = client
        .upsert_batch(vec![UpsertInput::new("c", "A"), UpsertInput::new("c", "A")])
        .await;
    assert!(matches!(refused, Err(Error::InvalidInput { index: 1, .. })));
}

#[tokio::test]
async fn an_answer_that_confirms_nothing_is_never_a_success() {
    let (server, _) = server_with(|_, _, _| json_response(200, &batch_body(vec![], vec![])));
    let client = builder(&server).build().unwrap();
    let answer = client.upsert_batch(inputs(3)).await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(!answer.is_complete());
    assert!(
        answer
            .outcomes
            .iter()
            .all(|o| matches!(&o.outcome, Outcome::Failed(e) if e.category == "UNCONFIRMED"))
    );
}
