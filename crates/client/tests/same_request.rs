//! The engine builds its request itself (to read answers in place), from the contract's
//! operation descriptor: for every version, it must send exactly what the generated method
//! sends for the same body, authorization aside.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use httpmock::MockServer;
use hubspot_projects::api::types;
use hubspot_projects::{Client, RateBudget, UpsertInput};

/// What the server saw of one request.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn recording_server() -> (MockServer, Arc<Mutex<Vec<Seen>>>) {
    let server = MockServer::start();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    server.mock(move |when, then| {
        when.any_request();
        then.respond_with(move |request| {
            let mut headers: Vec<(String, String)> = request
                .headers()
                .iter()
                .filter(|(name, _)| {
                    // Each side sends its own credentials and user agent; the transport adds
                    // its own connection headers.
                    !matches!(
                        name.as_str(),
                        "authorization" | "user-agent" | "host" | "content-length"
                    )
                })
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        value.to_str().unwrap_or("").to_string(),
                    )
                })
                .collect();
            headers.sort();
            log.lock().unwrap().push(Seen {
                method: request.method().to_string(),
                path: request.uri().path().to_string(),
                headers,
                body: request.body_vec(),
            });
            let body: serde_json::Value = serde_json::from_slice(request.body_ref()).unwrap();
            let results = body["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|input| result_for(input, true))
                .collect();
            json_response(200, &batch_body(results, vec![]))
        });
    });
    (server, seen)
}

fn inputs() -> Vec<UpsertInput> {
    (0..3)
        .map(|i| {
            UpsertInput::new("project_code", format!("SAME-{i}"))
                .property("hs_name", format!("Same {i}"))
                .trace_id(format!("trace-{i}"))
        })
        .collect()
}

fn body() -> types::BatchInputSimplePublicObjectBatchInputUpsert {
    types::BatchInputSimplePublicObjectBatchInputUpsert {
        inputs: inputs()
            .into_iter()
            .map(|input| types::SimplePublicObjectBatchInputUpsert {
                id: input.id,
                id_property: input.id_property,
                object_write_trace_id: input.object_write_trace_id,
                properties: input.properties,
            })
            .collect(),
    }
}

#[tokio::test]
async fn the_engine_sends_what_the_generated_method_sends() {
    let mut compared = 0;
    for operation in hubspot_projects::api::operations::BATCH_UPSERT {
        let (server, seen) = recording_server();
        let http = hubspot_projects::api::http::client_builder(&[])
            .unwrap()
            .build()
            .unwrap();
        let generated = hubspot_projects::api::Client::new_with_client(&server.base_url(), http);
        let body = body();
        generated
            .batch_upsert_by_version(operation, &body)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", operation.method_name));
        let engine = Client::builder()
            .access_token(TOKEN)
            .base_url(server.base_url())
            .api_version(operation.version)
            .rate_budget(RateBudget::Unlimited)
            .build()
            .unwrap();
        let report = engine.upsert(inputs()).await;
        assert_eq!(report.summary.created, 3);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], seen[1], "{}", operation.version);
        assert_eq!(seen[1].path, operation.path);
        assert_eq!(seen[1].method, operation.method);
        compared += 1;
    }
    assert_eq!(
        compared,
        hubspot_projects::api_versions().len(),
        "every version of the contract compared"
    );
}
