//! The crate's errors: [`Error`] for a request that failed, [`ConfigError`] for a client that
//! cannot be built, and [`ErrorCategory`], the typed kind of a record's failure.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::outcome::RecordError;

/// Everything that can go wrong with a request to HubSpot.
///
/// Each variant that comes from an answer carries HubSpot's correlation id when there is one:
/// quote it to HubSpot support. Messages say what failed and what to do next; they never contain
/// a token or a secret. Failures of the exchange itself keep their cause as
/// [`source`](std::error::Error::source).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HubSpot refused the access token (401).
    #[error(
        "HubSpot refused the access token (401): {message}; check that the token is a valid private-app or OAuth access token that has not expired{}",
        corr(.correlation_id)
    )]
    Unauthorized {
        /// HubSpot's category, e.g. `INVALID_AUTHENTICATION` or `EXPIRED_AUTHENTICATION`.
        category: Option<String>,
        /// HubSpot's message.
        message: String,
        /// HubSpot's correlation id.
        correlation_id: Option<String>,
    },

    /// The token may not make this call (403): it lacks scopes, or the account forbids it.
    #[error(
        "HubSpot refused the call (403): {}{message}{}",
        scopes_text(.scopes),
        corr(.correlation_id)
    )]
    MissingScopes {
        /// The missing scopes, from the answer's `context.missingScopes` (may be empty).
        scopes: Vec<String>,
        /// HubSpot's message.
        message: String,
        /// HubSpot's correlation id.
        correlation_id: Option<String>,
    },

    /// HubSpot rejected the request itself (400, 409, or another 4xx that is not about auth or
    /// limits). Sending it again unchanged does not help.
    #[error(
        "HubSpot rejected the request ({status} {category}): {message}{}",
        corr(.correlation_id)
    )]
    Validation {
        /// The HTTP status.
        status: u16,
        /// HubSpot's error category, e.g. `VALIDATION_ERROR` or `CONFLICT`.
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
        /// What the HTTP stack reported, causes included.
        message: String,
        /// The HTTP stack's error.
        #[source]
        source: Arc<reqwest::Error>,
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
        /// The HTTP stack's error, for the client's own timeout.
        #[source]
        source: Option<Arc<reqwest::Error>>,
    },

    /// An answer this client cannot read.
    #[error(
        "HubSpot answered {} with a body this client cannot read ({detail}): {body_excerpt:?}{}",
        status.map_or_else(|| "without a status".to_string(), |s| s.to_string()),
        corr(.correlation_id)
    )]
    Undecodable {
        /// The HTTP status, when an answer arrived.
        status: Option<u16>,
        /// The start of the body.
        body_excerpt: String,
        /// Why it could not be read.
        detail: String,
        /// HubSpot's correlation id, when the headers carried one.
        correlation_id: Option<String>,
    },

    /// An input given to a single-request call cannot be sent as it is.
    #[error("input {index} (id {id:?}) cannot be sent: {reason}")]
    InvalidInput {
        /// The position of the input in the call.
        index: usize,
        /// The input's id value.
        id: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A single-request call was given no input or more than a request takes.
    #[error(
        "one batch request takes 1 to {max} inputs, not {given}; use upsert or upsert_stream for any number"
    )]
    BatchSize {
        /// The number of inputs given.
        given: usize,
        /// The most one request takes.
        max: usize,
    },

    /// No access token could be had for now: HubSpot's token endpoint failed or did not answer
    /// in time (retried like any request).
    #[error("no access token could be had for now: {message}; try again later")]
    TokenUnavailable {
        /// Why, without any secret.
        message: String,
    },

    /// Sending stopped before this request could go (daily limit, unreachable endpoint,
    /// refused token): see the reason.
    #[error("not sent: {0}")]
    NotSent(crate::outcome::NotAttempted),
}

fn corr(id: &Option<String>) -> String {
    match id {
        Some(id) => format!(" (HubSpot correlation id {id})"),
        None => String::new(),
    }
}

fn scopes_text(scopes: &[String]) -> String {
    if scopes.is_empty() {
        String::new()
    } else {
        format!(
            "the token lacks the scopes {}: grant them to the app and issue a new token; ",
            scopes.join(", ")
        )
    }
}

/// The causes of a transport error, joined, as one line.
pub(crate) fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
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
            Self::Transport { .. }
            | Self::InvalidInput { .. }
            | Self::BatchSize { .. }
            | Self::TokenUnavailable { .. }
            | Self::NotSent(_) => None,
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
            Self::Transport { .. }
            | Self::InvalidInput { .. }
            | Self::BatchSize { .. }
            | Self::TokenUnavailable { .. }
            | Self::NotSent(_) => None,
        }
    }

    /// The kind of failure: HubSpot's category when it gave one, this client's otherwise.
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::Validation { category, .. } => ErrorCategory::HubSpot(category.clone()),
            Self::Unauthorized {
                category: Some(category),
                ..
            } => ErrorCategory::HubSpot(category.clone()),
            Self::Unauthorized { category: None, .. } => ErrorCategory::Unauthorized,
            Self::MissingScopes { .. } => ErrorCategory::MissingScopes,
            Self::RateLimited { daily: true, .. } => ErrorCategory::DailyLimitReached,
            Self::RateLimited { .. } => ErrorCategory::RateLimited,
            Self::Server { .. } => ErrorCategory::ServerError,
            Self::Transport { .. } => ErrorCategory::Transport,
            Self::Timeout { .. } => ErrorCategory::Timeout,
            Self::Undecodable { .. } => ErrorCategory::UndecodableResponse,
            Self::InvalidInput { .. } | Self::BatchSize { .. } => ErrorCategory::InvalidInput,
            Self::TokenUnavailable { .. } => ErrorCategory::TokenUnavailable,
            Self::NotSent(_) => ErrorCategory::NotSent,
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
        let mut error = RecordError::new(self.category(), self.to_string());
        error.status = self.status();
        error.correlation_id = self.correlation_id().map(str::to_string);
        error.context = context;
        if let Self::Validation { message, .. } = self {
            error.set_property_errors(crate::classify::property_errors(message));
        }
        error
    }

    /// Whether the failure says the access token expired (HubSpot's
    /// `EXPIRED_AUTHENTICATION`), so that a fresh token can be asked for.
    pub fn is_expired_token(&self) -> bool {
        matches!(self, Self::Unauthorized { category: Some(c), .. } if c == "EXPIRED_AUTHENTICATION")
    }
}

/// The kind of a failure: HubSpot's own category, or one of this client's.
///
/// Compare it with HubSpot's spelling directly: `category == "VALIDATION_ERROR"`.
///
/// ```
/// use hubspot_projects::ErrorCategory;
/// let hubspot = ErrorCategory::HubSpot("VALIDATION_ERROR".into());
/// assert_eq!(hubspot, "VALIDATION_ERROR");
/// assert_eq!(ErrorCategory::Unconfirmed.as_str(), "UNCONFIRMED");
/// assert_eq!(ErrorCategory::from("INVALID_INPUT"), ErrorCategory::InvalidInput);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// HubSpot's category, as it spelled it: `VALIDATION_ERROR`, `CONFLICT`,
    /// `OBJECT_NOT_FOUND`, `INVALID_AUTHENTICATION`, `EXPIRED_AUTHENTICATION`…
    HubSpot(String),
    /// `INVALID_INPUT`: refused before sending (HubSpot would refuse it).
    InvalidInput,
    /// `UNCONFIRMED`: HubSpot's answer neither confirmed nor named the input.
    Unconfirmed,
    /// `UNAUTHORIZED`: a 401 without a category.
    Unauthorized,
    /// `MISSING_SCOPES`: a 403.
    MissingScopes,
    /// `RATE_LIMITS`: still rate limited after every allowed attempt.
    RateLimited,
    /// `DAILY_LIMIT_REACHED`: HubSpot's daily limit.
    DailyLimitReached,
    /// `SERVER_ERROR`: 5xx on every allowed attempt.
    ServerError,
    /// `TRANSPORT`: no exchange (connection refused or reset, DNS, TLS).
    Transport,
    /// `TIMEOUT`: no answer in time.
    Timeout,
    /// `UNDECODABLE_RESPONSE`: an answer this client cannot read.
    UndecodableResponse,
    /// `TOKEN_UNAVAILABLE`: no access token could be had for now.
    TokenUnavailable,
    /// `NOT_SENT`: sending had stopped.
    NotSent,
    /// `INTERNAL`: a failure inside this client (a bug); the input was not confirmed.
    Internal,
}

impl ErrorCategory {
    const OURS: [(Self, &'static str); 13] = [
        (Self::InvalidInput, "INVALID_INPUT"),
        (Self::Unconfirmed, "UNCONFIRMED"),
        (Self::Unauthorized, "UNAUTHORIZED"),
        (Self::MissingScopes, "MISSING_SCOPES"),
        (Self::RateLimited, "RATE_LIMITS"),
        (Self::DailyLimitReached, "DAILY_LIMIT_REACHED"),
        (Self::ServerError, "SERVER_ERROR"),
        (Self::Transport, "TRANSPORT"),
        (Self::Timeout, "TIMEOUT"),
        (Self::UndecodableResponse, "UNDECODABLE_RESPONSE"),
        (Self::TokenUnavailable, "TOKEN_UNAVAILABLE"),
        (Self::NotSent, "NOT_SENT"),
        (Self::Internal, "INTERNAL"),
    ];

    /// The category as text: HubSpot's spelling, or this client's.
    pub fn as_str(&self) -> &str {
        match self {
            Self::HubSpot(category) => category,
            ours => Self::OURS
                .iter()
                .find(|(kind, _)| kind == ours)
                .map_or("UNKNOWN", |(_, text)| text),
        }
    }

    /// Whether HubSpot named this category (rather than this client).
    pub fn is_hubspot(&self) -> bool {
        matches!(self, Self::HubSpot(_))
    }
}

impl From<&str> for ErrorCategory {
    /// This client's category of that spelling, or HubSpot's.
    fn from(text: &str) -> Self {
        Self::OURS
            .iter()
            .find(|(_, spelled)| *spelled == text)
            .map_or_else(|| Self::HubSpot(text.to_string()), |(kind, _)| kind.clone())
    }
}

impl fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCategory {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCategory {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Why a [`ClientBuilder`](crate::ClientBuilder) could not build a client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No way to authenticate was given.
    #[error(
        "no credentials: set an access token (access_token), OAuth credentials (oauth), a token source (token_source), or give a ready http_client"
    )]
    NoCredentials,
    /// The access token cannot be used.
    #[error("the access token {0}")]
    BadToken(&'static str),
    /// The base URL is not a URL, or not one the client may use.
    #[error("base URL {url:?}: {reason}")]
    BadBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Plain `http://` to a host that is not loopback: the token would travel in clear.
    #[error(
        "base URL {url:?} is plain http to a host that is not loopback, so the token would travel in clear: use https (or allow insecure http explicitly)"
    )]
    InsecureBaseUrl {
        /// The URL as given.
        url: String,
    },
    /// A setting is out of its range.
    #[error("{setting} is {value}, outside {range}")]
    OutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        range: String,
    },
    /// The API version is not one of the contract's.
    #[error("API version {given:?} is not one this client knows; known versions: {known}")]
    UnknownApiVersion {
        /// The version asked for.
        given: String,
        /// The versions the contract holds.
        known: String,
    },
    /// A TLS setting cannot be used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    /// A budget store could not be set up.
    #[error("rate budget store: {0}")]
    BudgetStore(String),
}
