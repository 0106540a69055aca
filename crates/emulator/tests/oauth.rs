//! OAuth as HubSpot serves it, over loopback HTTP: the token endpoint's answers, rotation,
//! revocation, expiry, and budgets per app.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hubspot_projects_emulator::{
    EmulatorConfig, EmulatorHandle, OAuthClient, RateBudget, TOKEN_PATHS, TokenGrant,
};
use serde_json::{Value, json};

fn apps() -> Vec<OAuthClient> {
    vec![
        OAuthClient::new("app-1", "secret-1", "refresh-1"),
        OAuthClient::new("app-2", "secret-2", "refresh-2"),
    ]
}

fn config() -> EmulatorConfig {
    EmulatorConfig {
        oauth_clients: apps(),
        // Static tokens are configured: issued access tokens are accepted all the same.
        tokens: vec![TokenGrant {
            token: "private-app".into(),
            scopes: None,
        }],
        ..EmulatorConfig::default()
    }
}

/// A successful refresh's access and refresh tokens.
async fn tokens(
    emulator: &EmulatorHandle,
    app: &str,
    secret: &str,
    refresh_token: &str,
) -> (String, String) {
    let answer = refresh(emulator, app, secret, refresh_token).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let body = answer.json();
    (
        body["access_token"].as_str().unwrap().to_string(),
        body["refresh_token"].as_str().unwrap().to_string(),
    )
}

fn one(code: &str) -> Value {
    batch(vec![input(code, None, json!({}))])
}

async fn admin_counters(emulator: &EmulatorHandle) -> Value {
    get(emulator, "/_emulator/oauth", None).await.json()
}

#[tokio::test]
async fn every_token_path_refreshes_and_the_access_token_writes() {
    let emulator = start(config()).await;
    for path in TOKEN_PATHS {
        let answer = post_form(
            &emulator,
            path,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "app-1"),
                ("client_secret", "secret-1"),
                ("refresh_token", "refresh-1"),
                ("redirect_uri", "https://example.invalid/callback"),
            ],
        )
        .await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        let body = answer.json();
        assert_eq!(body["token_type"], "bearer");
        assert_eq!(body["token_use"], "access_token");
        assert_eq!(body["expires_in"], 1800);
        assert_eq!(body["refresh_token"], "refresh-1", "no rotation by default");
        let access = body["access_token"].as_str().unwrap();
        assert!(!access.is_empty() && access.len() <= 300);
        let written = post(&emulator, Some(access), one(path)).await;
        assert_eq!(written.status, 200, "{}", written.body);
    }
    assert_eq!(emulator.record_count(), TOKEN_PATHS.len());
    let counters = emulator.oauth_counters();
    assert_eq!(counters.refreshes, TOKEN_PATHS.len() as u64);
    assert_eq!(counters.access_tokens_issued, TOKEN_PATHS.len() as u64);
    assert_eq!(
        admin_counters(&emulator).await["refreshes"],
        TOKEN_PATHS.len()
    );
    // A stranger's token is still refused, since static tokens are configured.
    assert_eq!(
        post(&emulator, Some("stranger"), one("X")).await.status,
        401
    );
}

#[tokio::test]
async fn refused_refreshes_answer_hubspots_400s() {
    let emulator = start(config()).await;
    let full = [
        ("grant_type", "refresh_token"),
        ("client_id", "app-1"),
        ("client_secret", "secret-1"),
        ("refresh_token", "refresh-1"),
    ];
    let with = |key: &str, value: Option<&'static str>| -> Vec<(&'static str, &'static str)> {
        full.iter()
            .filter_map(|(k, v)| {
                if *k == key {
                    value.map(|value| (*k, value))
                } else {
                    Some((*k, *v))
                }
            })
            .collect()
    };
    let cases = [
        (
            with("grant_type", Some("authorization_code")),
            "BAD_GRANT_TYPE",
            "unsupported_grant_type",
        ),
        (
            with("grant_type", None),
            "BAD_GRANT_TYPE",
            "unsupported_grant_type",
        ),
        (
            with("client_id", Some("app-9")),
            "BAD_CLIENT_ID",
            "invalid_client",
        ),
        (with("client_id", None), "BAD_CLIENT_ID", "invalid_client"),
        (
            with("client_secret", Some("guess")),
            "BAD_CLIENT_SECRET",
            "invalid_client",
        ),
        (
            with("client_secret", None),
            "BAD_CLIENT_SECRET",
            "invalid_client",
        ),
        (
            with("refresh_token", Some("made-up")),
            "BAD_REFRESH_TOKEN",
            "invalid_grant",
        ),
        (
            with("refresh_token", None),
            "BAD_REFRESH_TOKEN",
            "invalid_grant",
        ),
        (
            with("refresh_token", Some("refresh-2")),
            "BAD_REFRESH_TOKEN",
            "invalid_grant",
        ),
    ];
    for (form, status, error) in &cases {
        let answer = post_form(&emulator, TOKEN_PATHS[0], form).await;
        assert_eq!(answer.status, 400, "{form:?}");
        let body = answer.json();
        assert_eq!(body["status"], *status, "{form:?}");
        assert_eq!(body["error"], *error, "{form:?}");
        assert_eq!(body["category"], "VALIDATION_ERROR");
        assert_eq!(body["message"], body["error_description"]);
        assert_eq!(
            body["correlationId"].as_str(),
            answer.header("x-hubspot-correlation-id")
        );
        assert!(!answer.body.contains("secret-1"), "{}", answer.body);
    }
    let answer = post_form(
        &emulator,
        TOKEN_PATHS[0],
        &with("refresh_token", Some("refresh-2")),
    )
    .await;
    assert_eq!(
        answer.json()["message"],
        "refresh token was not issued to this client"
    );
    assert_eq!(
        emulator.oauth_counters().refused_refreshes,
        cases.len() as u64 + 1
    );
    assert_eq!(emulator.oauth_counters().refreshes, 0);

    // The token endpoint takes a form, as HubSpot's does.
    let response = client()
        .post(format!("{}{}", emulator.base_url(), TOKEN_PATHS[0]))
        .json(&json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    let answer = Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    };
    check_oauth_contract(&answer);
    assert_eq!(answer.status, 415);
}

#[tokio::test]
async fn rotation_hands_out_a_new_refresh_token_and_retires_the_old_one() {
    let emulator = start(EmulatorConfig {
        rotate_refresh_tokens: true,
        ..config()
    })
    .await;
    let (first_access, second_refresh) = tokens(&emulator, "app-1", "secret-1", "refresh-1").await;
    assert_ne!(second_refresh, "refresh-1");
    let old = refresh(&emulator, "app-1", "secret-1", "refresh-1").await;
    assert_eq!(old.status, 400);
    assert_eq!(old.json()["status"], "BAD_REFRESH_TOKEN");
    let (second_access, third_refresh) =
        tokens(&emulator, "app-1", "secret-1", &second_refresh).await;
    assert_ne!(third_refresh, second_refresh);
    // Both access tokens work until they expire.
    for access in [&first_access, &second_access] {
        assert_eq!(post(&emulator, Some(access), one("R")).await.status, 200);
    }
    let counters = admin_counters(&emulator).await;
    assert_eq!(counters["refreshTokensRotated"], 2);
    assert_eq!(counters["refusedRefreshes"], 1);
}

#[tokio::test]
async fn revocation_by_refresh_token_and_by_app() {
    let emulator = start(config()).await;
    let (access_1, _) = tokens(&emulator, "app-1", "secret-1", "refresh-1").await;
    let revoke = |body: Value| {
        let url = format!("{}/_emulator/oauth/revoke", emulator.base_url());
        async move {
            let response = client().post(url).json(&body).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = revoke(json!({"refreshToken": "refresh-1"})).await;
    assert_eq!((status.as_u16(), body["revoked"].clone()), (200, json!(1)));
    let refused = refresh(&emulator, "app-1", "secret-1", "refresh-1").await;
    assert_eq!(refused.json()["status"], "BAD_REFRESH_TOKEN");
    // HubSpot leaves the access tokens of a deleted refresh token alone.
    assert_eq!(post(&emulator, Some(&access_1), one("A")).await.status, 200);

    let (access_2, _) = tokens(&emulator, "app-2", "secret-2", "refresh-2").await;
    let (status, body) = revoke(json!({"clientId": "app-2"})).await;
    assert_eq!((status.as_u16(), body["revoked"].clone()), (200, json!(1)));
    let answer = post(&emulator, Some(&access_2), one("B")).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.json()["category"], "INVALID_AUTHENTICATION");
    assert_eq!(
        refresh(&emulator, "app-2", "secret-2", "refresh-2")
            .await
            .status,
        400
    );
    let (status, _) = revoke(json!({"refreshToken": "x", "clientId": "y"})).await;
    assert_eq!(status.as_u16(), 400);
    assert_eq!(emulator.oauth_counters().refresh_tokens_revoked, 2);
    assert!(!emulator.revoke_refresh_token("refresh-1"));
}

/// Waits out a token's lifetime: the expiry itself is what is tested.
async fn outlive(ttl: Duration, issued: Instant) {
    tokio::time::sleep(
        (issued + ttl + Duration::from_millis(50)).saturating_duration_since(Instant::now()),
    )
    .await;
}

#[tokio::test]
async fn an_expired_access_token_gets_hubspots_401_even_without_static_tokens() {
    let ttl = Duration::from_secs(1);
    let emulator = start(EmulatorConfig {
        oauth_clients: apps(),
        token_ttl: ttl,
        ..EmulatorConfig::default()
    })
    .await;
    let answer = refresh(&emulator, "app-1", "secret-1", "refresh-1").await;
    // The server issued the token before its answer arrived.
    let issued = Instant::now();
    assert_eq!(answer.json()["expires_in"], 1);
    let access = answer.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(post(&emulator, Some(&access), one("A")).await.status, 200);
    outlive(ttl, issued).await;
    let answer = post(&emulator, Some(&access), one("B")).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["category"], "EXPIRED_AUTHENTICATION");
    assert_eq!(body["status"], "error");
    let message = body["message"].as_str().unwrap();
    let ago = message
        .strip_prefix("The OAuth token used to make this call expired ")
        .and_then(|rest| rest.strip_suffix(" second(s) ago."))
        .unwrap_or_else(|| panic!("{message}"));
    assert!(ago.parse::<u64>().is_ok(), "{message}");
    chrono::DateTime::parse_from_rfc3339(body["context"]["expire time"][0].as_str().unwrap())
        .unwrap();
    // Any other bearer is still accepted: no static token is configured.
    assert_eq!(
        post(&emulator, Some("anything"), one("C")).await.status,
        200
    );
    // A fresh token works again.
    let (fresh, _) = tokens(&emulator, "app-1", "secret-1", "refresh-1").await;
    assert_eq!(post(&emulator, Some(&fresh), one("D")).await.status, 200);
    assert_eq!(admin_counters(&emulator).await["expiredTokenRejections"], 1);
    assert_eq!(emulator.record_count(), 3);
}

#[tokio::test]
async fn an_apps_budget_is_shared_by_its_access_tokens() {
    let emulator = start(EmulatorConfig {
        rate_limit: RateBudget::limited(3, Duration::from_secs(60)).unwrap(),
        ..config()
    })
    .await;
    let (first, _) = tokens(&emulator, "app-1", "secret-1", "refresh-1").await;
    let (second, _) = tokens(&emulator, "app-1", "secret-1", "refresh-1").await;
    assert_ne!(first, second);
    for (token, remaining) in [(&first, 2), (&second, 1), (&first, 0)] {
        let answer = post(&emulator, Some(token), one("A")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header_u64("x-hubspot-ratelimit-remaining"),
            remaining
        );
    }
    // A refresh does not give the app a fresh budget.
    let (third, _) = tokens(&emulator, "app-1", "secret-1", "refresh-1").await;
    assert_eq!(post(&emulator, Some(&third), one("A")).await.status, 429);
    // Another app, and a private app's static token, have budgets of their own.
    let (other, _) = tokens(&emulator, "app-2", "secret-2", "refresh-2").await;
    let answer = post(&emulator, Some(&other), one("B")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header_u64("x-hubspot-ratelimit-remaining"), 2);
    let answer = post(&emulator, Some("private-app"), one("C")).await;
    assert_eq!(answer.header_u64("x-hubspot-ratelimit-remaining"), 2);
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output() {
    let config = config();
    let emulator = start(config.clone()).await;
    let (access, _) = tokens(&emulator, "app-1", "secret-1", "refresh-1").await;
    post(&emulator, Some(&access), one("A")).await;
    for shown in [format!("{config:?}"), format!("{emulator:?}")] {
        for secret in ["secret-1", "refresh-1", "private-app", access.as_str()] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
