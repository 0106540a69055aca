//! `emulator_upsert`: any requests, sent in-process to the emulator's routes (the application
//! `Emulator::start` serves, called without a socket), in both of its batch error modes.
//!
//! The input holds up to four requests, separated by a line `===`, each a [`Case`]: a first
//! line `METHOD TARGET` (a line without a space is a target for `POST`; an empty or unusable
//! one is the contract's batch upsert path), header lines, a blank line, and the body.
//!
//! ```text
//! POST /crm/objects/v3/projects/batch/upsert
//! content-type: application/json
//! authorization: Bearer t
//!
//! {"inputs":[{"id":"P-1","idProperty":"project_code","properties":{"hs_name":"One"}}]}
//! ```
//!
//! Every answer carries a status (never a 5xx: no fault is configured) and a correlation id; a
//! JSON answer is JSON. Every answer of the batch upsert is JSON and matches the contract; a
//! 2xx answers every input once (200: a result each; 207: a result or an error each), and the
//! records the store gains are exactly the results marked `new`. Nothing else changes the
//! records.

use std::cell::RefCell;
use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, Uri, header};
use hubspot_projects_api::types::BatchInputSimplePublicObjectBatchInputUpsert;
use hubspot_projects_emulator::fuzz_support::router;
use hubspot_projects_emulator::{
    BatchErrors, EmulatorConfig, PropertyDef, PropertyType, UPSERT_PATHS,
};
use serde_json::Value;
use tower_service::Service;

use crate::case::{Case, split_parts, trim};
use crate::contract::{check_error_body, check_upsert_answer};

/// The most requests one input sends.
const MAX_REQUESTS: usize = 4;

/// The line between two requests.
pub const SEPARATOR: &[u8] = b"===";

/// The path the contract checks every version's answers at: their schemas are the same.
const CONTRACT_PATH: &str = UPSERT_PATHS[0].path;

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// The emulator's configuration: the default schema plus a property of each other type, two
/// of them unique.
pub fn config(mode: BatchErrors) -> EmulatorConfig {
    EmulatorConfig {
        batch_errors: mode,
        properties: vec![
            PropertyDef::new("budget", PropertyType::Number),
            PropertyDef::new("active", PropertyType::Bool),
            PropertyDef::new("kickoff_at", PropertyType::Datetime),
            PropertyDef::new("external_ref", PropertyType::String).with_unique_values(),
            PropertyDef::new("ledger_number", PropertyType::Number).with_unique_values(),
        ],
        ..EmulatorConfig::default()
    }
}

/// Runs one input; panics when a check fails.
pub fn run(data: &[u8]) {
    statuses(data);
}

/// Runs one input and returns the status of every answer to a request of the input, in each
/// mode in turn; panics when a check fails.
pub fn statuses(data: &[u8]) -> Vec<u16> {
    let parts = split_parts(data, SEPARATOR, MAX_REQUESTS);
    RUNTIME.with_borrow_mut(|runtime| {
        let runtime = runtime.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime")
        });
        [BatchErrors::Whole, BatchErrors::PerInput]
            .into_iter()
            .flat_map(|mode| runtime.block_on(session(mode, &parts)))
            .collect()
    })
}

/// One request as sent.
struct Sent {
    method: Method,
    path: String,
    body: Vec<u8>,
}

impl Sent {
    fn is_upsert(&self) -> bool {
        self.method == Method::POST && UPSERT_PATHS.iter().any(|p| p.path == self.path)
    }
}

/// Builds the request a case describes.
fn request_of(part: &[u8]) -> (Sent, Request<Body>) {
    let case = Case::parse(part);
    let first = case.first_line();
    let (method, target) = match first.iter().position(|b| *b == b' ') {
        Some(at) => (&first[..at], trim(&first[at + 1..])),
        None => (&b"POST"[..], first),
    };
    let method = Method::from_bytes(method).unwrap_or(Method::POST);
    let uri = Uri::try_from(target).unwrap_or_else(|_| Uri::from_static(CONTRACT_PATH));
    let mut request = Request::new(Body::from(case.body.to_vec()));
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri.clone();
    for (name, value) in case.header_lines() {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            request.headers_mut().append(name, value);
        }
    }
    let sent = Sent {
        method,
        path: uri.path().to_string(),
        body: case.body.to_vec(),
    };
    (sent, request)
}

async fn call(router: &mut Router, request: Request<Body>) -> (Response<Body>, Vec<u8>) {
    let response = match Service::call(router, request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("an in-memory answer is read whole");
    (Response::from_parts(parts, Body::empty()), bytes.to_vec())
}

/// The ids of the records the emulator holds.
async fn record_ids(router: &mut Router) -> BTreeSet<String> {
    let request = Request::get("/_emulator/records")
        .body(Body::empty())
        .expect("a request");
    let (response, body) = call(router, request).await;
    assert_eq!(response.status(), 200);
    body.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            let record: Value = serde_json::from_slice(line).expect("a record line is JSON");
            record["id"]
                .as_str()
                .expect("a record has an id")
                .to_string()
        })
        .collect()
}

async fn session(mode: BatchErrors, parts: &[&[u8]]) -> Vec<u16> {
    let mut router = router(&config(mode)).expect("the configuration is valid");
    let mut records = BTreeSet::new();
    let mut statuses = Vec::new();
    for part in parts {
        let (sent, request) = request_of(part);
        let (response, body) = call(&mut router, request).await;
        let status = response.status();
        let context = || {
            format!(
                "{mode:?} mode, {} {} answered {status}: {}",
                sent.method,
                sent.path,
                String::from_utf8_lossy(&body)
            )
        };
        assert!(!status.is_server_error(), "{}", context());
        let correlation = response
            .headers()
            .get(hubspot_projects_api::CORRELATION_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| uuid::Uuid::parse_str(v).ok());
        assert!(correlation.is_some(), "no correlation id: {}", context());
        let is_json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/json");
        let json: Option<Value> = is_json.then(|| {
            serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("a JSON answer that is not JSON ({e}): {}", context()))
        });

        let after = record_ids(&mut router).await;
        if sent.is_upsert() {
            let json = json.unwrap_or_else(|| panic!("not a JSON answer: {}", context()));
            if let Err(problem) = check_upsert_answer(CONTRACT_PATH, status.as_u16(), &json) {
                panic!("off contract: {problem}: {}", context());
            }
            if status.is_success() {
                check_written(&sent, status.as_u16(), &json, &records, &after, &context);
            } else {
                assert_eq!(
                    after,
                    records,
                    "a refused batch writes nothing: {}",
                    context()
                );
            }
        } else {
            if let Some(json) = &json
                && !status.is_success()
                && let Err(problem) = check_error_body(json)
            {
                panic!("an error answer off contract: {problem}: {}", context());
            }
            assert_eq!(
                after,
                records,
                "only the batch upsert writes: {}",
                context()
            );
        }
        records = after;
        statuses.push(status.as_u16());
    }
    statuses
}

/// A 2xx answer to a batch answers each input once, and the store gained exactly the results
/// marked `new`.
fn check_written(
    sent: &Sent,
    status: u16,
    answer: &Value,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
    context: &dyn Fn() -> String,
) {
    let batch: BatchInputSimplePublicObjectBatchInputUpsert = serde_json::from_slice(&sent.body)
        .unwrap_or_else(|e| panic!("a batch accepted that does not decode ({e}): {}", context()));
    let inputs = batch.inputs.len();
    let results = answer["results"].as_array().map_or(0, Vec::len);
    let errors = answer["errors"].as_array().map_or(0, Vec::len);
    match status {
        200 => assert_eq!((results, errors), (inputs, 0), "{}", context()),
        207 => {
            assert!(errors > 0, "a 207 without errors: {}", context());
            assert_eq!(results + errors, inputs, "{}", context());
            assert_eq!(
                answer["numErrors"].as_u64(),
                Some(errors as u64),
                "{}",
                context()
            );
        }
        other => panic!("a success other than 200 and 207 ({other}): {}", context()),
    }
    let traces: BTreeSet<&str> = batch
        .inputs
        .iter()
        .filter_map(|input| input.object_write_trace_id.as_deref())
        .collect();
    let mut created = BTreeSet::new();
    for result in answer["results"].as_array().into_iter().flatten() {
        let id = result["id"].as_str().expect("a result has an id");
        if let Some(trace) = result["objectWriteTraceId"].as_str() {
            assert!(
                traces.contains(trace),
                "a result echoes trace id {trace:?}, which no input has: {}",
                context()
            );
        }
        if result["new"] == Value::Bool(true) {
            assert!(
                !before.contains(id) && created.insert(id.to_string()),
                "record {id} created twice: {}",
                context()
            );
        } else {
            assert!(
                before.contains(id),
                "record {id} updated but not there before: {}",
                context()
            );
        }
    }
    let gained: BTreeSet<String> = after.difference(before).cloned().collect();
    assert_eq!(
        gained,
        created,
        "the records created are those the answer says: {}",
        context()
    );
    assert!(
        after.is_superset(before),
        "a batch upsert deletes nothing: {}",
        context()
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smoke::{files_in, fuzz_dir};

    #[test]
    fn the_seeds_reach_every_kind_of_answer() {
        let mut seen = BTreeSet::new();
        for (_, seed) in files_in(&fuzz_dir().join("seeds/emulator_upsert")) {
            seen.extend(statuses(&seed));
        }
        for status in [200, 207, 400, 401, 404, 405, 409, 413, 415] {
            assert!(
                seen.contains(&status),
                "no seed is answered {status}: {seen:?}"
            );
        }
    }
}
