//! The one error type of the crate, with a variant per kind of failure.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::outcome::RecordError;

/// Everything that can go wrong when talking to HubSpot.
///
/// Each variant that comes from an answer carries HubSpot's correlation id when there is one:
/// quote it to HubSpot support. Messages say what failed and what to do next; they never contain
/// the access token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HubSpot refused the access token (401).
    #[error(
        "HubSpot refused the access token (401): {message}; check that the token is a valid private-app or OAuth access token that has not expired{}",
        corr(.correlation_id)
    )]
    Unauthorized {
        /// HubSpot's message.
        message: String,
        /// HubSpot's correlation id.
        correlation_id: Option<String>,
    },

    /// The token lacks scopes the operation needs (403).
    #[error(
        "the access token lacks the scopes {}: grant them to the app and issue a new token ({message}){}",
        list(.scopes),
        corr(.correlation_id)
    )]
    MissingScopes {
        /// The missing scopes, from the answer's `context.missingScopes`.
        scopes: Vec<String>,
        /// HubSpot's message.
        message: String,
        /// HubSpot's correlation id.
        correlation_id: Option<String>,
    },

    /// HubSpot rejected the request itself (400, or another 4xx that is not about auth or
    /// limits). Retrying does not help: fix the input.
    #[error(
        "HubSpot rejected the request ({status} {category}): {message}{}",
        corr(.correlation_id)
    )]
    Validation {
        /// The HTTP status.
        status: u16,
        /// HubSpot's error category, e.g. `VALIDATION_ERROR`.
        category: String,
        /// HubSpot's message.
        message: String,
        /// HubSpot's context, e.g. the names of offending properties.
        context: BTreeMap<String, Vec<String>>,
        /// HubSpot's correlation id.
        correlation_id: Option<String>,
    },

    /// HubSpot's rate limit stopped the request: the daily limit (never retried), or a
    /// short-window limit that persisted through every allowed attempt.
    #[error(
        "{}: {message}{}",
        if *.daily { "HubSpot's daily request limit is reached; nothing more can be sent until it resets at midnight in the account's time zone" } else { "still rate limited by HubSpot after every allowed attempt; lower the rate budget or raise the retry attempts" },
        corr(.correlation_id)
    )]
    RateLimited {
        /// Whether this is the daily limit.
        daily: bool,
        /// The limit's policy name, e.g. `TEN_SECONDLY_ROLLING` or `DAILY`, when given.
        policy: Option<String>,
        /// HubSpot's message.
        message: String,
        /// How long HubSpot asked to wait (`Retry-After`), when it said so.
        retry_after: Option<Duration>,
        /// HubSpot's correlation id.
        correlation_id: Option<String>,
    },

    /// HubSpot or a proxy in front of it failed (5xx) on every allowed attempt.
    #[error(
        "HubSpot answered {status} (a server error) on every allowed attempt: {message}; try again later{}",
        corr(.correlation_id)
    )]
    Server {
        /// The HTTP status.
        status: u16,
        /// HubSpot's message, or an excerpt of the body (proxies answer with HTML).
        message: String,
        /// HubSpot's correlation id.
        correlation_id: Option<String>,
    },

    /// The request could not be sent or the answer not received (connection refused or reset,
    /// DNS, TLS).
    #[error("could not exchange with HubSpot: {message}; check the network and the base URL")]
    Transport {
        /// What the HTTP stack reported.
        message: String,
    },

    /// No answer arrived in time (the client's timeout, or a 408 from the server).
    #[error("HubSpot did not answer in time ({detail}); raise the timeout or try again later{}", corr(.correlation_id))]
    Timeout {
        /// What timed out.
        detail: String,
        /// 408 when the server said it timed out; `None` for the client's own timeout.
        status: Option<u16>,
        /// HubSpot's correlation id, for a 408.
        correlation_id: Option<String>,
    },

    /// An answer this client cannot read.
    #[error(
        "HubSpot answered {} with a body this client cannot read ({detail}): {body_excerpt:?}{}",
        status.map_or_else(|| "a success status".to_string(), |s| s.to_string()),
        corr(.correlation_id)
    )]
    Undecodable {
        /// The HTTP status, when known (an undecodable success body does not keep it).
        status: Option<u16>,
        /// The start of the body.
        body_excerpt: String,
        /// Why it could not be read.
        detail: String,
        /// HubSpot's correlation id, when the headers carried one.
        correlation_id: Option<String>,
    },

    /// The input given to a single-request call cannot be sent as it is.
    #[error("input {index} (id {id:?}) cannot be sent: {reason}")]
    InvalidInput {
        /// The position of the input in the call.
        index: usize,
        /// The input's id value.
        id: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The client is configured wrongly.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn corr(id: &Option<String>) -> String {
    match id {
        Some(id) => format!(" (HubSpot correlation id {id})"),
        None => String::new(),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(not named by HubSpot)".to_string()
    } else {
        items.join(", ")
    }
}

impl Error {
    /// HubSpot's correlation id for the failed request, when there is one.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { correlation_id, .. }
            | Self::MissingScopes { correlation_id, .. }
            | Self::Validation { correlation_id, .. }
            | Self::RateLimited { correlation_id, .. }
            | Self::Server { correlation_id, .. }
            | Self::Timeout { correlation_id, .. }
            | Self::Undecodable { correlation_id, .. } => correlation_id.as_deref(),
            Self::Transport { .. } | Self::InvalidInput { .. } | Self::Config(_) => None,
        }
    }

    /// The HTTP status of the answer, when the failure came from one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::MissingScopes { .. } => Some(403),
            Self::Validation { status, .. } | Self::Server { status, .. } => Some(*status),
            Self::RateLimited { .. } => Some(429),
            Self::Undecodable { status, .. } | Self::Timeout { status, .. } => *status,
            _ => None,
        }
    }

    /// A short machine-readable kind: HubSpot's category when it gave one.
    pub fn category(&self) -> &str {
        match self {
            Self::Unauthorized { .. } => "UNAUTHORIZED",
            Self::MissingScopes { .. } => "MISSING_SCOPES",
            Self::Validation { category, .. } => category,
            Self::RateLimited { daily: true, .. } => "DAILY_LIMIT_REACHED",
            Self::RateLimited { .. } => "RATE_LIMITS",
            Self::Server { .. } => "SERVER_ERROR",
            Self::Transport { .. } => "TRANSPORT",
            Self::Timeout { .. } => "TIMEOUT",
            Self::Undecodable { .. } => "UNDECODABLE_RESPONSE",
            Self::InvalidInput { .. } => "INVALID_INPUT",
            Self::Config(_) => "CONFIG",
        }
    }

    /// The error as it applies to one record of a failed request.
    pub fn to_record_error(&self) -> RecordError {
        let context = match self {
            Self::Validation { context, .. } => context.clone(),
            Self::MissingScopes { scopes, .. } => {
                BTreeMap::from([("missingScopes".to_string(), scopes.clone())])
            }
            _ => BTreeMap::new(),
        };
        RecordError {
            status: self.status(),
            category: self.category().to_string(),
            message: self.to_string(),
            correlation_id: self.correlation_id().map(str::to_string),
            context,
        }
    }
}
