//! A loopback HubSpot stand-in built on httpmock, and helpers shared by the tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use httpmock::{HttpMockRequest, HttpMockResponse, MockServer};
use hubspot_projects::{Client, ClientBuilder, RateBudget, RetryPolicy, UpsertInput};
use serde_json::{Value, json};

/// The path the client sends to by default, from the contract.
pub const PATH: &str = hubspot_projects::api::operations::default_batch_upsert().path;
pub const TOKEN: &str = "pat-na1-SECRET-0f1e2d3c";

/// What the server saw: every request's arrival time and body, and the last value written to
/// each record (applied in arrival order).
#[derive(Default)]
pub struct Seen {
    pub arrivals: Mutex<Vec<(Instant, Value)>>,
    pub records: Mutex<HashMap<String, String>>,
    pub count: AtomicUsize,
}

impl Seen {
    pub fn bodies(&self) -> Vec<Value> {
        self.arrivals
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b.clone())
            .collect()
    }

    pub fn batch_sizes(&self) -> Vec<usize> {
        self.bodies()
            .iter()
            .map(|b| b["inputs"].as_array().unwrap().len())
            .collect()
    }
}

pub fn json_response(status: u16, body: &Value) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-hubspot-correlation-id", "corr-from-header")
        .body(serde_json::to_vec(body).unwrap())
        .build()
}

pub fn raw_response(status: u16, content_type: &str, body: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.to_string())
        .build()
}

pub fn result_for(input: &Value, new: bool) -> Value {
    let id = input["id"].as_str().unwrap();
    let id_property = input["idProperty"].as_str().unwrap_or("project_code");
    json!({
        "id": format!("rec-{id}"),
        "new": new,
        "archived": false,
        "createdAt": "2026-11-28T10:00:00Z",
        "updatedAt": "2026-11-28T10:00:00Z",
        "objectWriteTraceId": input["objectWriteTraceId"],
        "properties": { id_property: id, "hs_lastmodifieddate": null },
    })
}

pub fn batch_body(results: Vec<Value>, errors: Vec<Value>) -> Value {
    let mut body = json!({
        "status": "COMPLETE",
        "startedAt": "2026-11-28T10:00:00Z",
        "completedAt": "2026-11-28T10:00:01Z",
        "results": results,
    });
    if !errors.is_empty() {
        body["numErrors"] = json!(errors.len());
        body["errors"] = json!(errors);
    }
    body
}

/// Records the request, writes it to the record store, and answers 200 with a result per
/// input (created the first time a record is seen, updated afterwards).
pub fn echo(seen: &Seen, request: &HttpMockRequest) -> HttpMockResponse {
    let body: Value = serde_json::from_slice(request.body_ref()).unwrap();
    seen.arrivals
        .lock()
        .unwrap()
        .push((Instant::now(), body.clone()));
    let mut records = seen.records.lock().unwrap();
    let results = body["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|input| {
            let id = input["id"].as_str().unwrap().to_string();
            let value = input["properties"]["hs_name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let new = records.insert(id, value).is_none();
            result_for(input, new)
        })
        .collect();
    json_response(200, &batch_body(results, vec![]))
}

/// A server whose every answer comes from `answer(n, seen, request)`, n counting from 0.
pub fn server_with(
    answer: impl Fn(usize, &Seen, &HttpMockRequest) -> HttpMockResponse + Send + Sync + 'static,
) -> (MockServer, Arc<Seen>) {
    let server = MockServer::start();
    let seen = Arc::new(Seen::default());
    let state = seen.clone();
    server.mock(move |when, then| {
        when.method("POST").path(PATH);
        then.respond_with(move |request| {
            let n = state.count.fetch_add(1, Ordering::SeqCst);
            answer(n, &state, request)
        });
    });
    (server, seen)
}

pub fn echo_server() -> (MockServer, Arc<Seen>) {
    server_with(|_, seen, request| echo(seen, request))
}

/// Quick retries, no pacing: tests stay fast.
pub fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::new(attempts, Duration::from_millis(1), Duration::from_millis(5))
}

pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .access_token(TOKEN)
        .base_url(server.base_url())
        .rate_budget(RateBudget::Unlimited)
        .retry_policy(fast_retries(5))
}

pub fn inputs(n: usize) -> Vec<UpsertInput> {
    (0..n)
        .map(|i| {
            UpsertInput::new("project_code", format!("PRJ-{i:04}"))
                .property("hs_name", format!("Project {i}"))
        })
        .collect()
}

/// Everything a tracing subscriber writes, kept for the test to read.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures every log line at TRACE level until the guard is dropped.
    pub fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    /// What was written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
