//! HubSpot's OAuth token endpoint (`POST /oauth/v1/token` and its versioned spellings), for
//! the refresh grant.
//!
//! A success is HubSpot's `AccessTokenResponse`: `token_type` (`bearer`), `access_token`,
//! `refresh_token`, `expires_in` (seconds), `token_use` (`access_token`), `hub_id` and
//! `scopes`. A refusal is a 400 whose body carries both HubSpot's observed OAuth fields
//! (`status`, like `BAD_REFRESH_TOKEN`, and `message`) and its `Error` schema's
//! (`category`, `correlationId`), plus the OAuth 2.0 `error` and `error_description`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::answers::json_response;
use crate::api::correlation_of;
use crate::body::{self, read_body};
use crate::config::{READ_SCOPE, WRITE_SCOPE};
use crate::oauth::TokenRequest;
use crate::state::AppState;

/// The emulator's account id, as `hub_id`.
pub(crate) const HUB_ID: u32 = 1;

/// A token request's body is small.
const LIMIT: usize = 64 * 1024;

/// Reads the parameters HubSpot takes from the form body, and from the query string, where
/// its v1 spec also declares them (the body wins).
fn token_request(query: Option<&str>, body: &[u8]) -> TokenRequest {
    let mut request = TokenRequest::default();
    let pairs = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .chain(form_urlencoded::parse(body));
    for (key, value) in pairs {
        let slot = match key.as_ref() {
            "grant_type" => &mut request.grant_type,
            "client_id" => &mut request.client_id,
            "client_secret" => &mut request.client_secret,
            "refresh_token" => &mut request.refresh_token,
            _ => continue,
        };
        *slot = Some(value.into_owned()).filter(|v| !v.is_empty());
    }
    request
}

/// `POST /oauth/<version>/token`, in each version of the OAuth contract ([`crate::TOKEN_PATHS`]).
pub(crate) async fn token(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let correlation = correlation_of(&request);
    if let Err(response) = body::require_form(request.headers(), correlation) {
        return *response;
    }
    let query = request.uri().query().map(str::to_string);
    let bytes = match read_body(request, LIMIT, LIMIT, state.body_timeout).await {
        Ok(bytes) => bytes,
        Err(failure) => return body::failure_response(failure, LIMIT, correlation),
    };
    let params = token_request(query.as_deref(), &bytes);
    let answer = state.oauth().refresh(&params, Instant::now());
    match answer {
        Ok(issued) => {
            let body = serde_json::json!({
                "token_type": "bearer",
                "access_token": issued.access_token,
                "refresh_token": issued.refresh_token,
                "expires_in": issued.expires_in,
                "token_use": "access_token",
                "hub_id": HUB_ID,
                "scopes": [READ_SCOPE, WRITE_SCOPE, "oauth"],
            });
            json_response(StatusCode::OK, body.to_string().into_bytes())
        }
        Err(refusal) => {
            let body = serde_json::json!({
                "status": refusal.status(),
                "message": refusal.message(),
                "correlationId": correlation,
                "category": "VALIDATION_ERROR",
                "error": refusal.oauth_error(),
                "error_description": refusal.message(),
            });
            json_response(StatusCode::BAD_REQUEST, body.to_string().into_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_read_from_body_and_query() {
        let request = token_request(
            Some("client_secret=from-query&refresh_token=q"),
            b"grant_type=refresh_token&client_id=app%3A1&refresh_token=r%2B1&redirect_uri=x",
        );
        assert_eq!(request.grant_type.as_deref(), Some("refresh_token"));
        assert_eq!(request.client_id.as_deref(), Some("app:1"));
        assert_eq!(request.client_secret.as_deref(), Some("from-query"));
        assert_eq!(request.refresh_token.as_deref(), Some("r+1"));
        assert_eq!(token_request(None, b"client_id=").client_id, None);
    }
}
