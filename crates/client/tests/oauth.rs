//! OAuth apps against the emulator's token endpoint: tokens that expire mid-job are refreshed,
//! once for everyone; a revoked refresh token stops the run; no secret is ever shown. And,
//! against a loopback stand-in: a caller's own token source, a token endpoint that fails for a
//! while, and one that stops answering.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::{Mock, MockServer};
use hubspot_projects::{
    AccessToken, Client, ExposeSecret, NotAttempted, OAuthCredentials, Outcome, RateBudget,
    RetryPolicy, TokenFuture, TokenSource, UpsertInput,
};
use hubspot_projects_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Latency, OAuthClient};
use serde_json::json;

const CLIENT_ID: &str = "app-7";
const SECRET: &str = "client-secret-7f3a";
const REFRESH: &str = "refresh-token-9c1e";
const SPARE_REFRESH: &str = "refresh-token-spare-42aa";

async fn hubspot(ttl: Duration, rotate: bool) -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        oauth_clients: vec![
            OAuthClient::new(CLIENT_ID, SECRET, REFRESH),
            OAuthClient::new(CLIENT_ID, SECRET, SPARE_REFRESH),
        ],
        token_ttl: ttl,
        rotate_refresh_tokens: rotate,
        latency: Latency::fixed(Duration::from_millis(20)),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// Credentials whose rotated refresh tokens are collected in `rotated`.
fn heard_credentials(rotated: &Arc<Mutex<Vec<String>>>) -> OAuthCredentials {
    let heard = rotated.clone();
    OAuthCredentials::new(CLIENT_ID, SECRET, REFRESH).on_refresh_token(move |token| {
        heard
            .lock()
            .unwrap()
            .push(token.expose_secret().to_string())
    })
}

fn inputs(n: usize) -> Vec<UpsertInput> {
    (0..n)
        .map(|i| UpsertInput::new("project_code", format!("OA-{i:06}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_that_expire_mid_job_are_refreshed_and_every_record_is_written() {
    let emulator = hubspot(Duration::from_secs(2), true).await;
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let credentials = heard_credentials(&rotated);
    let client = Client::builder()
        .oauth(credentials)
        .base_url(emulator.base_url())
        .rate_budget("40/1s".parse().unwrap())
        .build()
        .unwrap();
    // About 7 seconds of requests: several lifetimes of a 2 s token.
    let report = client.upsert(inputs(28_000)).await;
    assert_eq!(report.summary.created, 28_000, "{:?}", report.summary);
    let counters = emulator.oauth_counters();
    assert!(
        client.token_refreshes() >= 3,
        "{}",
        client.token_refreshes()
    );
    assert_eq!(client.token_refreshes(), counters.refreshes);
    // Each rotated refresh token reached the caller, in order.
    assert_eq!(
        rotated.lock().unwrap().len() as u64,
        counters.refresh_tokens_rotated
    );
    // Refreshed ahead of expiry: at most one resend per expiry, no request lost otherwise.
    assert_eq!(
        report.summary.requests,
        280 + counters.expired_token_rejections,
        "{:?} {counters:?}",
        report.summary
    );
    assert!(counters.expired_token_rejections <= counters.refreshes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_batches_meeting_an_expired_token_cause_one_refresh() {
    let emulator = hubspot(Duration::from_secs(1), false).await;
    // A token the emulator issued, which expires in a second, while the client believes it
    // lives for an hour: every batch in flight meets HubSpot's expired-token 401 at once.
    let http = hubspot_projects::api::http::client_builder(&[])
        .unwrap()
        .build()
        .unwrap();
    let issued: serde_json::Value = http
        .post(format!(
            "{}{}",
            emulator.base_url(),
            hubspot_projects::api::operations::default_oauth_token().path
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=refresh_token&client_id={CLIENT_ID}&client_secret={SECRET}&refresh_token={REFRESH}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = issued["access_token"].as_str().unwrap().to_string();
    let before = emulator.oauth_counters().refreshes;
    // Let the token expire (the emulator's lifetime is a second).
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let credentials = OAuthCredentials::new(CLIENT_ID, SECRET, REFRESH).with_access_token(
        access,
        std::time::SystemTime::now() + Duration::from_secs(3600),
    );
    let client = Client::builder()
        .oauth(credentials)
        .base_url(emulator.base_url())
        .rate_budget(RateBudget::Unlimited)
        .fixed_in_flight(20)
        .build()
        .unwrap();
    let report = client.upsert(inputs(2_000)).await;
    assert_eq!(report.summary.created, 2_000, "{:?}", report.summary);
    let counters = emulator.oauth_counters();
    assert!(counters.expired_token_rejections >= 2, "{counters:?}");
    assert_eq!(
        counters.refreshes - before,
        1,
        "one refresh for everyone: {counters:?}"
    );
    assert_eq!(client.token_refreshes(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_stops_sending_and_a_fixed_one_finishes() {
    let emulator = hubspot(Duration::from_secs(1), false).await;
    let client = Client::builder()
        .oauth(OAuthCredentials::new(CLIENT_ID, SECRET, REFRESH))
        .base_url(emulator.base_url())
        .rate_budget("40/1s".parse().unwrap())
        .build()
        .unwrap();
    let all = inputs(20_000);
    let run = client.upsert(all.clone());
    let revoke = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while emulator.record_count() < 2_000 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(emulator.revoke_refresh_token(REFRESH));
    };
    let (report, ()) = tokio::join!(run, revoke);
    let summary = &report.summary;
    assert_eq!(summary.total(), 20_000);
    assert!(
        matches!(&summary.stopped, Some(NotAttempted::AuthenticationFailed { message }) if message.contains("BAD_REFRESH_TOKEN")),
        "{summary:?}"
    );
    assert!(
        summary.not_attempted > 0 && summary.failed == 0,
        "{summary:?}"
    );
    // The rest, with a refresh token that works: nothing left behind.
    let rest: Vec<UpsertInput> = report
        .outcomes
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::NotAttempted(_)))
        .map(|o| all[o.tag].clone())
        .collect();
    let fixed = Client::builder()
        .oauth(OAuthCredentials::new(CLIENT_ID, SECRET, SPARE_REFRESH))
        .base_url(emulator.base_url())
        .rate_budget("40/1s".parse().unwrap())
        .build()
        .unwrap();
    let resumed = fixed.upsert(rest).await;
    assert_eq!(resumed.summary.not_attempted, 0);
    assert_eq!(emulator.record_count(), 20_000);
}

#[tokio::test]
async fn no_secret_appears_in_logs_debug_output_or_errors() {
    let logs = common::Captured::default();
    let _guard = logs.install();

    let emulator = hubspot(Duration::from_secs(1), true).await;
    let rotated = Arc::new(Mutex::new(Vec::new()));
    let credentials = heard_credentials(&rotated);
    let builder = Client::builder()
        .oauth(credentials.clone())
        .base_url(emulator.base_url())
        .rate_budget("20/1s".parse().unwrap());
    let client = builder.clone().build().unwrap();
    let report = client.upsert(inputs(3_000)).await;
    assert_eq!(report.summary.created, 3_000);
    // And a refusal, whose message must not quote the secret either.
    let refused = Client::builder()
        .oauth(OAuthCredentials::new(
            CLIENT_ID,
            "wrong-secret-0000",
            REFRESH,
        ))
        .base_url(emulator.base_url())
        .build()
        .unwrap()
        .upsert(inputs(1))
        .await;
    assert!(matches!(
        refused.summary.stopped,
        Some(NotAttempted::AuthenticationFailed { .. })
    ));

    let mut texts = vec![
        format!("{credentials:?}"),
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{report:?}"),
        format!("{refused:?}"),
        logs.text(),
    ];
    texts.extend(refused.outcomes.iter().map(|o| format!("{:?}", o.outcome)));
    // The log was captured, at TRACE, from both runs: the checks below read it.
    let log = logs.text();
    assert!(log.contains("TRACE"), "{log}");
    assert!(log.contains("HubSpot rotated the refresh token"), "{log}");
    assert!(log.contains("sending stops"), "{log}");
    let mut secrets = vec![
        SECRET.to_string(),
        REFRESH.to_string(),
        "wrong-secret-0000".into(),
    ];
    secrets.extend(rotated.lock().unwrap().iter().cloned());
    assert!(secrets.len() > 3, "the run rotated refresh tokens");
    for text in &texts {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "a secret leaked: {text}");
        }
        // The emulator's access tokens: `emu-` and 64 hex digits.
        assert!(
            !text.match_indices("emu-").any(|(at, _)| text[at + 4..]
                .chars()
                .take(64)
                .filter(char::is_ascii_hexdigit)
                .count()
                == 64),
            "an access token leaked: {text}"
        );
    }
}

/// A caller's own token source: it hands out its current token, and on `refresh` switches to
/// the next one, noting which token HubSpot said expired.
struct CallersSource {
    current: Mutex<String>,
    tokens_asked: AtomicUsize,
    expired_heard: Mutex<Vec<String>>,
}

impl TokenSource for CallersSource {
    fn token(&self) -> TokenFuture<'_> {
        self.tokens_asked.fetch_add(1, Ordering::SeqCst);
        let token = self.current.lock().unwrap().clone();
        Box::pin(async move { Ok(AccessToken::new(token)) })
    }

    fn refresh<'a>(&'a self, expired: &'a AccessToken) -> TokenFuture<'a> {
        self.expired_heard
            .lock()
            .unwrap()
            .push(expired.expose().to_string());
        let fresh = "callers-token-2".to_string();
        *self.current.lock().unwrap() = fresh.clone();
        Box::pin(async move { Ok(AccessToken::new(fresh)) })
    }
}

/// HubSpot's 401 for an expired token.
fn expired_token_answer() -> httpmock::HttpMockResponse {
    common::json_response(
        401,
        &json!({"status":"error","message":"The OAuth token used to make this call expired 2 second(s) ago.","correlationId":"c-exp","category":"EXPIRED_AUTHENTICATION"}),
    )
}

/// The batch upsert on `server`, for requests bearing `token` only: each is written to `seen`
/// and answered 200.
fn api_for_token<'a>(server: &'a MockServer, token: &str, seen: &Arc<common::Seen>) -> Mock<'a> {
    let seen = seen.clone();
    server.mock(|when, then| {
        when.method("POST")
            .path(common::PATH)
            .header("authorization", format!("Bearer {token}"));
        then.respond_with(move |request| {
            seen.count.fetch_add(1, Ordering::SeqCst);
            common::echo(&seen, request)
        });
    })
}

#[tokio::test]
async fn a_callers_token_source_gives_the_bearer_and_refreshes_after_an_expired_token_401() {
    let server = MockServer::start();
    // The first token is expired at HubSpot: every request bearing it meets the 401.
    let expired = server.mock(|when, then| {
        when.method("POST")
            .path(common::PATH)
            .header("authorization", "Bearer callers-token-1");
        then.respond_with(|_| expired_token_answer());
    });
    let seen = Arc::new(common::Seen::default());
    let fresh = api_for_token(&server, "callers-token-2", &seen);
    let source = Arc::new(CallersSource {
        current: Mutex::new("callers-token-1".into()),
        tokens_asked: AtomicUsize::new(0),
        expired_heard: Mutex::new(Vec::new()),
    });
    let client = Client::builder()
        .token_source(source.clone())
        .base_url(server.base_url())
        .rate_budget(RateBudget::Unlimited)
        .retry_policy(common::fast_retries(3))
        .fixed_in_flight(1)
        .build()
        .unwrap();
    let report = client.upsert(common::inputs(250)).await;
    assert_eq!(report.summary.created, 250, "{:?}", report.summary);
    // The first batch went with the caller's token, met the 401, and was sent again, once,
    // with the token `refresh` gave; the other two went with the new token at once.
    assert_eq!(expired.calls(), 1);
    assert_eq!(fresh.calls(), 3);
    assert_eq!(report.summary.requests, 4, "{:?}", report.summary);
    assert_eq!(
        *source.expired_heard.lock().unwrap(),
        ["callers-token-1"],
        "refresh heard which token expired"
    );
    // `token` was asked before every request, the resend included.
    assert_eq!(source.tokens_asked.load(Ordering::SeqCst), 4);
    // What the new token carried is what was written.
    assert_eq!(seen.records.lock().unwrap().len(), 250);
}

/// The token endpoint's path, from the OAuth contract.
const TOKEN_PATH: &str = hubspot_projects::api::operations::default_oauth_token().path;

/// The token endpoint's answer granting `access` for `expires_in` seconds.
fn granted(access: &str, expires_in: u64) -> serde_json::Value {
    json!({
        "token_type": "bearer",
        "access_token": access,
        "refresh_token": REFRESH,
        "expires_in": expires_in,
    })
}

/// An OAuth client of `server`, with quick retries.
fn oauth_client(server: &MockServer) -> hubspot_projects::ClientBuilder {
    Client::builder()
        .oauth(OAuthCredentials::new(CLIENT_ID, SECRET, REFRESH))
        .base_url(server.base_url())
        .rate_budget(RateBudget::Unlimited)
        .retry_policy(common::fast_retries(5))
        .max_in_flight(4)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_answering_503_twice_is_retried_and_every_record_is_created() {
    let server = MockServer::start();
    let failing = server.mock(|when, then| {
        when.method("POST").path(TOKEN_PATH);
        then.status(503)
            .header("content-type", "application/json")
            .body(r#"{"status":"error","message":"Service Unavailable"}"#)
            .up_to_n_times(2);
    });
    let token = server.mock(|when, then| {
        when.method("POST")
            .path(TOKEN_PATH)
            .body_includes("grant_type=refresh_token");
        then.status(200)
            .header("content-type", "application/json")
            .body(granted("access-after-503s", 1800).to_string());
    });
    let seen = Arc::new(common::Seen::default());
    let api = api_for_token(&server, "access-after-503s", &seen);
    let client = oauth_client(&server).build().unwrap();
    let report = client.upsert(common::inputs(1_000)).await;
    assert_eq!(report.summary.created, 1_000, "{:?}", report.summary);
    assert_eq!(report.summary.failed, 0);
    assert_eq!(failing.calls(), 2, "both 503s were met");
    assert_eq!(token.calls(), 1, "one token, then, for every batch");
    assert_eq!(client.token_refreshes(), 1);
    assert_eq!(api.calls(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_hangs_past_the_timeout_once_is_retried_and_every_record_is_created()
{
    let server = MockServer::start();
    let timeout = Duration::from_millis(500);
    // The first token request gets no answer within the client's timeout.
    let hanging = server.mock(|when, then| {
        when.method("POST").path(TOKEN_PATH);
        then.status(200)
            .header("content-type", "application/json")
            .body(granted("never-delivered", 1800).to_string())
            .delay(Duration::from_secs(20))
            .up_to_n_times(1);
    });
    let token = server.mock(|when, then| {
        when.method("POST").path(TOKEN_PATH);
        then.status(200)
            .header("content-type", "application/json")
            .body(granted("access-after-a-hang", 1800).to_string());
    });
    let seen = Arc::new(common::Seen::default());
    let api = api_for_token(&server, "access-after-a-hang", &seen);
    let client = oauth_client(&server).timeout(timeout).build().unwrap();
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(BOUND, client.upsert(common::inputs(1_000)))
        .await
        .expect("a token endpoint that hangs once must not stall the run");
    assert_eq!(report.summary.created, 1_000, "{:?}", report.summary);
    assert_eq!(report.summary.failed, 0);
    assert_eq!(hanging.calls(), 1);
    assert_eq!(token.calls(), 1);
    assert_eq!(api.calls(), 10);
    // The hang was waited out to the timeout, not longer.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout && elapsed < Duration::from_secs(15),
        "{elapsed:?}"
    );
}

/// A bound on a whole run: a test that would stall fails instead of hanging the suite.
const BOUND: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_stops_answering_stops_the_run_within_a_bounded_time() {
    let server = MockServer::start();
    // One token, for two seconds; after it, the token endpoint never answers in time.
    let token = server.mock(|when, then| {
        when.method("POST").path(TOKEN_PATH);
        then.status(200)
            .header("content-type", "application/json")
            .body(granted("the-only-access", 2).to_string())
            .up_to_n_times(1);
    });
    let hanging = server.mock(|when, then| {
        when.method("POST").path(TOKEN_PATH);
        then.status(503).delay(Duration::from_secs(30));
    });
    let seen = Arc::new(common::Seen::default());
    let api = api_for_token(&server, "the-only-access", &seen);
    let unreachable_after = Duration::from_secs(2);
    let client = Client::builder()
        .oauth(OAuthCredentials::new(CLIENT_ID, SECRET, REFRESH))
        .base_url(server.base_url())
        .rate_budget("20/1s".parse().unwrap())
        .timeout(Duration::from_millis(300))
        // Retries enough to outlast the silence: the stop, not the retry policy, ends it.
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(50)
                .with_base_delay(Duration::from_millis(50))
                .with_max_delay(Duration::from_millis(400)),
        )
        .unreachable_after(unreachable_after)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let report = tokio::time::timeout(BOUND, client.upsert(inputs(50_000)))
        .await
        .expect("a token endpoint that never answers must not stall the run");
    let elapsed = started.elapsed();
    let summary = &report.summary;
    assert_eq!(summary.total(), 50_000, "every input has an outcome");
    assert!(summary.created >= 100, "{summary:?}");
    assert_eq!(summary.created as usize, seen.records.lock().unwrap().len());
    assert_eq!(summary.failed, 0, "{summary:?}");
    let reason = match &summary.stopped {
        Some(reason @ NotAttempted::EndpointUnreachable { message, after, .. })
            if message.contains("token endpoint") && *after >= unreachable_after =>
        {
            reason.clone()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(summary.not_attempted, 50_000 - summary.created);
    assert!(summary.not_attempted > 40_000, "{summary:?}");
    assert!(
        report
            .outcomes
            .iter()
            .filter(|o| !matches!(o.outcome, Outcome::Created { .. }))
            .all(|o| o.outcome == Outcome::NotAttempted(reason.clone())),
        "the rest is not attempted, with the reason"
    );
    // The token expired 1.8 s in (refreshed a tenth of its lifetime ahead); two seconds of
    // silence later the run stops: well within the bound.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    assert_eq!(token.calls(), 1);
    assert!(hanging.calls() >= 1);
    assert_eq!(api.calls() as u64, summary.requests);
}
