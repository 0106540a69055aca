//! Reading HubSpot's error answers leniently, and the one place that decides what is retried.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use hubspot_projects_api::CORRELATION_ID_HEADER;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::{Error, with_causes};
use crate::outcome::PropertyError;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again (within the retry policy).
    Retry,
    /// Never retry, and send nothing more in this run: HubSpot's daily limit is reached, or the
    /// token is refused (every further request would fail the same way).
    Stop,
    /// Never retry this request: the request itself is wrong.
    GiveUp,
}

/// The only place that decides whether a failure is worth another attempt.
///
/// Retried: 429s other than the daily limit (HubSpot's `TEN_SECONDLY_ROLLING` and "secondly"
/// kinds, and any 429 that does not say it is daily), 408, 5xx, connection errors and timeouts.
/// Stopping the run: the daily 429, 401 and 403. Never retried: 400, 404, 409 and every other
/// 4xx, and answers that cannot be read.
pub(crate) fn decide(error: &Error) -> Decision {
    match error {
        Error::RateLimited { daily: true, .. }
        | Error::Unauthorized { .. }
        | Error::MissingScopes { .. } => Decision::Stop,
        Error::RateLimited { daily: false, .. }
        | Error::Server { .. }
        | Error::Timeout { .. }
        | Error::Transport { .. }
        | Error::TokenUnavailable { .. } => Decision::Retry,
        Error::Validation { .. }
        | Error::Undecodable { .. }
        | Error::InvalidInput { .. }
        | Error::BatchSize { .. }
        | Error::NotSent(_) => Decision::GiveUp,
    }
}

/// Whether the failure means no answer came from HubSpot at all (nothing on the other end, or
/// nothing in time), which is what counts toward giving up on an unreachable endpoint. (The
/// OAuth token endpoint's failures are told apart before they become errors:
/// [`AuthError::Unreachable`](crate::AuthError::Unreachable).)
pub(crate) fn is_unanswered(error: &Error) -> bool {
    matches!(
        error,
        Error::Transport { .. } | Error::Timeout { status: None, .. }
    )
}

/// Reads the JSON HubSpot embeds in a validation message
/// (`Property values were not valid: [{"isValid":false,"message":…,"error":…,"name":…}]`).
/// Returns nothing when the message carries no such list.
pub(crate) fn property_errors(message: &str) -> Vec<PropertyError> {
    property_entries(message)
        .into_iter()
        .map(|entry| entry.error)
        .collect()
}

/// One entry of the list HubSpot embeds in a validation message: the property's error, and
/// the value HubSpot quotes back as `propertyValue` when it does.
pub(crate) struct PropertyEntry {
    pub(crate) error: PropertyError,
    /// The refused value exactly as HubSpot gives it (a number or a boolean as its JSON text).
    pub(crate) value: Option<String>,
}

/// The entries of the list HubSpot embeds in a validation message; nothing when the message
/// carries no such list.
pub(crate) fn property_entries(message: &str) -> Vec<PropertyEntry> {
    #[derive(serde::Deserialize)]
    struct Entry {
        name: Option<String>,
        error: Option<String>,
        message: Option<String>,
        // Any JSON value: a value of another type must not lose the whole list.
        #[serde(rename = "propertyValue")]
        property_value: Option<Value>,
    }
    let Some(start) = message.find('[') else {
        return Vec::new();
    };
    let Some(end) = message.rfind(']') else {
        return Vec::new();
    };
    if end < start {
        return Vec::new();
    }
    let Ok(entries) = serde_json::from_str::<Vec<Entry>>(&message[start..=end]) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|entry| {
            let value = match entry.property_value {
                Some(Value::String(text)) => Some(text),
                Some(value @ (Value::Number(_) | Value::Bool(_))) => Some(value.to_string()),
                _ => None,
            };
            Some(PropertyEntry {
                error: PropertyError {
                    name: entry.name?,
                    code: entry.error,
                    message: entry.message,
                },
                value,
            })
        })
        .collect()
}

/// The most of the body an error keeps.
const EXCERPT_CHARS: usize = 300;

/// The start of a body as readable text.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_CHARS * 4)];
    String::from_utf8_lossy(head)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

pub(crate) fn correlation_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CORRELATION_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn text(body: &Value, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_string)
}

/// `context` as HubSpot documents it (name → list of strings), keeping what fits that shape.
fn context(body: &Value) -> BTreeMap<String, Vec<String>> {
    let Some(map) = body.get("context").and_then(Value::as_object) else {
        return BTreeMap::new();
    };
    map.iter()
        .map(|(key, value)| {
            let values = match value {
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
                Value::String(s) => vec![s.clone()],
                other => vec![other.to_string()],
            };
            (key.clone(), values)
        })
        .collect()
}

/// Turns an error answer (any status outside 2xx) into an [`Error`], whatever its body.
///
/// JSON bodies give HubSpot's category, message, context and correlation id, whether or not
/// they match the documented `Error` schema (429 bodies have no `category`). Other bodies (the
/// HTML of a proxy's 502) keep their status and an excerpt.
pub(crate) fn error_from_answer(status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let json = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object);
    let correlation_id = json
        .as_ref()
        .and_then(|b| text(b, "correlationId"))
        .or_else(|| correlation_header(headers));
    let message = json
        .as_ref()
        .and_then(|b| text(b, "message"))
        .unwrap_or_else(|| excerpt(body));
    let category = json.as_ref().and_then(|b| text(b, "category"));
    let context = json.as_ref().map(context).unwrap_or_default();

    match status {
        401 => Error::Unauthorized {
            category,
            message,
            correlation_id,
        },
        403 => Error::MissingScopes {
            scopes: context.get("missingScopes").cloned().unwrap_or_default(),
            message,
            correlation_id,
        },
        408 => Error::Timeout {
            detail: format!("HubSpot answered 408: {message}"),
            status: Some(408),
            correlation_id,
            source: None,
        },
        429 => {
            let policy = json.as_ref().and_then(|b| text(b, "policyName"));
            let daily = policy
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("DAILY"))
                || message.to_ascii_lowercase().contains("daily");
            Error::RateLimited {
                daily,
                policy,
                message,
                retry_after: crate::retry::retry_after(headers, SystemTime::now()),
                correlation_id,
            }
        }
        500..=599 => Error::Server {
            status,
            message,
            correlation_id,
        },
        _ if json.is_none() => Error::Undecodable {
            status: Some(status),
            body_excerpt: excerpt(body),
            detail: "not a JSON object".to_string(),
            correlation_id,
        },
        _ => Error::Validation {
            status,
            category: category.unwrap_or_else(|| "UNKNOWN".to_string()),
            message,
            context,
            correlation_id,
        },
    }
}

/// Turns a failure of the HTTP exchange itself into an [`Error`], keeping it as the source.
pub(crate) fn error_from_transport(error: reqwest::Error) -> Error {
    let message = with_causes(&error);
    if error.is_timeout() {
        Error::Timeout {
            detail: format!("the client's timeout elapsed: {message}"),
            status: None,
            correlation_id: None,
            source: Some(Arc::new(error)),
        }
    } else {
        Error::Transport {
            message,
            source: Arc::new(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn answer(status: u16, body: &str) -> Error {
        error_from_answer(status, &HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn ten_secondly_and_secondly_429s_are_retried() {
        let ten = answer(
            429,
            r#"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c-1","policyName":"TEN_SECONDLY_ROLLING","groupName":"g"}"#,
        );
        assert!(
            matches!(&ten, Error::RateLimited { daily: false, policy: Some(p), .. } if p == "TEN_SECONDLY_ROLLING")
        );
        assert_eq!(ten.correlation_id(), Some("c-1"));
        assert_eq!(decide(&ten), Decision::Retry);
        let secondly = answer(
            429,
            r#"{"status":"error","message":"You have reached your secondly limit.","correlationId":"c-2","category":"RATE_LIMITS"}"#,
        );
        assert_eq!(decide(&secondly), Decision::Retry);
        assert_eq!(decide(&answer(429, "")), Decision::Retry);
    }

    #[test]
    fn the_daily_429_stops_everything() {
        let daily = answer(
            429,
            r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c","policyName":"DAILY","groupName":"g"}"#,
        );
        assert!(matches!(daily, Error::RateLimited { daily: true, .. }));
        assert_eq!(decide(&daily), Decision::Stop);
    }

    #[test]
    fn server_errors_keep_their_status_even_with_html() {
        let bad_gateway = answer(502, "<html><body>\n<h1>502 Bad Gateway</h1></body></html>");
        assert!(
            matches!(&bad_gateway, Error::Server { status: 502, message, .. } if message.contains("502 Bad Gateway") && !message.contains('\n'))
        );
        assert_eq!(decide(&bad_gateway), Decision::Retry);
        assert_eq!(decide(&answer(500, "{}")), Decision::Retry);
        assert_eq!(decide(&answer(503, "")), Decision::Retry);
        assert_eq!(decide(&answer(408, "")), Decision::Retry);
    }

    #[test]
    fn client_errors_are_never_retried() {
        let bad = answer(
            400,
            r#"{"status":"error","message":"Property values were not valid","correlationId":"c-400","category":"VALIDATION_ERROR","context":{"propertyName":["hs_pipeline"]}}"#,
        );
        match &bad {
            Error::Validation {
                status,
                category,
                message,
                context,
                correlation_id,
            } => {
                assert_eq!(*status, 400);
                assert_eq!(category, "VALIDATION_ERROR");
                assert_eq!(message, "Property values were not valid");
                assert_eq!(context["propertyName"], ["hs_pipeline"]);
                assert_eq!(correlation_id.as_deref(), Some("c-400"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(decide(&bad), Decision::GiveUp);
        assert_eq!(decide(&answer(404, "{}")), Decision::GiveUp);
        assert_eq!(
            decide(&answer(409, r#"{"category":"CONFLICT"}"#)),
            Decision::GiveUp
        );
        assert!(matches!(
            answer(400, "<html>bad</html>"),
            Error::Undecodable {
                status: Some(400),
                ..
            }
        ));
    }

    #[test]
    fn missing_scopes_come_from_the_context() {
        let forbidden = answer(
            403,
            r#"{"status":"error","message":"This app hasn't been granted all required scopes","correlationId":"c","category":"MISSING_SCOPES","context":{"missingScopes":["crm.objects.projects.write"]}}"#,
        );
        assert!(
            matches!(&forbidden, Error::MissingScopes { scopes, .. } if scopes == &["crm.objects.projects.write"])
        );
        assert!(forbidden.to_string().contains("crm.objects.projects.write"));
        assert_eq!(decide(&forbidden), Decision::Stop);
    }

    #[test]
    fn refused_tokens_stop_the_run() {
        let expired = answer(
            401,
            r#"{"status":"error","message":"The OAuth token used to make this call expired 3 second(s) ago.","correlationId":"c","category":"EXPIRED_AUTHENTICATION"}"#,
        );
        assert!(expired.is_expired_token());
        assert_eq!(decide(&expired), Decision::Stop);
        let plain = answer(401, "{}");
        assert!(matches!(plain, Error::Unauthorized { category: None, .. }));
        assert!(!plain.is_expired_token());
        assert_eq!(decide(&answer(403, "{}")), Decision::Stop);
    }

    #[test]
    fn hubspots_embedded_property_errors_are_read() {
        let message = r#"Property values were not valid: [{"isValid":false,"message":"2027-13-45 is not a valid date","error":"INVALID_DATE","name":"hs_target_due_date","localizedErrorMessage":"x"},{"isValid":false,"message":"nope","error":"INVALID_OPTION","name":"hs_pipeline_stage"}]"#;
        let errors = property_errors(message);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].name, "hs_target_due_date");
        assert_eq!(errors[0].code.as_deref(), Some("INVALID_DATE"));
        assert_eq!(errors[1].code.as_deref(), Some("INVALID_OPTION"));
        assert!(property_errors("Property values were not valid").is_empty());
        assert!(property_errors("odd ] text [").is_empty());
        assert!(property_errors("[1, 2]").is_empty());
    }

    #[test]
    fn the_correlation_header_is_used_when_the_body_has_none() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CORRELATION_ID_HEADER,
            HeaderValue::from_static("from-header"),
        );
        let error = error_from_answer(503, &headers, b"Service Unavailable");
        assert_eq!(error.correlation_id(), Some("from-header"));
        assert!(error.to_string().contains("from-header"));
    }
}
