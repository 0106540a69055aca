//! Reading request bodies: the media type a route takes, a size limit, and a time limit.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use uuid::Uuid;

use crate::answers;

/// The essence of a `Content-Type` (`application/json; charset=UTF-8` → `application/json`),
/// lowercased.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// Accepts `application/json` and its `+json` kin; answers anything else, a missing type
/// included, with a 415.
pub(crate) fn require_json(headers: &HeaderMap, correlation: Uuid) -> Result<(), Box<Response>> {
    match media_type(headers) {
        Some(t)
            if t == "application/json"
                || (t.starts_with("application/") && t.ends_with("+json")) =>
        {
            Ok(())
        }
        other => Err(Box::new(answers::unsupported_media_type(
            other.as_deref(),
            "application/json",
            correlation,
        ))),
    }
}

/// Accepts `application/x-www-form-urlencoded`, as HubSpot's token endpoint requires; answers
/// anything else with a 415.
pub(crate) fn require_form(headers: &HeaderMap, correlation: Uuid) -> Result<(), Box<Response>> {
    match media_type(headers) {
        Some(t) if t == "application/x-www-form-urlencoded" => Ok(()),
        other => Err(Box::new(answers::unsupported_media_type(
            other.as_deref(),
            "application/x-www-form-urlencoded",
            correlation,
        ))),
    }
}

/// How a body read ended when it did not give a body.
pub(crate) enum BodyFailure {
    /// Over the limit, or broken off (then nobody hears the answer).
    TooLarge,
    /// The client stopped sending for longer than the timeout.
    TimedOut,
}

/// Reads a body of at most `limit` bytes within `timeout`.
///
/// Bodies up to `drain` bytes (at least `limit`) are read to the end before a 413, so that the
/// client, still writing, sees the answer rather than a reset connection.
pub(crate) async fn read_body(
    request: Request,
    limit: usize,
    drain: usize,
    timeout: Duration,
) -> Result<Bytes, BodyFailure> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > drain as u64) {
        return Err(BodyFailure::TooLarge);
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(request.into_body(), drain)).await {
        Err(_) => Err(BodyFailure::TimedOut),
        Ok(Ok(bytes)) if bytes.len() <= limit => Ok(bytes),
        Ok(_) => Err(BodyFailure::TooLarge),
    }
}

/// HubSpot's answer to a body that could not be read.
pub(crate) fn failure_response(failure: BodyFailure, limit: usize, correlation: Uuid) -> Response {
    match failure {
        BodyFailure::TimedOut => answers::body_timeout(correlation),
        BodyFailure::TooLarge => answers::error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "VALIDATION_ERROR",
            format!("The request body is larger than the limit of {limit} bytes"),
            BTreeMap::new(),
            correlation,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_type(value: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn json_and_its_kin_pass_and_the_rest_is_a_415() {
        let id = Uuid::nil();
        for ok in [
            "application/json",
            "Application/JSON; charset=UTF-8",
            "application/vnd.hubspot+json",
        ] {
            assert!(require_json(&with_type(Some(ok)), id).is_ok(), "{ok}");
        }
        for refused in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("json"),
            None,
        ] {
            let response = require_json(&with_type(refused), id).unwrap_err();
            assert_eq!(
                response.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{refused:?}"
            );
        }
        assert!(
            require_form(
                &with_type(Some("application/x-www-form-urlencoded; charset=utf-8")),
                id
            )
            .is_ok()
        );
        assert!(require_form(&with_type(Some("application/json")), id).is_err());
    }
}
