//! The access token reaches the server and nothing else: no Debug output, error or log line.

mod common;

use common::*;
use hubspot_projects::Client;
use serde_json::json;

#[tokio::test]
async fn the_token_appears_in_no_debug_output_error_or_log_line() {
    let logs = Captured::default();
    let _guard = logs.install();

    let (server, _) = server_with(|n, _, request| match n {
        // The token travels where it belongs: anything else fails the test below.
        _ if request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            != Some(&format!("Bearer {TOKEN}")) =>
        {
            raw_response(400, "text/plain", "no bearer token")
        }
        0 => raw_response(503, "text/plain", "busy"),
        _ => json_response(
            401,
            &json!({"status":"error","message":"The OAuth token used to make this call expired","correlationId":"c-401","category":"EXPIRED_AUTHENTICATION"}),
        ),
    });
    let builder = builder(&server);
    let client = builder.clone().build().unwrap();
    let mut texts = vec![
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{:#?}", client.clone()),
    ];

    let error = client.upsert_batch(inputs(2)).await.unwrap_err();
    texts.push(error.to_string());
    texts.push(format!("{error:?}"));
    let report = client.upsert(inputs(2)).await;
    texts.push(format!("{report:?}"));
    for record in &report.outcomes {
        if let hubspot_projects::Outcome::Failed(e) = &record.outcome {
            texts.push(e.to_string());
        }
    }
    // A transport failure, and a configuration error about a malformed token.
    let unreachable = Client::builder()
        .access_token(TOKEN)
        .base_url("http://127.0.0.1:9")
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    texts.push(
        unreachable
            .upsert_batch(inputs(1))
            .await
            .unwrap_err()
            .to_string(),
    );
    let bad = Client::builder().access_token(format!("{TOKEN}\n")).build();
    texts.push(format!("{bad:?}"));
    texts.push(logs.text());

    assert!(matches!(
        error,
        hubspot_projects::Error::Unauthorized { .. }
    ));

    let log = texts.last().unwrap();
    assert!(
        log.contains("retrying"),
        "the logs were not captured: {log}"
    );
    for text in &texts {
        assert!(!text.contains("SECRET"), "the token leaked: {text}");
    }
}
