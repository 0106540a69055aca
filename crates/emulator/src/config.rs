//! The emulator's configuration: tokens, limits, faults and the property schema.

use std::str::FromStr;

pub use hubspot_projects_budget::RateBudget;

/// The scope a token needs to call the batch upsert.
pub const WRITE_SCOPE: &str = "crm.objects.projects.write";

/// The scope a token needs to read a project back.
pub const READ_SCOPE: &str = "crm.objects.projects.read";

/// Everything [`Emulator::start`](crate::Emulator::start) needs.
///
/// The default listens on a free port, accepts any non-empty bearer token with every scope,
/// applies no rate limit and injects no fault, with the default property schema.
#[derive(Clone, Debug, PartialEq)]
pub struct EmulatorConfig {
    /// The TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The accepted tokens. Empty: every non-empty bearer token is accepted, with all scopes.
    pub tokens: Vec<TokenGrant>,
    /// The rolling-window request budget per token; [`RateBudget::Unlimited`] (the default)
    /// enforces none.
    ///
    /// Only admitted requests are counted: a request refused with a 429 does not consume
    /// budget, so a client retrying after a 429 is never held back longer than HubSpot would
    /// hold it (HubSpot does not document whether refused calls count). Requests refused with
    /// a 401 or 403 are not counted either; every other answer, faults included, is.
    pub rate_limit: RateBudget,
    /// The number of requests per token and per UTC day, if limited (HubSpot resets at
    /// midnight in the account's time zone; the emulator's account lives in UTC). Counted like
    /// [`rate_limit`](Self::rate_limit).
    pub daily_limit: Option<u64>,
    /// The probabilities of injected faults.
    pub faults: Faults,
    /// The seed of the fault generator: the same seed and the same order of requests give the
    /// same faults.
    pub seed: u64,
    /// Custom properties added to the default schema.
    pub properties: Vec<PropertyDef>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            tokens: Vec::new(),
            rate_limit: RateBudget::Unlimited,
            daily_limit: None,
            faults: Faults::default(),
            seed: 0,
            properties: Vec::new(),
        }
    }
}

/// A token the emulator accepts, with its scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenGrant {
    /// The bearer token.
    pub token: String,
    /// The scopes granted to the token; `None` grants every scope.
    pub scopes: Option<Vec<String>>,
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
            return Err(ConfigError(format!("empty token in {s:?}")));
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
/// probability as long as they sum to 1 or less), and a second one for the latency fault,
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

    pub(crate) fn failing_total(&self) -> f64 {
        self.server_error
            + self.bad_gateway_html
            + self.unavailable
            + self.rate_limited
            + self.drop_connection
    }

    /// Checks that every probability lies in `0..=1`.
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
        Ok(())
    }
}

/// A custom property added to the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyDef {
    /// The property's internal name.
    pub name: String,
    /// Whether its values are unique (`hasUniqueValue`), which lets it serve as `idProperty`.
    pub unique: bool,
}

/// Parses `NAME` or `NAME:unique`.
///
/// ```
/// use hubspot_projects_emulator::PropertyDef;
/// let def: PropertyDef = "external_ref:unique".parse().unwrap();
/// assert!(def.unique);
/// assert!(!"region".parse::<PropertyDef>().unwrap().unique);
/// ```
impl FromStr for PropertyDef {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, unique) = match s.split_once(':') {
            Some((name, "unique")) => (name, true),
            Some((_, other)) => {
                return Err(ConfigError(format!(
                    "property {s:?}: unknown flag {other:?} (only \"unique\")"
                )));
            }
            None => (s, false),
        };
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(ConfigError(format!("property name {name:?} is not valid")));
        }
        Ok(Self {
            name: name.to_string(),
            unique,
        })
    }
}

/// A configuration value that could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
