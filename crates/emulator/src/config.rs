//! The emulator's configuration: tokens, OAuth apps, limits, latency, faults, the property
//! schema, the API versions served, and how a batch with bad inputs is answered.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use hubspot_projects_budget::RateBudget;

use crate::latency::Latency;
use crate::oauth::OAuthClient;
use crate::paths::api_versions;
use crate::schema::PropertyDef;

/// The scope a token needs to call the batch upsert.
pub const WRITE_SCOPE: &str = "crm.objects.projects.write";

/// The scope a token needs to read a project back.
pub const READ_SCOPE: &str = "crm.objects.projects.read";

/// How long an OAuth access token lives by default: HubSpot's 30 minutes.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(30 * 60);

/// How long the emulator waits for a request body by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest access token lifetime the emulator accepts.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Everything [`Emulator::start`](crate::Emulator::start) needs.
///
/// The default listens on a free port, accepts any non-empty bearer token with every scope,
/// applies no rate limit, no latency and no fault, serves every API version, rejects a batch
/// with a bad input as a whole (as HubSpot does), with the default property schema.
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorConfig {
    /// The TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The accepted static tokens (private apps). Empty: every non-empty bearer token is
    /// accepted, with all scopes, except an access token the emulator's OAuth issued that has
    /// expired or was revoked.
    pub tokens: Vec<TokenGrant>,
    /// OAuth apps whose refresh tokens the token endpoint exchanges for access tokens. Issued
    /// access tokens are accepted with every scope until they expire, whatever `tokens` says.
    pub oauth_clients: Vec<OAuthClient>,
    /// How long an issued access token lives (`expires_in`); between 1 s and a year.
    pub token_ttl: Duration,
    /// Whether each refresh answers a new refresh token and invalidates the one used.
    pub rotate_refresh_tokens: bool,
    /// The rolling-window request budget; [`RateBudget::Unlimited`] (the default) enforces
    /// none.
    ///
    /// A static token has its own budget. OAuth access tokens count under their app's client
    /// id, as HubSpot counts a public app's requests per installation: a refresh does not
    /// give a client a fresh budget.
    ///
    /// Only admitted requests are counted: a request refused with a 429 does not consume
    /// budget, so a client retrying after a 429 is never held back longer than HubSpot would
    /// hold it (HubSpot does not document whether refused calls count). Requests refused with
    /// a 401 or 403 are not counted either; every other answer, faults included, is.
    pub rate_limit: RateBudget,
    /// The number of requests per budget and per UTC day, if limited (HubSpot resets at
    /// midnight in the account's time zone; the emulator's account lives in UTC). Counted like
    /// [`rate_limit`](Self::rate_limit).
    pub daily_limit: Option<u64>,
    /// How long every API answer takes (401s, 429s, faults and the OAuth token endpoint
    /// included; the `/_emulator/` routes excepted). Drawn from [`seed`](Self::seed) by
    /// generators of their own (one for the token endpoint), so that it does not change the
    /// sequence of faults.
    pub latency: Latency,
    /// The probabilities of injected faults.
    pub faults: Faults,
    /// The seed of the fault generator (and of the latency's): the same seed and the same
    /// order of requests give the same faults and the same latencies.
    pub seed: u64,
    /// Properties added to the default schema; one named like a default property replaces it.
    pub properties: Vec<PropertyDef>,
    /// How a batch whose inputs carry bad data is answered.
    pub batch_errors: BatchErrors,
    /// The API versions whose paths are served (see [`UPSERT_PATHS`](crate::UPSERT_PATHS));
    /// `None` serves them all. A path of a version not served answers like an unknown route.
    pub api_versions: Option<Vec<String>>,
    /// How long the emulator waits for a request's body once its headers arrived; a client
    /// that stalls longer gets a 408 and its connection is closed.
    pub body_timeout: Duration,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            tokens: Vec::new(),
            oauth_clients: Vec::new(),
            token_ttl: DEFAULT_TOKEN_TTL,
            rotate_refresh_tokens: false,
            rate_limit: RateBudget::Unlimited,
            daily_limit: None,
            latency: Latency::NONE,
            faults: Faults::default(),
            seed: 0,
            properties: Vec::new(),
            batch_errors: BatchErrors::default(),
            api_versions: None,
            body_timeout: DEFAULT_BODY_TIMEOUT,
        }
    }
}

impl EmulatorConfig {
    /// Checks every setting; [`Emulator::start`](crate::Emulator::start) refuses a
    /// configuration that fails.
    ///
    /// ```
    /// use hubspot_projects_emulator::{EmulatorConfig, Faults};
    /// let config = EmulatorConfig {
    ///     faults: Faults { server_error: 0.6, unavailable: 0.6, ..Faults::default() },
    ///     ..EmulatorConfig::default()
    /// };
    /// assert!(config.validate().unwrap_err().to_string().contains("add up to"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.faults.validate()?;
        if self.daily_limit == Some(0) {
            return Err(ConfigError("the daily limit must be at least 1".into()));
        }
        for property in &self.properties {
            property.validate()?;
        }
        if let Some(versions) = &self.api_versions {
            let known = api_versions();
            if versions.is_empty() {
                return Err(ConfigError(format!(
                    "no API version to serve: choose among {}",
                    known.join(", ")
                )));
            }
            if let Some(unknown) = versions.iter().find(|v| !known.contains(&v.as_str())) {
                return Err(ConfigError(format!(
                    "unknown API version {unknown:?}: choose among {}",
                    known.join(", ")
                )));
            }
        }
        for (i, client) in self.oauth_clients.iter().enumerate() {
            for earlier in &self.oauth_clients[..i] {
                if earlier.client_id == client.client_id
                    && earlier.client_secret != client.client_secret
                {
                    return Err(ConfigError(format!(
                        "OAuth client {} is given two different secrets",
                        client.client_id
                    )));
                }
                if earlier.refresh_token == client.refresh_token {
                    return Err(ConfigError(format!(
                        "OAuth clients {} and {} are given the same refresh token",
                        earlier.client_id, client.client_id
                    )));
                }
            }
        }
        if !(Duration::from_secs(1)..=MAX_TOKEN_TTL).contains(&self.token_ttl) {
            return Err(ConfigError(format!(
                "the token lifetime must lie between 1 s and a year, not {:?}",
                self.token_ttl
            )));
        }
        if self.body_timeout.is_zero() {
            return Err(ConfigError("the body timeout must not be zero".into()));
        }
        Ok(())
    }

    /// Whether the paths of API version `version` are served.
    pub fn serves_version(&self, version: &str) -> bool {
        self.api_versions
            .as_ref()
            .is_none_or(|versions| versions.iter().any(|v| v == version))
    }
}

/// How a batch is answered when some inputs carry data HubSpot refuses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BatchErrors {
    /// HubSpot's observed behaviour, the default: an invalid value, an unknown or read-only
    /// property makes the whole batch a 400 `VALIDATION_ERROR` reporting the first bad
    /// input; a value another record holds in a unique property makes it a 409 `CONFLICT`.
    /// Nothing of the batch is written.
    #[default]
    Whole,
    /// Each bad input fails on its own with a `StandardError` in a 207; the others are
    /// written.
    PerInput,
}

/// Writes `whole` or `per-input`.
impl fmt::Display for BatchErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Whole => "whole",
            Self::PerInput => "per-input",
        })
    }
}

/// Parses `whole` or `per-input`.
impl FromStr for BatchErrors {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "whole" => Ok(Self::Whole),
            "per-input" => Ok(Self::PerInput),
            other => Err(ConfigError(format!(
                "{other:?} is not a batch error mode: whole or per-input"
            ))),
        }
    }
}

/// A static token the emulator accepts, with its scopes. Its `Debug` output hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The bearer token.
    pub token: String,
    /// The scopes granted to the token; `None` grants every scope.
    pub scopes: Option<Vec<String>>,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant")
            .field("token", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl TokenGrant {
    /// Whether the token holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_none_or(|scopes| scopes.iter().any(|s| s == scope))
    }
}

/// Parses `TOKEN` (every scope) or `TOKEN:scope,scope`.
///
/// ```
/// use hubspot_projects_emulator::TokenGrant;
/// let grant: TokenGrant = "secret:crm.objects.projects.read".parse().unwrap();
/// assert_eq!(grant.token, "secret");
/// assert_eq!(grant.scopes, Some(vec!["crm.objects.projects.read".to_string()]));
/// assert_eq!("open".parse::<TokenGrant>().unwrap().scopes, None);
/// assert!(!format!("{grant:?}").contains("secret"));
/// ```
impl FromStr for TokenGrant {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (token, scopes) = match s.split_once(':') {
            Some((token, scopes)) => (
                token,
                Some(
                    scopes
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                ),
            ),
            None => (s, None),
        };
        if token.is_empty() {
            return Err(ConfigError("empty token before the scopes".into()));
        }
        Ok(Self {
            token: token.to_string(),
            scopes,
        })
    }
}

/// Probabilities (each in `0..=1`) of the injected faults.
///
/// For each request on the HubSpot routes the emulator draws, from its seeded generator, one
/// number that picks at most one of the failing faults (500, 502, 503, 429, dropped
/// connection; their probabilities are stacked in that order, so each fires with its own
/// probability, and they must sum to 1 or less), and a second one for the latency fault,
/// which combines with the others. Failing faults never write records; the latency fault
/// only delays the answer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// A 500 with a JSON `Error` body.
    pub server_error: f64,
    /// A 502 with an HTML body, as a proxy in front of HubSpot would send.
    pub bad_gateway_html: f64,
    /// A 503 with a JSON `Error` body.
    pub unavailable: f64,
    /// A 429 with HubSpot's `TEN_SECONDLY_ROLLING` body.
    pub rate_limited: f64,
    /// The connection is closed without any answer.
    pub drop_connection: f64,
    /// The request is processed normally after an added delay of `latency_ms`.
    pub latency: f64,
    /// The delay of the latency fault, in milliseconds.
    pub latency_ms: u64,
}

impl Faults {
    /// Whether any fault may fire.
    pub fn any(&self) -> bool {
        self.failing_total() > 0.0 || self.latency > 0.0
    }

    /// The probability that a request fails: the sum of the failing faults'.
    pub fn failing_total(&self) -> f64 {
        self.server_error
            + self.bad_gateway_html
            + self.unavailable
            + self.rate_limited
            + self.drop_connection
    }

    /// Checks that every probability lies in `0..=1` and that the failing ones add up to 1
    /// or less.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, p) in [
            ("500", self.server_error),
            ("502", self.bad_gateway_html),
            ("503", self.unavailable),
            ("429", self.rate_limited),
            ("drop", self.drop_connection),
            ("latency", self.latency),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(ConfigError(format!(
                    "fault {name} probability {p} is not between 0 and 1"
                )));
            }
        }
        // A little slack for sums like 0.1 + 0.2 + 0.7 that floating point rounds above 1.
        if self.failing_total() > 1.0 + 1e-9 {
            return Err(ConfigError(format!(
                "the failing fault probabilities (500, 502, 503, 429, drop) add up to {}, more than 1",
                self.failing_total()
            )));
        }
        Ok(())
    }
}

/// A configuration value that could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_serves_every_version() {
        let config = EmulatorConfig::default();
        config.validate().unwrap();
        assert!(api_versions().iter().all(|v| config.serves_version(v)));
    }

    #[test]
    fn bad_settings_are_refused() {
        let refused = |config: EmulatorConfig, says: &str| {
            let error = config.validate().unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        };
        let base = EmulatorConfig::default;
        refused(
            EmulatorConfig {
                faults: Faults {
                    server_error: 0.5,
                    drop_connection: 0.6,
                    ..Faults::default()
                },
                ..base()
            },
            "more than 1",
        );
        refused(
            EmulatorConfig {
                faults: Faults {
                    latency: 1.5,
                    ..Faults::default()
                },
                ..base()
            },
            "not between 0 and 1",
        );
        refused(
            EmulatorConfig {
                daily_limit: Some(0),
                ..base()
            },
            "at least 1",
        );
        refused(
            EmulatorConfig {
                api_versions: Some(vec!["v4".into()]),
                ..base()
            },
            "unknown API version",
        );
        refused(
            EmulatorConfig {
                api_versions: Some(Vec::new()),
                ..base()
            },
            "no API version",
        );
        refused(
            EmulatorConfig {
                oauth_clients: vec![
                    OAuthClient::new("a", "s1", "r1"),
                    OAuthClient::new("a", "s2", "r2"),
                ],
                ..base()
            },
            "two different secrets",
        );
        refused(
            EmulatorConfig {
                oauth_clients: vec![
                    OAuthClient::new("a", "s1", "r1"),
                    OAuthClient::new("b", "s2", "r1"),
                ],
                ..base()
            },
            "same refresh token",
        );
        refused(
            EmulatorConfig {
                token_ttl: Duration::from_millis(500),
                ..base()
            },
            "token lifetime",
        );
        refused(
            EmulatorConfig {
                body_timeout: Duration::ZERO,
                ..base()
            },
            "body timeout",
        );
        // Probabilities that add up to exactly 1 pass.
        let exact = EmulatorConfig {
            faults: Faults {
                server_error: 0.1,
                unavailable: 0.2,
                drop_connection: 0.7,
                ..Faults::default()
            },
            ..base()
        };
        exact.validate().unwrap();
    }

    #[test]
    fn batch_error_modes_parse_and_print() {
        for mode in [BatchErrors::Whole, BatchErrors::PerInput] {
            assert_eq!(mode.to_string().parse::<BatchErrors>().unwrap(), mode);
        }
        assert!("partial".parse::<BatchErrors>().is_err());
    }
}
