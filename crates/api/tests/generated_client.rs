//! The generated projects client against a real HTTP server on loopback (httpmock). Paths come
//! from the contract's descriptors, never from the test.

mod common;

use httpmock::prelude::*;
use hubspot_projects_api::{BatchStatus, ByteStream, Client, Error, Operation, operations, types};
use serde_json::json;

/// The version these tests call, unless they call every one.
fn default() -> &'static Operation {
    operations::default_batch_upsert()
}

/// Sends `body()` with the default version's method.
async fn send(server: &MockServer) -> common::BatchAnswer {
    common::batch_upsert(&client(server), default(), &body()).await
}

fn client(server: &MockServer) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut auth = reqwest::header::HeaderValue::from_static("Bearer pat-na1-test");
    auth.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, auth);
    let http = hubspot_projects_api::http::client_builder(&[])
        .unwrap()
        .default_headers(headers)
        .build()
        .unwrap();
    Client::new_with_client(&server.base_url(), http)
}

fn body() -> types::BatchInputSimplePublicObjectBatchInputUpsert {
    types::BatchInputSimplePublicObjectBatchInputUpsert {
        inputs: vec![types::SimplePublicObjectBatchInputUpsert {
            id: "PRJ-1".into(),
            id_property: Some("project_code".into()),
            object_write_trace_id: Some("t-1".into()),
            properties: [("hs_name".to_string(), "Launch".to_string())].into(),
        }],
    }
}

fn result(id: &str, new: bool) -> serde_json::Value {
    json!({
        "archived": false, "createdAt": "2026-11-07T05:31:56Z", "updatedAt": "2026-11-07T05:31:56Z",
        "id": id, "new": new, "objectWriteTraceId": "t-1",
        "properties": { "hs_name": "Launch", "project_code": "PRJ-1" }
    })
}

fn answer(results: serde_json::Value) -> serde_json::Value {
    json!({
        "completedAt": "2026-11-07T05:31:57Z", "startedAt": "2026-11-07T05:31:56Z",
        "requestedAt": "2026-11-07T05:31:55Z", "status": "COMPLETE", "results": results
    })
}

async fn error_body(error: Error<ByteStream>) -> (u16, String) {
    match error {
        Error::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let mut stream = response.into_inner().into_inner();
            let mut bytes = Vec::new();
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                bytes.extend_from_slice(&chunk.unwrap());
            }
            (status, String::from_utf8(bytes).unwrap())
        }
        other => panic!("expected an error response, got {other:?}"),
    }
}

#[tokio::test]
async fn every_descriptor_is_what_its_method_sends() {
    assert_eq!(
        operations::BATCH_UPSERT.len(),
        common::contract_versions("projects", "/batch/upsert").len(),
        "one descriptor per version of the contract"
    );
    for operation in operations::BATCH_UPSERT {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(operation.method)
                    .path(operation.path)
                    .header("content-type", operation.content_type)
                    .header("accept", operation.accept);
                then.status(200)
                    .json_body(answer(json!([result("101", true)])));
            })
            .await;
        let response = common::batch_upsert(&client(&server), operation, &body())
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", operation.method_name));
        assert_eq!(response.status(), 200, "{}", operation.method_name);
        mock.assert_calls_async(1).await;
    }
}

#[test]
fn the_default_version_is_the_newest_generally_available_one() {
    let contract =
        common::descriptors_match_contract(operations::BATCH_UPSERT, "projects", "/batch/upsert");
    let newest = common::newest_generally_available(&contract);
    assert_eq!(default().version, newest.version);
    assert!(!default().beta);
    for version in &contract {
        let operation = operations::batch_upsert(&version.version).unwrap();
        assert_eq!(
            operation.method_name,
            format!("batch_upsert_{}", version.version.replace('-', "_"))
        );
        assert_eq!(
            operation.path,
            format!("/crm/objects/{}/projects/batch/upsert", operation.version)
        );
    }
    assert_eq!(
        operations::batch_upsert(common::a_version_not_in(&contract)),
        None
    );
}

#[tokio::test]
async fn an_operation_of_another_contract_is_refused_without_a_request() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|_, then| {
            then.status(200);
        })
        .await;
    let token = operations::default_oauth_token();
    let error = common::batch_upsert(&client(&server), token, &body())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidRequest(why) if why.contains(token.path)),
        "{error:?}"
    );
    any.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_request_has_the_method_path_auth_content_type_and_the_seed_shape() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path(default().path)
                .header("authorization", "Bearer pat-na1-test")
                .header("content-type", "application/json")
                .header_missing("api-version")
                .json_body(json!({ "inputs": [{
                    "id": "PRJ-1", "idProperty": "project_code", "objectWriteTraceId": "t-1",
                    "properties": { "hs_name": "Launch" }
                }] }));
            then.status(200)
                .json_body(answer(json!([result("101", true)])));
        })
        .await;
    let response = send(&server).await.unwrap();
    mock.assert_async().await;
    assert_eq!(response.status(), 200);
    let answer = response.into_inner();
    assert_eq!(answer.status, BatchStatus::Complete);
    assert_eq!(answer.results[0].id, "101");
    assert!(answer.results[0].new);
    assert_eq!(
        answer.results[0].object_write_trace_id.as_deref(),
        Some("t-1")
    );
    assert!(answer.errors.is_empty());
}

#[tokio::test]
async fn a_207_keeps_its_errors_and_count() {
    let server = MockServer::start_async().await;
    let mut reply = answer(json!([result("101", false)]));
    reply["numErrors"] = json!(1);
    reply["errors"] = json!([{
        "status": "error", "category": "VALIDATION_ERROR", "message": "Property \"x\" does not exist",
        "context": { "id": ["PRJ-2"] }, "errors": [], "links": {}, "subCategory": "UNKNOWN_PROPERTY"
    }]);
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(207).json_body(reply);
    });
    let response = send(&server).await.unwrap();
    assert_eq!(response.status(), 207);
    let answer = response.into_inner();
    assert_eq!(answer.num_errors, Some(1));
    assert_eq!(answer.errors[0].category, "VALIDATION_ERROR");
    assert_eq!(answer.errors[0].context["id"], ["PRJ-2"]);
    assert_eq!(
        answer.errors[0].sub_category,
        Some(json!("UNKNOWN_PROPERTY"))
    );
    assert!(!answer.results[0].new);
}

#[tokio::test]
async fn a_207_with_an_error_code_and_category_in_no_enum_decodes() {
    let server = MockServer::start_async().await;
    let mut one = result("101", true);
    one["warnings"] =
        json!([{ "category": "A_WARNING_NOBODY_KNOWS", "context": {}, "message": "w" }]);
    let mut reply = answer(json!([one]));
    reply["numErrors"] = json!(1);
    reply["errors"] = json!([{
        "status": "error", "category": "A_CATEGORY_ADDED_LATER", "message": "new kind of failure",
        "context": { "id": ["PRJ-2"] }, "links": {},
        "errors": [{ "message": "m", "code": "A_CODE_ADDED_LATER", "in": "properties" }]
    }]);
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(207).json_body(reply);
    });
    let answer = send(&server).await.unwrap().into_inner();
    assert_eq!(answer.errors[0].category, "A_CATEGORY_ADDED_LATER");
    assert_eq!(
        answer.errors[0].errors[0].code.as_deref(),
        Some("A_CODE_ADDED_LATER")
    );
    assert_eq!(
        answer.results[0].warnings[0].category,
        "A_WARNING_NOBODY_KNOWS"
    );
}

#[tokio::test]
async fn a_207_with_empty_results_decodes() {
    let server = MockServer::start_async().await;
    let mut reply = answer(json!([]));
    reply["numErrors"] = json!(1);
    reply["errors"] = json!([{
        "status": "error", "category": "VALIDATION_ERROR", "message": "bad",
        "context": {}, "errors": [{ "message": "bad", "code": "INVALID" }], "links": {}, "subCategory": {}
    }]);
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(207).json_body(reply);
    });
    let answer = send(&server).await.unwrap().into_inner();
    assert!(answer.results.is_empty());
    assert_eq!(answer.errors.len(), 1);
    assert_eq!(answer.errors[0].errors[0].code.as_deref(), Some("INVALID"));
}

#[tokio::test]
async fn null_property_values_null_requested_at_and_unknown_status_decode() {
    let server = MockServer::start_async().await;
    let mut one = result("101", true);
    one["properties"]["hs_description"] = json!(null);
    let mut reply = answer(json!([one]));
    reply["requestedAt"] = json!(null);
    reply["status"] = json!("ARCHIVING");
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(200).json_body(reply);
    });
    let answer = send(&server).await.unwrap().into_inner();
    assert_eq!(answer.requested_at, None);
    assert_eq!(answer.status, BatchStatus::Other("ARCHIVING".into()));
    assert_eq!(answer.results[0].properties["hs_description"], None);
    assert_eq!(
        answer.results[0].properties["hs_name"].as_deref(),
        Some("Launch")
    );
}

#[tokio::test]
async fn any_2xx_decodes_as_an_answer() {
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(201)
            .json_body(answer(json!([result("101", true)])));
    });
    let response = send(&server).await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.into_inner().results.len(), 1);
}

#[tokio::test]
async fn a_400_keeps_hubspots_error_body() {
    let server = MockServer::start_async().await;
    let error = json!({
        "status": "error", "category": "VALIDATION_ERROR",
        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        "message": "Unable to perform update/upsert by non-unique property hs_name"
    });
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(400).json_body(error.clone());
    });
    let (status, text) = error_body(send(&server).await.unwrap_err()).await;
    assert_eq!(status, 400);
    let decoded: types::Error = serde_json::from_str(&text).unwrap();
    assert_eq!(decoded.category, "VALIDATION_ERROR");
    assert_eq!(
        decoded.correlation_id.to_string(),
        "aeb5f871-7f07-4993-9211-075dc63e7cbf"
    );
}

#[tokio::test]
async fn a_429_without_category_keeps_its_status_headers_and_body() {
    let server = MockServer::start_async().await;
    let body_429 = json!({
        "status": "error", "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT", "correlationId": "5b5c3e2f-0000-4000-8000-000000000000",
        "policyName": "TEN_SECONDLY_ROLLING", "groupName": "batch"
    });
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(429)
            .header("X-HubSpot-RateLimit-Remaining", "0")
            .json_body(body_429.clone());
    });
    let error = send(&server).await.unwrap_err();
    if let Error::ErrorResponse(response) = &error {
        assert_eq!(response.headers()["x-hubspot-ratelimit-remaining"], "0");
    }
    let (status, text) = error_body(error).await;
    assert_eq!(status, 429);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).unwrap(),
        body_429
    );
}

#[tokio::test]
async fn a_502_with_an_html_body_keeps_its_status_and_body() {
    let server = MockServer::start_async().await;
    let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    server.mock(|when, then| {
        when.method(POST).path(default().path);
        then.status(502)
            .header("content-type", "text/html")
            .body(html);
    });
    let (status, text) = error_body(send(&server).await.unwrap_err()).await;
    assert_eq!(status, 502);
    assert_eq!(text, html);
}
