//! Building a [`Client`]: the credentials, where to send, and how hard to push.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{AccessToken, OAuthCredentials, OAuthSource, StaticToken, TokenSource};
use crate::client::Client;
use crate::error::ConfigError;
use crate::pace::RateBudget;
use crate::retry::RetryPolicy;
use crate::shared::{Auth, Shared};
use crate::store::{BudgetStore, LocalBudget};

/// HubSpot's API.
pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";

/// The user agent sent unless another is set: this crate's name and version.
pub const DEFAULT_USER_AGENT: &str =
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// How long a request may take unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most requests in flight at once unless set otherwise. The number in flight follows the
/// rate budget and HubSpot's latency up to this cap (see [`ClientBuilder::max_in_flight`]).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// The most requests in flight that can be configured.
pub const MAX_IN_FLIGHT_LIMIT: usize = 1024;

/// The most inputs HubSpot takes in one batch request.
pub const MAX_BATCH_SIZE: usize = 100;

/// How long a run keeps trying an endpoint that answers nothing before it stops, unless set
/// otherwise.
pub const DEFAULT_UNREACHABLE_AFTER: Duration = Duration::from_secs(120);

/// Configures a [`Client`]. Start from [`Client::builder`].
///
/// `Debug` output never shows the access token.
///
/// ```
/// use std::time::Duration;
/// use hubspot_projects::{Client, RetryPolicy};
/// let client = Client::builder()
///     .access_token("pat-na1-00000000-0000-0000-0000-000000000000")
///     .rate_budget("190/10s".parse().unwrap())
///     .max_in_flight(32)
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::default().with_max_attempts(8))
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("pat-na1"));
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) base_url: String,
    pub(crate) api_version: Option<String>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) rate_budget: RateBudget,
    pub(crate) max_in_flight: usize,
    pub(crate) fixed_in_flight: bool,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) batch_size: usize,
    pub(crate) unreachable_after: Duration,
    pub(crate) isolate_rejected_inputs: bool,
    pub(crate) root_certificates: Vec<Vec<u8>>,
    #[cfg(feature = "redis")]
    pub(crate) rate_store: Option<crate::redis_budget::RedisBudget>,
    pub(crate) http_client: Option<reqwest::Client>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            credentials: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            api_version: None,
            allow_insecure_http: false,
            timeout: DEFAULT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            rate_budget: RateBudget::default(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            fixed_in_flight: false,
            retry_policy: RetryPolicy::default(),
            batch_size: MAX_BATCH_SIZE,
            unreachable_after: DEFAULT_UNREACHABLE_AFTER,
            isolate_rejected_inputs: true,
            root_certificates: Vec::new(),
            #[cfg(feature = "redis")]
            rate_store: None,
            http_client: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("base_url", &self.base_url)
            .field("api_version", &self.api_version)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("rate_budget", &self.rate_budget)
            .field("max_in_flight", &self.max_in_flight)
            .field("fixed_in_flight", &self.fixed_in_flight)
            .field("retry_policy", &self.retry_policy)
            .field("batch_size", &self.batch_size)
            .field("unreachable_after", &self.unreachable_after)
            .field("isolate_rejected_inputs", &self.isolate_rejected_inputs)
            .field("root_certificates", &self.root_certificates.len())
            .field("http_client", &self.http_client.as_ref().map(|_| "<given>"))
            .finish()
    }
}

impl ClientBuilder {
    /// A private app's access token (or any token that never needs refreshing), sent as
    /// `Authorization: Bearer …` and never printed. Replaces other credentials given before.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::Static(AccessToken::new(token)));
        self
    }

    /// An OAuth app's credentials: access tokens are refreshed ahead of expiry, once for every
    /// request in flight and every clone, and an expired token's request is resent once with a
    /// fresh one. Replaces other credentials given before.
    pub fn oauth(mut self, credentials: OAuthCredentials) -> Self {
        self.credentials = Some(Credentials::OAuth(credentials));
        self
    }

    /// A source of access tokens of the caller's own. Replaces other credentials given before.
    pub fn token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.credentials = Some(Credentials::Source(source));
        self
    }

    /// Where to send requests; defaults to [`DEFAULT_BASE_URL`]. Plain `http://` is refused
    /// unless the host is loopback or [`allow_insecure_http`](Self::allow_insecure_http) is set.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The API version to call, as HubSpot names it: `v3`, `2026-03`, `2026-09`… (see
    /// [`api_versions`](crate::api_versions)). Defaults to the newest generally available
    /// version in the contract ([`DEFAULT_API_VERSION`](crate::DEFAULT_API_VERSION)). An
    /// unknown version is refused by [`build`](Self::build), before anything is sent.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
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

    /// The most requests in flight at once, across all clones of the client; defaults to
    /// [`DEFAULT_MAX_IN_FLIGHT`], at most [`MAX_IN_FLIGHT_LIMIT`].
    ///
    /// Within this cap the client keeps as many requests in flight as the rate budget needs at
    /// the latency HubSpot answers with (by Little's law, rate × latency, with headroom for
    /// jitter): more when answers slow down, fewer when they speed up or the budget tightens.
    /// Pacing alone decides when a request goes, so more in flight never means more than the
    /// budget.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max;
        self.fixed_in_flight = false;
        self
    }

    /// Keeps exactly `n` requests in flight when there is work, whatever the latency (for
    /// measurements, or a server that must not see more); at most [`MAX_IN_FLIGHT_LIMIT`].
    pub fn fixed_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self.fixed_in_flight = true;
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

    /// How long a run keeps trying when HubSpot gives no answer at all (connection refused,
    /// timeouts), from its API or from its OAuth token endpoint, before it stops and reports
    /// the rest
    /// [`NotAttempted::EndpointUnreachable`](crate::NotAttempted::EndpointUnreachable);
    /// defaults to [`DEFAULT_UNREACHABLE_AFTER`].
    pub fn unreachable_after(mut self, after: Duration) -> Self {
        self.unreachable_after = after;
        self
    }

    /// Whether a batch HubSpot rejects whole for the data of some inputs (a 400 listing invalid
    /// property values, a 409 conflict on a unique value) is split until each bad input stands
    /// alone, so that every good input is written; on by default. The extra requests are paced
    /// like any other and counted in [`Summary::isolation_requests`](crate::Summary). Off, every
    /// input of such a batch fails with HubSpot's reason.
    pub fn isolate_rejected_inputs(mut self, isolate: bool) -> Self {
        self.isolate_rejected_inputs = isolate;
        self
    }

    /// Keeps the rate budget in Redis, shared with every process that uses the same key (see
    /// [`RedisBudget`](crate::RedisBudget)), instead of in this process.
    #[cfg(feature = "redis")]
    pub fn rate_store(mut self, store: crate::redis_budget::RedisBudget) -> Self {
        self.rate_store = Some(store);
        self
    }

    /// Trusts one more root certificate (DER or PEM), beside webpki's roots: for a proxy or a
    /// test server with a certificate of its own.
    pub fn add_root_certificate(mut self, certificate: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(certificate.into());
        self
    }

    /// A ready HTTP client, used instead of the token, timeout, user agent and TLS settings: it
    /// must send the `Authorization` header itself.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, ConfigError> {
        let base_url = check_base_url(&self.base_url, self.allow_insecure_http)?;
        let operation = match &self.api_version {
            None => hubspot_projects_api::operations::default_batch_upsert(),
            Some(version) => hubspot_projects_api::operations::batch_upsert(version.trim())
                .ok_or_else(|| ConfigError::UnknownApiVersion {
                    given: version.clone(),
                    known: crate::api_versions().join(", "),
                })?,
        };
        if self.batch_size == 0 || self.batch_size > MAX_BATCH_SIZE {
            return Err(ConfigError::OutOfRange {
                setting: "batch_size",
                value: self.batch_size.to_string(),
                range: format!("1..={MAX_BATCH_SIZE}"),
            });
        }
        if self.max_in_flight == 0 || self.max_in_flight > MAX_IN_FLIGHT_LIMIT {
            return Err(ConfigError::OutOfRange {
                setting: "max_in_flight",
                value: self.max_in_flight.to_string(),
                range: format!("1..={MAX_IN_FLIGHT_LIMIT}"),
            });
        }
        let http = match self.http_client.clone() {
            Some(http) => http,
            None => self.http()?,
        };
        let auth: Option<Auth> = match &self.credentials {
            Some(Credentials::Static(token)) => {
                // A static token must be sendable in a header.
                if let Some(problem) = token.problem() {
                    return Err(ConfigError::BadToken(problem));
                }
                Some(Auth::Source(Arc::new(StaticToken(token.clone()))))
            }
            Some(Credentials::OAuth(credentials)) => {
                if credentials.client_id.trim().is_empty() {
                    return Err(ConfigError::BadToken("source has an empty OAuth client id"));
                }
                let source = Arc::new(OAuthSource::new(
                    credentials.clone(),
                    crate::token::endpoint(http.clone(), &base_url),
                ));
                Some(Auth::OAuth(source))
            }
            Some(Credentials::Source(source)) => Some(Auth::Source(source.clone())),
            None if self.http_client.is_some() => None,
            None => return Err(ConfigError::NoCredentials),
        };
        let store = self.budget_store()?;
        Ok(Client::from_shared(Arc::new(Shared::new(
            &self, base_url, http, auth, operation, store,
        ))))
    }

    /// Where the rate budget lives: in this process, or in the shared store given.
    fn budget_store(&self) -> Result<Arc<dyn BudgetStore>, ConfigError> {
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.rate_store {
            let name = match (redis.name(), &self.credentials) {
                (Some(name), _) => name.to_string(),
                (None, Some(Credentials::Static(token))) => {
                    crate::redis_budget::hashed_key(&format!("token:{}", token.expose()))
                }
                (None, Some(Credentials::OAuth(credentials))) => crate::redis_budget::hashed_key(
                    &format!("oauth-client:{}", credentials.client_id),
                ),
                (None, _) => {
                    return Err(ConfigError::BudgetStore(
                        "name the shared budget's key (RedisBudget::key): it cannot be derived from a token source or a ready HTTP client".into(),
                    ));
                }
            };
            return Ok(Arc::new(redis.store(&name, self.timeout)));
        }
        Ok(Arc::new(LocalBudget::new()))
    }

    fn http(&self) -> Result<reqwest::Client, ConfigError> {
        hubspot_projects_api::http::client_builder(&self.root_certificates)
            .map_err(|e| ConfigError::Tls(e.to_string()))?
            .user_agent(self.user_agent.clone())
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(self.max_in_flight)
            .build()
            .map_err(|e| ConfigError::Http(crate::error::with_causes(&e)))
    }
}

/// The credentials a client authenticates with.
#[derive(Clone)]
pub(crate) enum Credentials {
    Static(AccessToken),
    OAuth(OAuthCredentials),
    Source(Arc<dyn TokenSource>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static(token) => write!(f, "Static({token:?})"),
            Self::OAuth(credentials) => write!(f, "{credentials:?}"),
            Self::Source(_) => f.write_str("TokenSource"),
        }
    }
}

fn check_base_url(text: &str, allow_insecure_http: bool) -> Result<String, ConfigError> {
    let url = reqwest::Url::parse(text).map_err(|e| ConfigError::BadBaseUrl {
        url: text.to_string(),
        reason: format!("not a URL ({e})"),
    })?;
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback || allow_insecure_http => {}
        "http" => {
            return Err(ConfigError::InsecureBaseUrl {
                url: text.to_string(),
            });
        }
        other => {
            return Err(ConfigError::BadBaseUrl {
                url: text.to_string(),
                reason: format!("the scheme is {other:?}; use https"),
            });
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
            Err(ConfigError::InsecureBaseUrl { .. })
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
    fn bad_settings_are_refused_without_panicking() {
        let base = || Client::builder().access_token("t");
        assert!(base().batch_size(101).build().is_err());
        assert!(base().batch_size(0).build().is_err());
        assert!(base().max_in_flight(0).build().is_err());
        assert!(matches!(
            base().max_in_flight(usize::MAX).build(),
            Err(ConfigError::OutOfRange {
                setting: "max_in_flight",
                ..
            })
        ));
        assert!(matches!(
            Client::builder().build(),
            Err(ConfigError::NoCredentials)
        ));
        let unknown = base().api_version("2019-01").build().unwrap_err();
        assert!(
            matches!(&unknown, ConfigError::UnknownApiVersion { known, .. }
                if *known == crate::api_versions().join(", ")),
            "{unknown}"
        );
        assert!(matches!(
            Client::builder().access_token(" ").build(),
            Err(ConfigError::BadToken(_))
        ));
        for bad in ["a\nb", "pat-…", "a b"] {
            assert!(matches!(
                Client::builder().access_token(bad).build(),
                Err(ConfigError::BadToken(_))
            ));
        }
        assert!(matches!(
            base()
                .add_root_certificate(b"-----BEGIN CERTIFICATE-----\nnot base64\n".to_vec())
                .build(),
            Err(ConfigError::Tls(_))
        ));
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
