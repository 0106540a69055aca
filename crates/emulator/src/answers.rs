//! HubSpot's answers, built: `Error` bodies through the generated types, and HubSpot's own
//! off-spec shapes (429 bodies, an HTML 502, the expired-token 401).

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use hubspot_projects_api::types::{Error as ApiError, ErrorDetail};
use uuid::Uuid;

use crate::error_shapes::Rejection;
use crate::faults::Failure;
use crate::headers::{self, rate_limit};
use crate::limits::{Budget, Policy};

/// A JSON body with a status.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
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
pub(crate) fn to_json<T: serde::Serialize>(value: &T, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    // Serializing the generated types into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out, value);
    out
}

/// HubSpot's `Error` body.
fn api_error(
    category: &str,
    message: String,
    context: BTreeMap<String, Vec<String>>,
    errors: Vec<ErrorDetail>,
    correlation: Uuid,
) -> ApiError {
    ApiError {
        category: category.to_string(),
        context,
        correlation_id: correlation,
        errors,
        links: BTreeMap::new(),
        message,
        sub_category: None,
    }
}

/// An answer with HubSpot's `Error` body.
pub(crate) fn error_response(
    status: StatusCode,
    category: &str,
    message: String,
    context: BTreeMap<String, Vec<String>>,
    correlation: Uuid,
) -> Response {
    let body = api_error(category, message, context, Vec::new(), correlation);
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

/// A whole request refused.
pub(crate) fn rejection_response(rejection: Rejection, correlation: Uuid) -> Response {
    let status = StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = api_error(
        rejection.category,
        rejection.message,
        rejection.context,
        rejection.errors,
        correlation,
    );
    json_response(status, serde_json::to_vec(&body).unwrap_or_default())
}

/// The 401 for a request without a bearer token.
pub(crate) fn missing_credentials(correlation: Uuid) -> Response {
    error_response(
        StatusCode::UNAUTHORIZED,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview".into(),
        BTreeMap::new(),
        correlation,
    )
}

/// The 401 for a token the emulator does not accept.
pub(crate) fn invalid_token(correlation: Uuid) -> Response {
    error_response(
        StatusCode::UNAUTHORIZED,
        "INVALID_AUTHENTICATION",
        "The access token provided is invalid or expired. Check the token or generate a new one."
            .into(),
        BTreeMap::new(),
        correlation,
    )
}

/// HubSpot's 401 for an expired OAuth access token: an `Error` body with `status: "error"`,
/// category `EXPIRED_AUTHENTICATION`, a message saying how long ago it expired, and the time
/// of expiry in `context["expire time"]`.
pub(crate) fn expired_token(
    message: String,
    expired_at: DateTime<Utc>,
    correlation: Uuid,
) -> Response {
    let context = BTreeMap::from([(
        "expire time".to_string(),
        vec![expired_at.to_rfc3339_opts(SecondsFormat::Millis, true)],
    )]);
    let body = api_error(
        "EXPIRED_AUTHENTICATION",
        message,
        context,
        Vec::new(),
        correlation,
    );
    let mut body = serde_json::to_value(&body).unwrap_or_default();
    if let Some(object) = body.as_object_mut() {
        object.insert("status".into(), "error".into());
    }
    json_response(StatusCode::UNAUTHORIZED, body.to_string().into_bytes())
}

/// HubSpot's 403 for a token without the scope.
pub(crate) fn missing_scope(scope: &str, correlation: Uuid) -> Response {
    let context = BTreeMap::from([("missingScopes".to_string(), vec![scope.to_string()])]);
    error_response(
        StatusCode::FORBIDDEN,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.".into(),
        context,
        correlation,
    )
}

/// HubSpot's 429 bodies, which do not follow its `Error` schema.
pub(crate) fn rate_limited(policy: Policy, correlation: Uuid) -> Response {
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

/// The 415 for a body that is not JSON.
pub(crate) fn unsupported_media_type(
    content_type: Option<&str>,
    expected: &str,
    correlation: Uuid,
) -> Response {
    let given = content_type.unwrap_or("none");
    error_response(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "VALIDATION_ERROR",
        format!("Unsupported Content-Type {given:?}: send the body as {expected}"),
        BTreeMap::new(),
        correlation,
    )
}

/// The 408 for a body that did not arrive in time; the connection is closed after it.
pub(crate) fn body_timeout(correlation: Uuid) -> Response {
    let mut response = error_response(
        StatusCode::REQUEST_TIMEOUT,
        "TIMEOUT",
        "The request body did not arrive in time".into(),
        BTreeMap::new(),
        correlation,
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n";

/// The answer of a failing fault (a dropped connection has none: the gate closes it).
pub(crate) fn fault_response(failure: Failure, correlation: Uuid) -> Response {
    match failure {
        Failure::ServerError | Failure::DropConnection => error_response(
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
    }
}

/// Stamps the correlation id, and the rate-limit headers when a budget is configured.
pub(crate) fn stamp(response: &mut Response, correlation: Uuid, budget: Option<Budget>) {
    let headers = response.headers_mut();
    let mut buf = Uuid::encode_buffer();
    if let Ok(value) = HeaderValue::from_str(correlation.hyphenated().encode_lower(&mut buf)) {
        headers.insert(headers::CORRELATION_ID, value);
    }
    let Some(budget) = budget else { return };
    if let Some((max, remaining, interval)) = budget.rolling {
        headers.insert(rate_limit::MAX, HeaderValue::from(max));
        headers.insert(rate_limit::REMAINING, HeaderValue::from(remaining));
        headers.insert(
            rate_limit::INTERVAL_MILLISECONDS,
            HeaderValue::from(interval as u64),
        );
    }
    if let Some((max, remaining)) = budget.daily {
        headers.insert(rate_limit::DAILY, HeaderValue::from(max));
        headers.insert(rate_limit::DAILY_REMAINING, HeaderValue::from(remaining));
    }
}
