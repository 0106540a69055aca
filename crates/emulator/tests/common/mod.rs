//! Helpers shared by the loopback tests: a client, and a check of every answer against the
//! contract (`openapi/projects.json`).

#![allow(dead_code)]

use std::sync::OnceLock;

use hubspot_projects_api::types;
use hubspot_projects_emulator::{Emulator, EmulatorConfig, EmulatorHandle, UPSERT_PATHS};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// The contract's path: the first of the emulator's list.
pub const UPSERT: &str = UPSERT_PATHS[0].path;

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

/// Posts a form to one of the token endpoint's paths, and checks the answer against the OAuth
/// contract.
pub async fn post_form(handle: &EmulatorHandle, path: &str, form: &[(&str, &str)]) -> Answer {
    let body: String = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = client()
        .post(format!("{}{path}", handle.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("an answer");
    let answer = Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    };
    check_oauth_contract(&answer);
    answer
}

/// Percent-encodes everything but unreserved characters.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A refresh of `refresh_token` for the app `client_id`/`secret`.
pub async fn refresh(
    handle: &EmulatorHandle,
    client_id: &str,
    secret: &str,
    refresh_token: &str,
) -> Answer {
    post_form(
        handle,
        hubspot_projects_emulator::TOKEN_PATHS[0],
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("refresh_token", refresh_token),
        ],
    )
    .await
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

/// The contract version's read of one record: `…/projects/{id}` (`id` may carry a query).
pub fn read_path(id: &str) -> String {
    UPSERT_PATHS[0].read_path().replace("{id}", id)
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

/// Resolves a local `$ref` against `root`.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("local ref");
            &root["components"]["schemas"][name]
        }
        None => schema,
    }
}

/// Validates `value` against an OpenAPI 3.0 schema of the projects contract.
pub fn validate(value: &Value, schema: &Value, at: &str) {
    if let Err(problem) = check_schema(spec(), value, schema, at) {
        panic!("{problem}");
    }
}

/// Checks `value` against an OpenAPI 3.0 schema whose references point into `root`: types,
/// required fields, formats, enums, `allOf`, `oneOf` and `anyOf`.
pub fn check_schema(root: &Value, value: &Value, schema: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(root, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check_schema(root, value, part, at)?;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let problems: Vec<String> = options
                .iter()
                .filter_map(|option| check_schema(root, value, option, at).err())
                .collect();
            if problems.len() == options.len() {
                return Err(format!("{at}: matches none of {key}: {problems:?}"));
            }
        }
    }
    if value.is_null() {
        if schema["nullable"] == json!(true) {
            return Ok(());
        }
        return Err(format!("{at}: null where the contract does not allow it"));
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} not in {options:?}"));
    }
    let fail = |what: &str| Err(format!("{at}: {what}"));
    match schema["type"].as_str() {
        Some("object") => {
            let Some(object) = value.as_object() else {
                return fail("not an object");
            };
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                if !object.contains_key(name) {
                    return fail(&format!("missing required {name}"));
                }
            }
            let properties = schema["properties"].as_object();
            for (key, item) in object {
                let path = format!("{at}.{key}");
                if let Some(sub) = properties.and_then(|p| p.get(key)) {
                    check_schema(root, item, sub, &path)?;
                } else if let Some(extra) = schema.get("additionalProperties") {
                    if extra.is_object() {
                        check_schema(root, item, extra, &path)?;
                    } else if extra == &json!(false) {
                        return Err(format!("{path}: not allowed"));
                    }
                }
            }
        }
        Some("array") => {
            let Some(items) = value.as_array() else {
                return fail("not an array");
            };
            for (i, item) in items.iter().enumerate() {
                check_schema(root, item, &schema["items"], &format!("{at}[{i}]"))?;
            }
        }
        Some("string") => {
            let Some(text) = value.as_str() else {
                return fail("not a string");
            };
            match schema["format"].as_str() {
                Some("date-time") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
                    return fail(&format!("{text} is not a date-time"));
                }
                Some("uuid") if uuid::Uuid::parse_str(text).is_err() => {
                    return fail(&format!("{text} is not a uuid"));
                }
                _ => {}
            }
        }
        Some("integer") if !(value.is_i64() || value.is_u64()) => return fail("not an integer"),
        Some("number") if !value.is_number() => return fail("not a number"),
        Some("boolean") if !value.is_boolean() => return fail("not a boolean"),
        _ => {}
    }
    Ok(())
}

/// The OAuth contract, `openapi/oauth.json`, once the workspace has one.
fn oauth_spec() -> Option<&'static Value> {
    static SPEC: OnceLock<Option<Value>> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/oauth.json");
        let text = std::fs::read_to_string(path).ok()?;
        Some(serde_json::from_str(&text).expect("openapi/oauth.json is JSON"))
    })
    .as_ref()
}

/// The shape the emulator's token endpoint answers with, taken from HubSpot's published OAuth
/// spec (`AccessTokenResponse`, and the `Error` of its default response), written in the
/// contract's layout: used until `openapi/oauth.json` exists.
fn oauth_fallback_spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        json!({
            "components": {"schemas": {
                "AccessTokenResponse": {
                    "type": "object",
                    "required": ["access_token", "expires_in", "refresh_token", "token_type", "token_use"],
                    "properties": {
                        "access_token": {"type": "string"},
                        "refresh_token": {"type": "string"},
                        "expires_in": {"type": "integer"},
                        "token_type": {"type": "string"},
                        "token_use": {"type": "string", "enum": ["access_token"]},
                        "hub_id": {"type": "integer"},
                        "user_id": {"type": "integer"},
                        "scopes": {"type": "array", "items": {"type": "string"}}
                    }
                },
                "Error": spec()["components"]["schemas"]["Error"].clone(),
                "ErrorDetail": spec()["components"]["schemas"]["ErrorDetail"].clone()
            }}
        })
    })
}

/// Checks an answer of the OAuth token endpoint against `openapi/oauth.json` (its token
/// operation's 200 or default response) when the workspace has it, and otherwise against the
/// shapes above: a 200 is an `AccessTokenResponse`, any other status an `Error`.
pub fn check_oauth_contract(answer: &Answer) {
    assert!(
        answer.header("x-hubspot-correlation-id").is_some(),
        "every answer carries a correlation id"
    );
    let body = answer.json();
    let success = answer.status == 200;
    let (root, schema) = match oauth_spec() {
        Some(root) => {
            let operation = root["paths"]
                .as_object()
                .and_then(|paths| paths.iter().find(|(path, _)| path.ends_with("/token")))
                .map(|(_, item)| &item["post"])
                .expect("openapi/oauth.json has a token operation");
            let responses = &operation["responses"];
            let mut declared = if success {
                &responses["200"]
            } else {
                responses
                    .get(answer.status.as_str())
                    .unwrap_or(&responses["default"])
            };
            if let Some(name) = declared["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/responses/"))
            {
                declared = &root["components"]["responses"][name];
            }
            let schema = declared["content"]
                .as_object()
                .and_then(|m| m.values().next())
                .map(|media| media["schema"].clone())
                .expect("a declared body");
            (root, schema)
        }
        None => {
            let name = if success {
                "AccessTokenResponse"
            } else {
                "Error"
            };
            (
                oauth_fallback_spec(),
                json!({"$ref": format!("#/components/schemas/{name}")}),
            )
        }
    };
    if let Err(problem) = check_schema(root, &body, &schema, "$") {
        panic!("{problem}\n{}", answer.body);
    }
}
