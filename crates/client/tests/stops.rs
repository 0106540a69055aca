//! Runs that must stop instead of stalling or failing every batch the same way: a dead
//! endpoint, a huge `Retry-After`, a refused token; and answers whose failure keeps what the
//! caller needs (status, correlation id, the transport error's source).

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use hubspot_projects::{Error, NotAttempted, Outcome, RetryPolicy, UpsertInput};
use hubspot_projects_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

/// A bound on a whole run: a test that would stall fails instead of hanging the suite.
const BOUND: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_huge_retry_after_is_capped() {
    let logs = Captured::default();
    let _guard = logs.install();
    let (server, seen) = server_with(|n, seen, request| {
        if n == 0 {
            let mut response = json_response(
                429,
                &json!({"status":"error","message":"You have reached your secondly limit.","correlationId":"c","category":"RATE_LIMITS"}),
            );
            response
                .headers
                .get_or_insert_with(Vec::new)
                .push(("retry-after".into(), "86400".into()));
            response
        } else {
            echo(seen, request)
        }
    });
    let client = builder(&server)
        .retry_policy(fast_retries(3).with_max_retry_after(Duration::from_millis(200)))
        .build()
        .unwrap();
    let report = tokio::time::timeout(BOUND, client.upsert(inputs(3)))
        .await
        .expect("a Retry-After of a day must not park the run");
    assert_eq!(report.summary.created, 3);
    assert_eq!(report.summary.rate_limited, 1);
    assert!(report.summary.elapsed >= Duration::from_millis(200));
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 2);
    let log = logs.text();
    assert!(
        log.contains("WARN")
            && log.contains("longer than the retry policy's cap")
            && log.contains("asked_s=86400"),
        "the capped wait must be said: {log}"
    );
}

#[tokio::test]
async fn a_refused_token_stops_the_run_after_the_first_answer() {
    let (server, seen) = server_with(|_, _, _| {
        json_response(
            401,
            &json!({"status":"error","message":"The access token provided is invalid.","correlationId":"c-401","category":"INVALID_AUTHENTICATION"}),
        )
    });
    let client = builder(&server).max_in_flight(1).build().unwrap();
    let report = client.upsert(inputs(1_000)).await;
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(report.summary.requests, 1);
    assert_eq!(report.summary.total(), 1_000);
    let failed: Vec<_> = report
        .outcomes
        .iter()
        .filter(|o| matches!(&o.outcome, Outcome::Failed(e) if e.category == "INVALID_AUTHENTICATION" && e.status == Some(401)))
        .collect();
    assert_eq!(
        failed.len(),
        100,
        "the one batch sent fails with HubSpot's reason"
    );
    let stopped = report
        .outcomes
        .iter()
        .filter(|o| {
            matches!(&o.outcome, Outcome::NotAttempted(NotAttempted::Unauthorized { message }) if message.contains("invalid"))
        })
        .count();
    assert_eq!(stopped, 900);
    assert!(matches!(
        report.summary.stopped,
        Some(NotAttempted::Unauthorized { .. })
    ));
}

#[tokio::test]
async fn missing_scopes_stop_the_run_too() {
    let (server, seen) = server_with(|_, _, _| {
        json_response(
            403,
            &json!({"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"c-403","category":"MISSING_SCOPES","context":{"missingScopes":["crm.objects.projects.write"]}}),
        )
    });
    let client = builder(&server).max_in_flight(2).build().unwrap();
    let report = client.upsert(inputs(1_000)).await;
    let sent = seen.count.load(std::sync::atomic::Ordering::SeqCst);
    assert!((1..=2).contains(&sent), "{sent} requests");
    assert_eq!(report.summary.failed, 100 * sent as u64);
    assert_eq!(report.summary.not_attempted, 1_000 - 100 * sent as u64);
    assert!(
        matches!(&report.summary.stopped, Some(NotAttempted::Forbidden { message }) if message.contains("crm.objects.projects.write"))
    );
}

#[tokio::test]
async fn a_dead_endpoint_stops_the_run_within_a_bounded_time() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = hubspot_projects::Client::builder()
        .access_token(TOKEN)
        .base_url(emulator.base_url())
        .rate_budget("40/1s".parse().unwrap())
        .max_in_flight(2)
        .retry_policy(
            RetryPolicy::default()
                .with_base_delay(Duration::from_millis(50))
                .with_max_delay(Duration::from_millis(400)),
        )
        .unreachable_after(Duration::from_secs(2))
        .build()
        .unwrap();
    let inputs = futures::stream::iter(inputs(50_000).into_iter().enumerate());
    let mut reports = std::pin::pin!(client.upsert_stream(inputs));
    let mut summary = hubspot_projects::Summary::default();
    let mut emulator = Some(emulator);
    let run = async {
        while let Some(report) = reports.next().await {
            summary.add(&report);
            // The server dies after a few batches were written.
            if summary.created >= 500
                && let Some(emulator) = emulator.take()
            {
                emulator.shutdown().await;
            }
        }
    };
    tokio::time::timeout(BOUND, run)
        .await
        .expect("a dead endpoint must not stall the run");
    assert_eq!(summary.total(), 50_000, "every input has an outcome");
    assert!(summary.created >= 500);
    assert!(
        matches!(&summary.stopped, Some(NotAttempted::EndpointUnreachable { after, .. }) if *after >= Duration::from_secs(2)),
        "{:?}",
        summary.stopped
    );
    assert!(summary.not_attempted > 40_000, "{summary:?}");
    // Only what was in flight when the server died was retried: not every batch.
    assert!(summary.requests < 100, "{summary:?}");
}

#[tokio::test]
async fn a_transport_error_keeps_its_source() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = hubspot_projects::Client::builder()
        .access_token(TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.upsert_batch(inputs(1)).await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    let source = std::error::Error::source(&error).expect("the HTTP stack's error");
    let reqwest = source
        .downcast_ref::<std::sync::Arc<reqwest::Error>>()
        .expect("reqwest's error, shared");
    assert!(reqwest.is_connect(), "{reqwest:?}");
}

#[tokio::test]
async fn an_undecodable_2xx_keeps_its_status_and_correlation_id() {
    let (server, _) = server_with(|_, _, _| {
        let mut response = raw_response(200, "application/json", "{\"results\": oops");
        response
            .headers
            .get_or_insert_with(Vec::new)
            .push(("x-hubspot-correlation-id".into(), "corr-200".into()));
        response
    });
    let client = builder(&server).build().unwrap();
    let report = client.upsert(inputs(2)).await;
    for record in &report.outcomes {
        assert!(
            matches!(&record.outcome, Outcome::Failed(e) if e.category == "UNDECODABLE_RESPONSE" && e.status == Some(200) && e.correlation_id.as_deref() == Some("corr-200")),
            "{record:?}"
        );
    }
    let error = client.upsert_batch(inputs(1)).await.unwrap_err();
    assert_eq!(error.status(), Some(200));
    assert_eq!(error.correlation_id(), Some("corr-200"));
}

#[tokio::test]
async fn hs_object_id_as_id_property_is_refused_locally() {
    let (server, seen) = echo_server();
    let client = builder(&server).build().unwrap();
    let mut list = inputs(3);
    list.push(UpsertInput::new("hs_object_id", "101"));
    let report = client.upsert(list).await;
    assert_eq!(report.summary.created, 3);
    assert!(
        matches!(&report.outcomes[3].outcome, Outcome::Failed(e) if e.category == "INVALID_INPUT" && e.message.contains("leave idProperty out"))
    );
    assert_eq!(seen.count.load(std::sync::atomic::Ordering::SeqCst), 1);
    let refused = client
        .upsert_batch(vec![UpsertInput::new("hs_object_id", "101")])
        .await;
    assert!(matches!(refused, Err(Error::InvalidInput { index: 0, .. })));
}

/// A token source of the caller's own that panics on its third call.
struct PanickingSource(std::sync::atomic::AtomicUsize);

impl hubspot_projects::TokenSource for PanickingSource {
    fn token(&self) -> hubspot_projects::TokenFuture<'_> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            assert!(n != 2, "the caller's token source failed");
            Ok(hubspot_projects::AccessToken::new(TOKEN))
        })
    }

    fn refresh<'a>(
        &'a self,
        _expired: &'a hubspot_projects::AccessToken,
    ) -> hubspot_projects::TokenFuture<'a> {
        self.token()
    }
}

#[tokio::test]
async fn a_batch_whose_task_panics_still_reports_every_input() {
    let (server, _) = echo_server();
    let client = hubspot_projects::Client::builder()
        .token_source(std::sync::Arc::new(PanickingSource(Default::default())))
        .base_url(server.base_url())
        .rate_budget(hubspot_projects::RateBudget::Unlimited)
        .fixed_in_flight(1)
        .build()
        .unwrap();
    let report = client.upsert(inputs(500)).await;
    assert_eq!(report.outcomes.len(), 500, "every input has an outcome");
    assert_eq!(report.summary.total(), 500);
    // The third batch's task panicked: its 100 inputs are reported, not lost.
    let internal = report
        .outcomes
        .iter()
        .filter(|o| matches!(&o.outcome, Outcome::Failed(e) if e.category == "INTERNAL"))
        .count();
    assert_eq!(internal, 100);
    assert_eq!(report.summary.created, 400);
}
