//! The generated OAuth client against a real HTTP server on loopback (httpmock): a form-encoded
//! refresh request, HubSpot's answer decoded, errors kept raw. Paths come from the contract.

mod common;

use httpmock::prelude::*;
use hubspot_projects_api::oauth::{self, types};
use hubspot_projects_api::operations;
use serde_json::json;

fn refresh_request() -> types::TokenRequest {
    types::TokenRequest {
        grant_type: Some(types::TokenRequestGrantType::RefreshToken),
        client_id: Some("client-1".into()),
        client_secret: Some("secret-s3cr3t".into()),
        refresh_token: Some("refresh-r3fr3sh".into()),
        ..Default::default()
    }
}

/// HubSpot's documented answer to a refresh: no `token_use`, no `hub_id`.
fn refreshed() -> serde_json::Value {
    json!({
        "token_type": "bearer", "refresh_token": "refresh-next", "access_token": "access-new",
        "expires_in": 1800
    })
}

#[tokio::test]
async fn every_descriptor_is_what_its_method_sends_form_encoded() {
    common::descriptors_match_contract(operations::OAUTH_TOKEN, "oauth", "/token");
    for operation in operations::OAUTH_TOKEN {
        assert_eq!(operation.content_type, "application/x-www-form-urlencoded");
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(operation.method)
                    .path(operation.path)
                    .header("content-type", operation.content_type)
                    .header("accept", operation.accept)
                    .header_missing("api-version")
                    .query_param_missing("client_secret")
                    .query_param_missing("refresh_token")
                    .form_urlencoded_tuple("grant_type", "refresh_token")
                    .form_urlencoded_tuple("client_id", "client-1")
                    .form_urlencoded_tuple("client_secret", "secret-s3cr3t")
                    .form_urlencoded_tuple("refresh_token", "refresh-r3fr3sh")
                    .form_urlencoded_tuple_missing("code");
                then.status(200).json_body(refreshed());
            })
            .await;
        let client = oauth::Client::new(&server.base_url());
        let answer = common::token(&client, operation, &refresh_request())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", operation.method_name));
        mock.assert_calls_async(1).await;
        let types::TokenResponseIf::AccessTokenResponse(tokens) = answer.into_inner() else {
            panic!(
                "{}: a refresh answer is an access token answer",
                operation.method_name
            );
        };
        assert_eq!(tokens.access_token, "access-new");
        assert_eq!(tokens.refresh_token, "refresh-next");
        assert_eq!(tokens.expires_in, 1800);
        assert_eq!(tokens.token_use, "access_token", "implied when absent");
    }
}

#[test]
fn the_default_token_version_is_the_newest_generally_available_one() {
    let contract = common::contract_versions("oauth", "/token");
    let default = operations::default_oauth_token();
    assert_eq!(
        default.version,
        common::newest_generally_available(&contract).version
    );
    assert!(!default.beta);
    for version in &contract {
        assert_eq!(
            operations::oauth_token(&version.version).map(|o| o.method_name),
            Some(format!("token_{}", version.version.replace('-', "_")).as_str())
        );
    }
    assert_eq!(
        operations::oauth_token(common::a_version_not_in(&contract)),
        None
    );
}

#[tokio::test]
async fn a_client_credentials_answer_and_unknown_values_decode() {
    let operation = operations::default_oauth_token();
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path(operation.path);
        then.status(200).json_body(json!({
            "token_type": "bearer", "access_token": "a", "expires_in": 1800,
            "token_use": "a_kind_added_later", "hub_id": 42, "scopes": ["oauth"]
        }));
    });
    let client = oauth::Client::new(&server.base_url());
    let request = types::TokenRequest {
        grant_type: Some(types::TokenRequestGrantType::ClientCredentials),
        ..refresh_request()
    };
    let answer = common::token(&client, operation, &request).await.unwrap();
    let types::TokenResponseIf::ClientCredentialsTokenResponse(tokens) = answer.into_inner() else {
        panic!("an answer without a refresh token is a client credentials answer");
    };
    assert_eq!(tokens.token_use, "a_kind_added_later");
    assert_eq!(tokens.hub_id, Some(42));
}

#[tokio::test]
async fn a_rejected_refresh_keeps_its_status_and_raw_body() {
    let operation = operations::default_oauth_token();
    let server = MockServer::start_async().await;
    let body = json!({
        "status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token",
        "correlationId": "c0ffee00-0000-4000-8000-000000000002"
    });
    server.mock(|when, then| {
        when.method(POST).path(operation.path);
        then.status(400).json_body(body.clone());
    });
    let client = oauth::Client::new(&server.base_url());
    let error = common::token(&client, operation, &refresh_request())
        .await
        .unwrap_err();
    let oauth::Error::ErrorResponse(response) = error else {
        panic!("expected an error answer, got {error:?}");
    };
    assert_eq!(response.status(), 400);
    let mut stream = response.into_inner().into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
        body
    );
}
