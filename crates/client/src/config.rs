//! Building a [`Client`]: the token, where to send, and how hard to push.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};

use crate::client::Client;
use crate::error::Error;
use crate::pace::RateBudget;
use crate::retry::RetryPolicy;

/// HubSpot's API.
pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";

/// The user agent sent unless another is set: this crate's name and version.
pub const DEFAULT_USER_AGENT: &str =
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// How long a request may take unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Requests in flight at once unless set otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4;

/// The most inputs HubSpot takes in one batch request.
pub const MAX_BATCH_SIZE: usize = 100;

/// Configures a [`Client`]. Start from [`Client::builder`].
///
/// `Debug` output never shows the access token.
///
/// ```
/// use std::time::Duration;
/// use hubspot_projects::{Client, RetryPolicy};
/// let client = Client::builder()
///     .access_token("pat-na1-…")
///     .rate_budget("190/10s".parse().unwrap())
///     .max_in_flight(6)
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default().with_max_attempts(8))
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("pat-na1"));
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    pub(crate) access_token: Option<String>,
    pub(crate) base_url: String,
    pub(crate) allow_insecure_http: bool,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) rate_budget: RateBudget,
    pub(crate) max_in_flight: usize,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) batch_size: usize,
    pub(crate) http_client: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            access_token: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            allow_insecure_http: false,
            timeout: DEFAULT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            rate_budget: RateBudget::default(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            retry_policy: RetryPolicy::default(),
            batch_size: MAX_BATCH_SIZE,
            http_client: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("base_url", &self.base_url)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("rate_budget", &self.rate_budget)
            .field("max_in_flight", &self.max_in_flight)
            .field("retry_policy", &self.retry_policy)
            .field("batch_size", &self.batch_size)
            .field("http_client", &self.http_client.as_ref().map(|_| "<given>"))
            .finish()
    }
}

impl ClientBuilder {
    /// The private-app or OAuth access token, sent as `Authorization: Bearer …` and never
    /// printed.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Where to send requests; defaults to [`DEFAULT_BASE_URL`]. Plain `http://` is refused
    /// unless the host is loopback or [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Allows plain `http://` to hosts other than loopback (the token then travels in clear).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// How long one request may take, connecting included; defaults to 60 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent`; defaults to [`DEFAULT_USER_AGENT`].
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The rate budget; defaults to HubSpot's lowest, 100 requests per 10 s.
    pub fn rate_budget(mut self, budget: RateBudget) -> Self {
        self.rate_budget = budget;
        self
    }

    /// The most requests in flight at once, across all clones of the client; defaults to 4.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self
    }

    /// When to retry; defaults to [`RetryPolicy::default`].
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = policy;
        self
    }

    /// Inputs per request in [`Client::upsert`] and [`Client::upsert_stream`]; at most 100,
    /// the default.
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size;
        self
    }

    /// A ready HTTP client, used instead of the token, timeout and user agent: it must send the
    /// `Authorization` header itself.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = check_base_url(&self.base_url, self.allow_insecure_http)?;
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(Error::Config(format!(
                "batch size {} is outside 1..={MAX_BATCH_SIZE}",
                self.batch_size
            )));
        }
        if self.max_in_flight == 0 {
            return Err(Error::Config("max_in_flight must be at least 1".into()));
        }
        let http = match self.http_client.clone() {
            Some(http) => http,
            None => self.http()?,
        };
        Ok(Client::from_parts(self, base_url, http))
    }

    fn http(&self) -> Result<reqwest::Client, Error> {
        let token = self.access_token.as_deref().ok_or_else(|| {
            Error::Config(
                "no access token: set one with access_token(…), or give a ready http_client(…)"
                    .into(),
            )
        })?;
        if token.trim().is_empty() {
            return Err(Error::Config("the access token is empty".into()));
        }
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", token.trim())).map_err(|_| {
                Error::Config(
                    "the access token holds characters that cannot be sent in a header".into(),
                )
            })?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(self.user_agent.clone())
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(self.max_in_flight.max(1))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
    }
}

fn check_base_url(text: &str, allow_insecure_http: bool) -> Result<String, Error> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| Error::Config(format!("base URL {text:?} is not a URL: {e}")))?;
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback || allow_insecure_http => {}
        "http" => {
            return Err(Error::Config(format!(
                "base URL {text:?} is plain http to a host that is not loopback: the token would travel in clear; use https, or allow_insecure_http(true)"
            )));
        }
        other => {
            return Err(Error::Config(format!(
                "base URL {text:?} has scheme {other:?}; use https"
            )));
        }
    }
    Ok(text.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_unless_loopback_or_allowed() {
        assert!(check_base_url("https://api.hubapi.com", false).is_ok());
        assert!(check_base_url("http://127.0.0.1:8080/", false).is_ok());
        assert!(check_base_url("http://localhost:8080", false).is_ok());
        assert!(check_base_url("http://[::1]:8080", false).is_ok());
        assert!(matches!(
            check_base_url("http://example.com", false),
            Err(Error::Config(_))
        ));
        assert!(check_base_url("http://example.com", true).is_ok());
        assert!(check_base_url("ftp://example.com", true).is_err());
        assert!(check_base_url("not a url", true).is_err());
        assert_eq!(
            check_base_url("http://127.0.0.1:1/", false).unwrap(),
            "http://127.0.0.1:1"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let base = || Client::builder().access_token("t");
        assert!(base().batch_size(101).build().is_err());
        assert!(base().batch_size(0).build().is_err());
        assert!(base().max_in_flight(0).build().is_err());
        assert!(Client::builder().build().is_err(), "no token");
        assert!(base().build().is_ok());
    }

    #[test]
    fn the_default_user_agent_names_the_crate_and_version() {
        assert_eq!(
            DEFAULT_USER_AGENT,
            format!("hubspot-projects/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
