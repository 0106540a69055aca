//! The HTTP face: the routes, the gate every HubSpot route passes (auth, budgets, faults,
//! latency), and the connection loop.

use std::borrow::Cow;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::api::{self, CorrelationId};
use crate::config::{EmulatorConfig, READ_SCOPE, WRITE_SCOPE};
use crate::faults::Failure;
use crate::oauth::{AccessCheck, expired_message};
use crate::paths::{TOKEN_PATHS, UPSERT_PATHS};
use crate::state::AppState;
use crate::{admin, answers, token_endpoint};

/// Closes the request's connection without an answer when notified.
#[derive(Clone, Debug)]
struct ConnectionKill(Arc<Notify>);

/// The application: the routes of the versions `config` serves, every HubSpot route behind
/// the gate.
pub(crate) fn router(state: Arc<AppState>, config: &EmulatorConfig) -> Router {
    let mut router = Router::new();
    for path in UPSERT_PATHS
        .iter()
        .filter(|path| config.serves_version(path.version))
    {
        router = router
            .route(path.path, post(api::upsert))
            .route(&path.read_path(), get(api::read));
    }
    for path in TOKEN_PATHS {
        router = router.route(path, post(token_endpoint::token));
    }
    router
        .route("/_emulator/health", get(admin::health))
        .route("/_emulator/records", get(admin::records))
        .route("/_emulator/stats", get(admin::stats))
        .route("/_emulator/oauth", get(admin::oauth_counters))
        .route("/_emulator/oauth/revoke", post(admin::revoke))
        .fallback(api::not_found)
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
        // Bounds how long a client may take to send its headers (30 s by default); the
        // handlers bound the body.
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

/// What the gate decided for a request.
enum Verdict {
    /// This answer, with the rate-limit headers when a budget is configured.
    Answer(Response, Option<crate::limits::Budget>),
    /// Close the connection without an answer.
    Drop(Option<ConnectionKill>),
}

/// Stamps the correlation id on every answer; the emulator's own routes answer at once. Every
/// other answer leaves after the latency, counted from the request's arrival: the OAuth token
/// endpoint's is drawn from a stream of its own, and that is all of the gate it passes. The
/// HubSpot routes also pass the bearer token (401, 403), the budgets (429) and the faults.
async fn gate(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    let correlation = Uuid::new_v4();
    request.extensions_mut().insert(CorrelationId(correlation));
    let path = request.uri().path();
    if path.starts_with("/_emulator/") {
        let mut response = next.run(request).await;
        answers::stamp(&mut response, correlation, None);
        return response;
    }
    let token_endpoint = TOKEN_PATHS.contains(&path);
    let latency = if token_endpoint {
        state.token_latency.draw()
    } else {
        state.count_request();
        state.latency.draw()
    };
    let mut answer_at = (!latency.is_zero()).then(|| tokio::time::Instant::now() + latency);
    let verdict = if token_endpoint {
        Verdict::Answer(next.run(request).await, None)
    } else {
        admit(&state, request, next, correlation, &mut answer_at).await
    };
    if let Some(at) = answer_at {
        tokio::time::sleep_until(at).await;
    }
    match verdict {
        Verdict::Answer(mut response, budget) => {
            answers::stamp(&mut response, correlation, budget);
            response
        }
        Verdict::Drop(kill) => {
            if let Some(ConnectionKill(kill)) = kill {
                kill.notify_one();
                // The connection task drops this future with the connection.
                std::future::pending::<()>().await;
            }
            answers::fault_response(Failure::DropConnection, correlation)
        }
    }
}

/// Authenticates, counts the request against its caller's budgets, draws its faults, and
/// runs it when none fails. The latency fault's delay is added to `answer_at`, if any.
async fn admit(
    state: &AppState,
    request: Request,
    next: Next,
    correlation: Uuid,
    answer_at: &mut Option<tokio::time::Instant>,
) -> Verdict {
    let scope = if request.method() == Method::POST {
        WRITE_SCOPE
    } else {
        READ_SCOPE
    };
    let (budget, admitted) = match authenticate(state, request.headers(), scope, correlation) {
        Ok(key) => state.limiter.admit(&key),
        Err(response) => return Verdict::Answer(*response, Some(state.limiter.full_budget())),
    };
    let budget = state.limiter.enabled().then_some(budget);
    if let Err(policy) = admitted {
        return Verdict::Answer(answers::rate_limited(policy, correlation), budget);
    }
    let draw = state.faults.draw();
    if draw.latency {
        let delay = Duration::from_millis(state.faults.latency_ms());
        tokio::time::sleep(delay).await;
        if let Some(at) = answer_at {
            *at += delay;
        }
    }
    match draw.failure {
        None => Verdict::Answer(next.run(request).await, budget),
        Some(Failure::DropConnection) => {
            Verdict::Drop(request.extensions().get::<ConnectionKill>().cloned())
        }
        Some(failure) => Verdict::Answer(answers::fault_response(failure, correlation), budget),
    }
}

/// The budget key of an OAuth app: bearer tokens cannot start with a NUL, so it never meets
/// a static token's.
fn app_key(client_id: &str) -> String {
    format!("\0app:{client_id}")
}

/// The bearer token of a request, if it is accepted and holds `scope`: its budget key, or
/// HubSpot's 401 or 403.
fn authenticate<'a>(
    state: &AppState,
    headers: &'a HeaderMap,
    scope: &str,
    correlation: Uuid,
) -> Result<Cow<'a, str>, Box<Response>> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(Box::new(answers::missing_credentials(correlation)));
    };
    if state.oauth_enabled {
        let check = state.oauth().check(token, Instant::now());
        match check {
            AccessCheck::Valid { client_id } => return Ok(Cow::Owned(app_key(&client_id))),
            AccessCheck::Expired { ago, expired_at } => {
                return Err(Box::new(answers::expired_token(
                    expired_message(ago),
                    expired_at,
                    correlation,
                )));
            }
            AccessCheck::Revoked => return Err(Box::new(answers::invalid_token(correlation))),
            AccessCheck::NotIssued => {}
        }
    }
    let Some(tokens) = &state.tokens else {
        return Ok(Cow::Borrowed(token));
    };
    let Some(grant) = tokens.get(token) else {
        return Err(Box::new(answers::invalid_token(correlation)));
    };
    if !grant.has_scope(scope) {
        return Err(Box::new(answers::missing_scope(scope, correlation)));
    }
    Ok(Cow::Borrowed(token))
}
