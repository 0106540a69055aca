//! The `/_emulator/` routes: health, the end state, request statistics, and OAuth counters
//! and revocation for tests. They need no token and are not counted, limited, delayed or faulted.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::answers::{error_response, json_response};
use crate::api::correlation_of;
use crate::body::{self, read_body};
use crate::state::AppState;
use crate::store::RecordRef;

/// `GET /_emulator/health`.
pub(crate) async fn health() -> Response {
    json_response(StatusCode::OK, br#"{"status":"ok"}"#.to_vec())
}

/// One line of `/_emulator/records`.
fn record_line(record: RecordRef<'_>, out: &mut Vec<u8>) {
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

/// `GET /_emulator/records`: every record as NDJSON, in id order.
pub(crate) async fn records(State(state): State<Arc<AppState>>) -> Response {
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

/// `GET /_emulator/stats`: the requests on the HubSpot routes (authenticated or not, refused
/// with a 429 or not) and when the first and the latest arrived, in milliseconds since the
/// epoch (`null` before any). A benchmark measures from them how long a client was sending,
/// at the server, where the rate budget is enforced.
pub(crate) async fn stats(State(state): State<Arc<AppState>>) -> Response {
    let arrivals = state.arrivals_ms();
    let body = serde_json::json!({
        "requests": state.request_count(),
        "firstRequestAt": arrivals.map(|(first, _)| first),
        "lastRequestAt": arrivals.map(|(_, last)| last),
    });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// `GET /_emulator/oauth`: the OAuth counters.
pub(crate) async fn oauth_counters(State(state): State<Arc<AppState>>) -> Response {
    let counters = state.oauth().counters();
    let body = serde_json::json!({
        "refreshes": counters.refreshes,
        "refusedRefreshes": counters.refused_refreshes,
        "accessTokensIssued": counters.access_tokens_issued,
        "refreshTokensRotated": counters.refresh_tokens_rotated,
        "expiredTokenRejections": counters.expired_token_rejections,
        "refreshTokensRevoked": counters.refresh_tokens_revoked,
    });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// What `POST /_emulator/oauth/revoke` revokes: one refresh token, or a whole app.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Revocation {
    refresh_token: Option<String>,
    client_id: Option<String>,
}

/// `POST /_emulator/oauth/revoke` with `{"refreshToken": "…"}` (that token stops working;
/// access tokens issued from it live on, as in HubSpot) or `{"clientId": "…"}` (the app is
/// uninstalled: all its refresh and access tokens stop working). Answers `{"revoked": N}`, the
/// number of refresh tokens revoked.
pub(crate) async fn revoke(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let correlation = correlation_of(&request);
    if let Err(response) = body::require_json(request.headers(), correlation) {
        return *response;
    }
    const LIMIT: usize = 64 * 1024;
    let bytes = match read_body(request, LIMIT, LIMIT, state.body_timeout).await {
        Ok(bytes) => bytes,
        Err(failure) => return body::failure_response(failure, LIMIT, correlation),
    };
    let refused = |message: String| {
        error_response(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            message,
            BTreeMap::new(),
            correlation,
        )
    };
    let revoked = match serde_json::from_slice::<Revocation>(&bytes) {
        Ok(Revocation {
            refresh_token: Some(token),
            client_id: None,
        }) => state.oauth().revoke_refresh_token(&token),
        Ok(Revocation {
            refresh_token: None,
            client_id: Some(client_id),
        }) => state.oauth().revoke_client(&client_id),
        Ok(_) => return refused("give exactly one of refreshToken and clientId".into()),
        Err(error) => return refused(format!("invalid revocation: {error}")),
    };
    let body = serde_json::json!({ "revoked": revoked });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}
