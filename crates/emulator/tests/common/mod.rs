//! Helpers shared by the loopback tests: a client, and a check of every answer against the
//! contract (`openapi/projects.json`).

#![allow(dead_code)]

use std::sync::OnceLock;

use hubspot_projects_api::types;
use hubspot_projects_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub const UPSERT: &str = "/crm/objects/v3/projects/batch/upsert";

/// An answer: status, headers and raw body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn header_u64(&self, name: &str) -> u64 {
        self.header(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .parse()
            .unwrap()
    }
}

pub async fn start(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("emulator starts")
}

/// One client for every test: building one loads the system's TLS roots, which is slow.
/// Connections are not pooled, since each test runs its own runtime.
pub fn client() -> reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            hubspot_projects_api::http::client_builder(&[])
                .expect("the TLS setup")
                .pool_max_idle_per_host(0)
                .build()
                .expect("a client")
        })
        .clone()
}

/// Posts `body` (raw text) to `path` with an optional bearer token.
pub async fn post_raw(
    handle: &EmulatorHandle,
    path: &str,
    token: Option<&str>,
    body: String,
) -> Answer {
    let mut request = client()
        .post(format!("{}{path}", handle.base_url()))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("an answer");
    let answer = Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    };
    check_contract(&answer);
    answer
}

pub async fn post(handle: &EmulatorHandle, token: Option<&str>, body: Value) -> Answer {
    post_raw(handle, UPSERT, token, body.to_string()).await
}

pub async fn get(handle: &EmulatorHandle, path: &str, token: Option<&str>) -> Answer {
    let mut request = client().get(format!("{}{path}", handle.base_url()));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("an answer");
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// One input keyed by `project_code`.
pub fn input(code: &str, trace: Option<&str>, props: Value) -> Value {
    let mut input = json!({"id": code, "idProperty": "project_code", "properties": props});
    if let Some(trace) = trace {
        input["objectWriteTraceId"] = json!(trace);
    }
    input
}

pub fn batch(inputs: Vec<Value>) -> Value {
    json!({ "inputs": inputs })
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        serde_json::from_str(include_str!("../../../../openapi/projects.json")).expect("spec")
    })
}

/// Checks a batch upsert answer against the contract.
///
/// - Its status is one the operation declares, or falls under `default`.
/// - Its body validates against the declared schema (a small OpenAPI 3.0 schema validator
///   below), and decodes with the generated types.
/// - The only exceptions are HubSpot's own off-spec shapes: 429 bodies and HTML 502s.
pub fn check_contract(answer: &Answer) {
    assert!(
        answer.header("x-hubspot-correlation-id").is_some(),
        "every answer carries a correlation id"
    );
    let responses = &spec()["paths"][UPSERT]["post"]["responses"];
    let code = answer.status.as_str();
    let declared = responses.get(code).or_else(|| responses.get("default"));
    let mut declared = declared.unwrap_or_else(|| panic!("status {code} is not declared"));
    if let Some(reference) = declared["$ref"].as_str() {
        let name = reference
            .strip_prefix("#/components/responses/")
            .expect("a response ref");
        declared = &spec()["components"]["responses"][name];
    }
    match answer.status.as_u16() {
        429 => {
            // HubSpot's real 429 bodies have no `category`; check the observed shape.
            let body = answer.json();
            assert_eq!(body["status"], "error");
            assert_eq!(body["errorType"], "RATE_LIMIT");
            assert!(body["policyName"].is_string());
            uuid::Uuid::parse_str(body["correlationId"].as_str().unwrap()).unwrap();
            return;
        }
        502 => {
            assert!(answer.body.contains("<html>"), "502s come as HTML");
            return;
        }
        _ => {}
    }
    let content = &declared["content"];
    let media = content
        .as_object()
        .and_then(|m| m.values().next())
        .expect("a declared body");
    let body = answer.json();
    validate(&body, &media["schema"], "$");
    match answer.status.as_u16() {
        200 => {
            serde_json::from_value::<types::BatchResponseSimplePublicUpsertObject>(body).unwrap();
        }
        207 => {
            serde_json::from_value::<types::BatchResponseSimplePublicUpsertObjectWithErrors>(body)
                .unwrap();
        }
        _ => {
            serde_json::from_value::<types::Error>(body).unwrap();
        }
    }
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("local ref");
            &spec()["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Validates `value` against an OpenAPI 3.0 schema: types, required fields, formats, enums.
pub fn validate(value: &Value, schema: &Value, at: &str) {
    let schema = resolve(schema);
    if value.is_null() {
        assert!(
            schema["nullable"] == json!(true),
            "{at}: null where the contract does not allow it"
        );
        return;
    }
    if let Some(options) = schema["enum"].as_array() {
        assert!(options.contains(value), "{at}: {value} not in {options:?}");
    }
    match schema["type"].as_str() {
        Some("object") => {
            let object = value
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not an object"));
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                assert!(object.contains_key(name), "{at}: missing required {name}");
            }
            let properties = schema["properties"].as_object();
            for (key, item) in object {
                let path = format!("{at}.{key}");
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    validate(item, sub, &path);
                } else if let Some(extra) = schema.get("additionalProperties") {
                    if extra.is_object() {
                        validate(item, extra, &path);
                    } else {
                        assert_ne!(extra, &json!(false), "{path}: not allowed");
                    }
                }
            }
        }
        Some("array") => {
            let items = value
                .as_array()
                .unwrap_or_else(|| panic!("{at}: not an array"));
            for (i, item) in items.iter().enumerate() {
                validate(item, &schema["items"], &format!("{at}[{i}]"));
            }
        }
        Some("string") => {
            let text = value
                .as_str()
                .unwrap_or_else(|| panic!("{at}: not a string"));
            match schema["format"].as_str() {
                Some("date-time") => {
                    chrono::DateTime::parse_from_rfc3339(text)
                        .unwrap_or_else(|e| panic!("{at}: {text} is not a date-time: {e}"));
                }
                Some("uuid") => {
                    uuid::Uuid::parse_str(text)
                        .unwrap_or_else(|e| panic!("{at}: {text} is not a uuid: {e}"));
                }
                _ => {}
            }
        }
        Some("integer") => assert!(value.is_i64() || value.is_u64(), "{at}: not an integer"),
        Some("number") => assert!(value.is_number(), "{at}: not a number"),
        Some("boolean") => assert!(value.is_boolean(), "{at}: not a boolean"),
        _ => {}
    }
}
