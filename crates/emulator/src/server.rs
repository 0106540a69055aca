//! The HTTP face: routes, the gate (auth, budgets, faults) and the connection loop.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hubspot_projects_api::BatchStatus;
use hubspot_projects_api::types::{
    BatchInputSimplePublicObjectBatchInputUpsert, BatchResponseSimplePublicUpsertObject,
    BatchResponseSimplePublicUpsertObjectWithErrors, Error as ApiError,
};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::config::{EmulatorConfig, READ_SCOPE, TokenGrant, WRITE_SCOPE};
use crate::faults::{Failure, FaultInjector};
use crate::limits::{Budget, Limiter, Policy};
use crate::store::{self, Precheck, RecordRef, Rejection, Schema, Store};

/// The largest request body the batch upsert accepts, in bytes; larger bodies get a 413.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Bodies up to this size are read to the end before a 413, so that the client, still
/// writing, sees the answer rather than a reset connection.
const DRAIN_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The paths of the batch upsert: HubSpot's, its date-versioned one, and the generic objects
/// path its official clients use.
pub const UPSERT_PATHS: [&str; 3] = [
    "/crm/objects/v3/projects/batch/upsert",
    "/crm/objects/2026-03/projects/batch/upsert",
    "/crm/v3/objects/projects/batch/upsert",
];

const CORRELATION_HEADER: HeaderName = HeaderName::from_static("x-hubspot-correlation-id");
const RL_MAX: HeaderName = HeaderName::from_static("x-hubspot-ratelimit-max");
const RL_REMAINING: HeaderName = HeaderName::from_static("x-hubspot-ratelimit-remaining");
const RL_INTERVAL: HeaderName =
    HeaderName::from_static("x-hubspot-ratelimit-interval-milliseconds");
const RL_DAILY: HeaderName = HeaderName::from_static("x-hubspot-ratelimit-daily");
const RL_DAILY_REMAINING: HeaderName =
    HeaderName::from_static("x-hubspot-ratelimit-daily-remaining");

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    schema: Schema,
    store: Mutex<Store>,
    /// `None`: every non-empty bearer token is accepted with every scope.
    tokens: Option<HashMap<String, TokenGrant>>,
    limiter: Limiter,
    faults: FaultInjector,
    requests: AtomicU64,
}

impl AppState {
    pub(crate) fn new(config: &EmulatorConfig) -> Self {
        let tokens = (!config.tokens.is_empty()).then(|| {
            config
                .tokens
                .iter()
                .map(|grant| (grant.token.clone(), grant.clone()))
                .collect()
        });
        let schema = Schema::new(&config.properties);
        Self {
            store: Mutex::new(Store::new(schema.clone())),
            schema,
            tokens,
            limiter: Limiter::new(config.rate_limit, config.daily_limit),
            faults: FaultInjector::new(config.faults, config.seed),
            requests: AtomicU64::new(0),
        }
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while the lock was held cannot leave a record half-written in a way that
        // matters more than losing the emulator, so keep serving.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// The correlation id of the request being handled.
#[derive(Clone, Copy, Debug)]
struct CorrelationId(Uuid);

/// Closes the request's connection without an answer when notified.
#[derive(Clone, Debug)]
struct ConnectionKill(Arc<Notify>);

/// The application: every route behind the gate.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new();
    for path in UPSERT_PATHS {
        router = router.route(path, post(upsert));
    }
    for path in [
        "/crm/objects/v3/projects/{id}",
        "/crm/objects/2026-03/projects/{id}",
        "/crm/v3/objects/projects/{id}",
    ] {
        router = router.route(path, get(read));
    }
    router
        .route("/_emulator/health", get(health))
        .route("/_emulator/records", get(records))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), gate))
        .with_state(state)
}

/// Accepts connections until `shutdown` changes or its sender is dropped, then lets the open
/// connections finish (at most 5 s).
pub(crate) async fn run(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone(), shutdown.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: let the pressure ease.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        connections.abort_all();
    }
}

async fn serve_connection(stream: TcpStream, router: Router, mut shutdown: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let request_kill = ConnectionKill(kill.clone());
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(request_kill.clone());
        let mut router = router.clone();
        async move {
            let response: Result<Response, Infallible> =
                tower_service::Service::call(&mut router, request).await;
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        // Bounds how long a client may take to send its headers (30 s by default).
        .timer(hyper_util::rt::TokioTimer::new())
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        // Dropping the connection closes the socket without answering.
        _ = kill.notified() => return,
        _ = shutdown.changed() => {}
    }
    connection.as_mut().graceful_shutdown();
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = kill.notified() => {}
    }
}

/// Authenticates, counts the request against its token's budgets, injects faults, and stamps
/// the correlation id and rate-limit headers on every answer.
async fn gate(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let correlation = Uuid::new_v4();
    if request.uri().path().starts_with("/_emulator/") {
        let mut response = next.run(request).await;
        stamp(&mut response, correlation, None);
        return response;
    }
    state.requests.fetch_add(1, Ordering::Relaxed);
    let scope = if request.method() == axum::http::Method::POST {
        WRITE_SCOPE
    } else {
        READ_SCOPE
    };
    let token = match authenticate(&state, request.headers(), scope, correlation) {
        Ok(token) => token,
        Err(response) => {
            let mut response = *response;
            let budget = state.limiter.full_budget();
            stamp(&mut response, correlation, Some(budget));
            return response;
        }
    };
    let (budget, verdict) = state.limiter.admit(&token);
    let mut response = match verdict {
        Err(policy) => rate_limited(policy, correlation),
        Ok(()) => {
            let draw = state.faults.draw();
            if draw.latency {
                tokio::time::sleep(Duration::from_millis(state.faults.latency_ms())).await;
            }
            match draw.failure {
                None => {
                    request.extensions_mut().insert(CorrelationId(correlation));
                    next.run(request).await
                }
                Some(Failure::DropConnection) => {
                    match request.extensions().get::<ConnectionKill>() {
                        Some(ConnectionKill(kill)) => {
                            kill.notify_one();
                            // The connection task drops this future with the connection.
                            std::future::pending::<()>().await;
                            error_response(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "INTERNAL_ERROR",
                                "internal error".into(),
                                BTreeMap::new(),
                                correlation,
                            )
                        }
                        None => error_response(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "INTERNAL_ERROR",
                            "internal error".into(),
                            BTreeMap::new(),
                            correlation,
                        ),
                    }
                }
                Some(failure) => fault_response(failure, correlation),
            }
        }
    };
    stamp(
        &mut response,
        correlation,
        state.limiter.enabled().then_some(budget),
    );
    response
}

fn stamp(response: &mut Response, correlation: Uuid, budget: Option<Budget>) {
    let headers = response.headers_mut();
    let mut buf = Uuid::encode_buffer();
    if let Ok(value) = HeaderValue::from_str(correlation.hyphenated().encode_lower(&mut buf)) {
        headers.insert(CORRELATION_HEADER, value);
    }
    let Some(budget) = budget else { return };
    if let Some((max, remaining, interval)) = budget.rolling {
        headers.insert(RL_MAX, HeaderValue::from(max));
        headers.insert(RL_REMAINING, HeaderValue::from(remaining));
        headers.insert(RL_INTERVAL, HeaderValue::from(interval as u64));
    }
    if let Some((max, remaining)) = budget.daily {
        headers.insert(RL_DAILY, HeaderValue::from(max));
        headers.insert(RL_DAILY_REMAINING, HeaderValue::from(remaining));
    }
}

/// The bearer token of a request, if it is accepted and holds `scope`.
fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    scope: &str,
    correlation: Uuid,
) -> Result<String, Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(Box::new(error_response(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview".into(),
            BTreeMap::new(),
            correlation,
        )));
    };
    let Some(tokens) = &state.tokens else {
        return Ok(token.to_string());
    };
    let Some(grant) = tokens.get(token) else {
        return Err(Box::new(error_response(
            StatusCode::UNAUTHORIZED,
            "INVALID_AUTHENTICATION",
            "The access token provided is invalid or expired. Check the token or generate a new one.".into(),
            BTreeMap::new(),
            correlation,
        )));
    };
    if !grant.has_scope(scope) {
        let mut context = BTreeMap::new();
        context.insert("missingScopes".to_string(), vec![scope.to_string()]);
        return Err(Box::new(error_response(
            StatusCode::FORBIDDEN,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.".into(),
            context,
            correlation,
        )));
    }
    Ok(grant.token.clone())
}

/// A JSON body with a status.
fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Serializes into a buffer of the given initial capacity.
fn to_json<T: serde::Serialize>(value: &T, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    // Serializing the generated types into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, value);
    out
}

/// An answer with HubSpot's `Error` body.
fn error_response(
    status: StatusCode,
    category: &str,
    message: String,
    context: BTreeMap<String, Vec<String>>,
    correlation: Uuid,
) -> Response {
    let body = ApiError {
        category: category.to_string(),
        context,
        correlation_id: correlation,
        errors: Vec::new(),
        links: BTreeMap::new(),
        message,
        sub_category: None,
    };
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

fn rejection_response(rejection: Rejection, correlation: Uuid) -> Response {
    error_response(
        StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST),
        rejection.category,
        rejection.message,
        rejection.context,
        correlation,
    )
}

/// HubSpot's 429 bodies, which do not follow its `Error` schema.
fn rate_limited(policy: Policy, correlation: Uuid) -> Response {
    let (message, policy_name) = match policy {
        Policy::Rolling => (
            "You have reached your ten_secondly_rolling limit.",
            "TEN_SECONDLY_ROLLING",
        ),
        Policy::Daily => ("You have reached your daily limit.", "DAILY"),
    };
    let body = serde_json::json!({
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": correlation,
        "policyName": policy_name,
        "groupName": "api-calls:hubspot-projects-emulator",
    });
    json_response(StatusCode::TOO_MANY_REQUESTS, body.to_string().into_bytes())
}

const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";

fn fault_response(failure: Failure, correlation: Uuid) -> Response {
    match failure {
        Failure::ServerError => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "An internal error occurred. Please try again.".into(),
            BTreeMap::new(),
            correlation,
        ),
        Failure::BadGatewayHtml => (
            StatusCode::BAD_GATEWAY,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=UTF-8"),
            )],
            BAD_GATEWAY_HTML,
        )
            .into_response(),
        Failure::Unavailable => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "The service is temporarily unavailable. Please try again.".into(),
            BTreeMap::new(),
            correlation,
        ),
        Failure::RateLimited => rate_limited(Policy::Rolling, correlation),
        // Handled by the gate, which never answers.
        Failure::DropConnection => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal error".into(),
            BTreeMap::new(),
            correlation,
        ),
    }
}

fn correlation_of(request: &Request) -> Uuid {
    request
        .extensions()
        .get::<CorrelationId>()
        .map_or_else(Uuid::new_v4, |c| c.0)
}

/// Reads a body up to [`MAX_BODY_BYTES`], or answers 413.
async fn read_body(request: Request, correlation: Uuid) -> Result<Bytes, Response> {
    let too_large = || {
        error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "VALIDATION_ERROR",
            format!("The request body is larger than the limit of {MAX_BODY_BYTES} bytes"),
            BTreeMap::new(),
            correlation,
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_BODY_BYTES as u64) {
        return Err(too_large());
    }
    match axum::body::to_bytes(request.into_body(), DRAIN_BODY_BYTES).await {
        Ok(bytes) if bytes.len() <= MAX_BODY_BYTES => Ok(bytes),
        // Too large, or the body could not be read, in which case nobody hears the answer.
        _ => Err(too_large()),
    }
}

async fn upsert(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let correlation = correlation_of(&request);
    let started = store::now_millis();
    let bytes = match read_body(request, correlation).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let batch: BatchInputSimplePublicObjectBatchInputUpsert = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                format!(
                    "Invalid input JSON on line {}, column {}: {error}",
                    error.line(),
                    error.column()
                ),
                BTreeMap::new(),
                correlation,
            );
        }
    };
    let inputs = batch.inputs;
    // Answers run to about twice the size of the request; size the buffer once.
    let capacity = bytes.len() * 2 + 1024;
    drop(bytes);
    let checks: Vec<Precheck> = match store::precheck(&state.schema, &inputs) {
        Ok(checks) => checks,
        Err(rejection) => return rejection_response(rejection, correlation),
    };
    let now = store::now_millis();
    let outcome = state.store().upsert(inputs, checks, now);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(rejection) => return rejection_response(rejection, correlation),
    };
    let completed = store::now_millis();
    if outcome.errors.is_empty() {
        let body = BatchResponseSimplePublicUpsertObject {
            completed_at: completed,
            links: BTreeMap::new(),
            requested_at: Some(started),
            results: outcome.results,
            started_at: started,
            status: BatchStatus::Complete,
        };
        json_response(StatusCode::OK, to_json(&body, capacity))
    } else {
        let body = BatchResponseSimplePublicUpsertObjectWithErrors {
            completed_at: completed,
            num_errors: Some(i32::try_from(outcome.errors.len()).unwrap_or(i32::MAX)),
            errors: outcome.errors,
            links: BTreeMap::new(),
            requested_at: Some(started),
            results: outcome.results,
            started_at: started,
            status: BatchStatus::Complete,
        };
        json_response(StatusCode::MULTI_STATUS, to_json(&body, capacity))
    }
}

/// HubSpot's read of one record: `idProperty` and `properties` (comma-separated, repeatable).
async fn read(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Response {
    let correlation = correlation_of(&request);
    let params = match query {
        Ok(Query(params)) => params,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                format!("Invalid query: {error}"),
                BTreeMap::new(),
                correlation,
            );
        }
    };
    let mut id_property: Option<&str> = None;
    let mut wanted: Vec<&str> = Vec::new();
    for (key, value) in &params {
        match key.as_str() {
            "idProperty" if !value.is_empty() => id_property = Some(value),
            "properties" => {
                wanted.extend(value.split(',').map(str::trim).filter(|s| !s.is_empty()))
            }
            _ => {}
        }
    }
    if let Some(name) = id_property
        && let Err(rejection) = store::check_read_id_property(&state.schema, name)
    {
        return rejection_response(rejection, correlation);
    }
    let body = {
        let store = state.store();
        let Some(record) = store.find(id_property, &id) else {
            drop(store);
            return error_response(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                "resource not found".into(),
                BTreeMap::new(),
                correlation,
            );
        };
        let properties = if wanted.is_empty() {
            record.api_properties()
        } else {
            let mut properties: BTreeMap<String, Option<String>> = wanted
                .iter()
                .filter(|name| state.schema.knows(name))
                .map(|name| (name.to_string(), record.value(name)))
                .collect();
            record.add_system_properties(&mut properties);
            properties
        };
        serde_json::json!({
            "id": record.id_text(),
            "properties": properties,
            "createdAt": record.created_at(),
            "updatedAt": record.updated_at(),
            "archived": false,
        })
    };
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

async fn health() -> Response {
    json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
}

/// One line of `/_emulator/records`.
pub(crate) fn record_line(record: RecordRef<'_>, out: &mut Vec<u8>) {
    let line = serde_json::json!({
        "id": record.id_text(),
        "properties": record.properties(),
        "createdAt": record.created_at(),
        "updatedAt": record.updated_at(),
    });
    // Writing JSON values into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &line);
    out.push(b'\n');
}

async fn records(State(state): State<Arc<AppState>>) -> Response {
    let mut body = Vec::new();
    {
        let store = state.store();
        for record in store.all() {
            record_line(record, &mut body);
        }
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        )],
        body,
    )
        .into_response()
}

async fn not_found(request: Request) -> Response {
    let correlation = correlation_of(&request);
    error_response(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("No route for {} {}", request.method(), request.uri().path()),
        BTreeMap::new(),
        correlation,
    )
}
