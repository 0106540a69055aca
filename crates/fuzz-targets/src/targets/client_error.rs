//! `client_error`: any error answer, read by the client as its engine reads it.
//!
//! The input is a [`Case`]: the first line is the status (a number; anything else picks one
//! of HubSpot's error statuses from its bytes), the other head lines are response headers,
//! and the body follows the blank line.
//!
//! ```text
//! 429
//! x-hubspot-correlation-id: 7d7f0f5e-0d4e-4f7c-9a8b-3c2d1e0f9a8b
//! retry-after: 3
//!
//! {"status":"error","message":"You have reached your daily limit.","policyName":"DAILY"}
//! ```

use hubspot_projects::Error;
use hubspot_projects::fuzz_support::error_from_answer;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::case::Case;

/// The statuses a status line that is not a number stands for.
const STATUSES: [u16; 13] = [
    400, 401, 403, 404, 408, 409, 413, 415, 429, 500, 502, 503, 504,
];

/// The header HubSpot's correlation id comes in.
const CORRELATION_HEADER: &str = hubspot_projects::CORRELATION_ID_HEADER;

/// The status a case's first line names.
pub fn status_of(line: &[u8]) -> u16 {
    std::str::from_utf8(line)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| {
            let pick = line.iter().fold(0usize, |sum, b| sum + usize::from(*b));
            STATUSES[pick % STATUSES.len()]
        })
}

/// The head lines after the first as headers; lines that are not valid headers are left out,
/// as no HTTP stack would deliver them.
pub fn headers_of(case: &Case<'_>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in case.header_lines() {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    headers
}

/// Runs one input; panics when a check fails.
pub fn run(data: &[u8]) {
    let case = Case::parse(data);
    let status = status_of(case.first_line());
    let headers = headers_of(&case);
    let body = case.body;
    let error = error_from_answer(status, &headers, body);

    assert_eq!(
        error.status(),
        Some(status),
        "the status is kept: {error:?}"
    );

    let json = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object);
    let text = |key: &str| {
        json.as_ref()
            .and_then(|body| body.get(key))
            .and_then(Value::as_str)
    };
    let expected_correlation = text("correlationId").map(str::to_string).or_else(|| {
        headers
            .get(CORRELATION_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    assert_eq!(
        error.correlation_id(),
        expected_correlation.as_deref(),
        "the body's correlation id, else the header's"
    );

    let shown = error.to_string();
    if let Some(id) = error.correlation_id() {
        assert!(
            shown.contains(id),
            "the message quotes the correlation id: {shown}"
        );
    }
    let message = match &error {
        Error::Unauthorized { message, .. }
        | Error::MissingScopes { message, .. }
        | Error::Validation { message, .. }
        | Error::RateLimited { message, .. }
        | Error::Server { message, .. } => Some(message.as_str()),
        Error::Undecodable { body_excerpt, .. } => {
            check_excerpt(body_excerpt);
            None
        }
        Error::Timeout { detail, .. } => {
            assert!(detail.contains("408"), "{detail}");
            None
        }
        other => panic!("an answer read as a failure without an answer: {other:?}"),
    };
    if let Some(message) = message {
        match text("message") {
            Some(written) => assert_eq!(message, written, "HubSpot's message is kept"),
            None => check_excerpt(message),
        }
    }

    match &error {
        Error::Undecodable { .. } => assert!(
            json.is_none() && !matches!(status, 401 | 403 | 408 | 429 | 500..=599),
            "only a body that is not a JSON object, under a status without a kind of its own, is undecodable"
        ),
        Error::RateLimited { daily, policy, .. } => {
            assert_eq!(status, 429);
            assert_eq!(policy.as_deref(), text("policyName"));
            let message = message.unwrap_or_default().to_ascii_lowercase();
            let expected = policy
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("DAILY"))
                || message.contains("daily");
            assert_eq!(
                *daily, expected,
                "the daily 429 is told apart from the others"
            );
        }
        Error::MissingScopes { scopes, .. } => {
            let listed: Vec<&str> = json
                .as_ref()
                .and_then(|body| body.pointer("/context/missingScopes"))
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for scope in listed {
                assert!(scopes.iter().any(|s| s == scope), "scope {scope:?} is kept");
            }
        }
        _ => {}
    }

    let record = error.to_record_error();
    assert_eq!(record.status, Some(status));
    assert_eq!(record.category, error.category());
    assert_eq!(record.correlation_id.as_deref(), error.correlation_id());
    let _ = record.to_string();
}

/// An excerpt of a body is short, and has no control characters to break a log line.
fn check_excerpt(excerpt: &str) {
    assert!(
        excerpt.chars().count() <= 300,
        "an excerpt of {} characters",
        excerpt.chars().count()
    );
    assert!(
        !excerpt.chars().any(char::is_control),
        "a control character in the excerpt {excerpt:?}"
    );
    assert_eq!(excerpt.trim(), excerpt);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smoke::{files_in, fuzz_dir};
    use std::collections::BTreeSet;

    #[test]
    fn the_seeds_reach_every_kind_of_error() {
        let mut seen = BTreeSet::new();
        for (_, seed) in files_in(&fuzz_dir().join("seeds/client_error")) {
            let case = Case::parse(&seed);
            let error =
                error_from_answer(status_of(case.first_line()), &headers_of(&case), case.body);
            let kind = match &error {
                Error::RateLimited { daily: true, .. } => "daily limit".to_string(),
                other => format!("{other:?}")
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            };
            seen.insert(kind);
        }
        for kind in [
            "Unauthorized",
            "MissingScopes",
            "Validation",
            "RateLimited",
            "daily limit",
            "Server",
            "Timeout",
            "Undecodable",
        ] {
            assert!(seen.contains(kind), "no seed gives {kind}: {seen:?}");
        }
    }
}
