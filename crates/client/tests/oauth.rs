//! OAuth apps against the emulator's token endpoint: tokens that expire mid-job are refreshed,
//! once for everyone; a revoked refresh token stops the run; no secret is ever shown.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hubspot_projects::{
    Client, ExposeSecret, NotAttempted, OAuthCredentials, Outcome, RateBudget, UpsertInput,
};
use hubspot_projects_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Latency, OAuthClient};

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
    let log = texts.last().unwrap();
    assert!(!log.is_empty());
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
