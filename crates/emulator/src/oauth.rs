//! OAuth as HubSpot serves it to public apps: refresh tokens exchanged for access tokens that
//! expire, optionally rotating refresh tokens, and revocation.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::ConfigError;

/// An OAuth app installed on the emulator's account: its client id and secret, and a refresh
/// token the installation gave it.
///
/// Its `Debug` output shows the client id only.
///
/// ```
/// use hubspot_projects_emulator::OAuthClient;
/// let app: OAuthClient = "app-1:s3cret:refresh-1".parse().unwrap();
/// assert_eq!(app.client_id, "app-1");
/// assert!(!format!("{app:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// A refresh token of the app's installation.
    pub refresh_token: String,
}

impl OAuthClient {
    /// An app with one refresh token.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            refresh_token: refresh_token.into(),
        }
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .finish()
    }
}

/// Parses `CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN`. An error never repeats the secret or the
/// refresh token.
impl FromStr for OAuthClient {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.splitn(3, ':');
        let (Some(id), Some(secret), Some(refresh)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(ConfigError(
                "an OAuth client is CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN (three parts)".into(),
            ));
        };
        if id.is_empty() || secret.is_empty() || refresh.is_empty() {
            return Err(ConfigError(
                "an OAuth client needs a non-empty client id, client secret and refresh token"
                    .into(),
            ));
        }
        Ok(Self::new(id, secret, refresh))
    }
}

/// What the emulator's OAuth has done so far, for tests to check how a client refreshes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OAuthCounters {
    /// Refresh requests answered with new tokens.
    pub refreshes: u64,
    /// Token requests refused (bad grant, client, secret or refresh token).
    pub refused_refreshes: u64,
    /// Access tokens issued.
    pub access_tokens_issued: u64,
    /// Refresh tokens issued in place of a used one, with rotation on.
    pub refresh_tokens_rotated: u64,
    /// API requests refused with a 401 because their access token had expired.
    pub expired_token_rejections: u64,
    /// Refresh tokens revoked through the admin route or the handle.
    pub refresh_tokens_revoked: u64,
}

/// The parameters of a token request that the emulator reads.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct TokenRequest {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Why a token request was refused: HubSpot answers each with a 400.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshRefusal {
    /// `grant_type` is missing or not `refresh_token`.
    GrantType,
    /// `client_id` is missing or names no app.
    ClientId,
    /// `client_secret` is missing or wrong.
    ClientSecret,
    /// `refresh_token` is missing, unknown, revoked or already rotated away.
    RefreshToken,
    /// The refresh token belongs to another app.
    NotThisClient,
}

impl RefreshRefusal {
    /// HubSpot's `status` for it.
    pub(crate) fn status(self) -> &'static str {
        match self {
            Self::GrantType => "BAD_GRANT_TYPE",
            Self::ClientId => "BAD_CLIENT_ID",
            Self::ClientSecret => "BAD_CLIENT_SECRET",
            Self::RefreshToken | Self::NotThisClient => "BAD_REFRESH_TOKEN",
        }
    }

    /// The message.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::GrantType => {
                "missing or unsupported grant_type: the emulator serves grant_type=refresh_token"
            }
            Self::ClientId => "missing or invalid client id",
            Self::ClientSecret => "missing or invalid client secret",
            Self::RefreshToken => "missing or invalid refresh token",
            Self::NotThisClient => "refresh token was not issued to this client",
        }
    }

    /// The OAuth 2.0 error code (RFC 6749, section 5.2).
    pub(crate) fn oauth_error(self) -> &'static str {
        match self {
            Self::GrantType => "unsupported_grant_type",
            Self::ClientId | Self::ClientSecret => "invalid_client",
            Self::RefreshToken | Self::NotThisClient => "invalid_grant",
        }
    }
}

/// Tokens handed out by a successful refresh.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

/// What an access token presented to the API is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AccessCheck {
    /// Not issued by the emulator's OAuth.
    NotIssued,
    /// Valid: it acts for this app, with every scope.
    Valid { client_id: String },
    /// Expired this long ago, at this time.
    Expired {
        ago: Duration,
        expired_at: DateTime<Utc>,
    },
    /// Its app's installation was revoked.
    Revoked,
}

struct AccessGrant {
    client_id: String,
    expires: Instant,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

/// Expired access tokens are forgotten this long after they expired (then they read as never
/// issued), so that a long run does not keep every token it ever issued.
const EXPIRED_TOKENS_KEPT: Duration = Duration::from_secs(24 * 3600);

/// The OAuth state: apps, refresh tokens, access tokens and counters.
pub(crate) struct TokenAuthority {
    /// Client id → client secret.
    apps: HashMap<String, String>,
    /// Refresh token → client id; a token leaves when revoked or rotated away.
    refresh_tokens: HashMap<String, String>,
    /// Access token → its grant.
    access_tokens: HashMap<String, AccessGrant>,
    ttl: Duration,
    rotate: bool,
    counters: OAuthCounters,
    /// Every refresh token handed out by rotation, oldest first, revoked or rotated away
    /// since or not: for tests that check none of them leaks. One per refresh with rotation
    /// on, about forty bytes each.
    rotated: Vec<String>,
}

impl fmt::Debug for TokenAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAuthority")
            .field("apps", &self.apps.keys().collect::<Vec<_>>())
            .field("refresh_tokens", &self.refresh_tokens.len())
            .field("access_tokens", &self.access_tokens.len())
            .field("ttl", &self.ttl)
            .field("rotate", &self.rotate)
            .field("counters", &self.counters)
            .finish()
    }
}

impl TokenAuthority {
    /// The authority for `clients`, issuing access tokens that live `ttl`, and rotating
    /// refresh tokens when `rotate`.
    pub(crate) fn new(clients: &[OAuthClient], ttl: Duration, rotate: bool) -> Self {
        let mut apps = HashMap::new();
        let mut refresh_tokens = HashMap::new();
        for client in clients {
            apps.insert(client.client_id.clone(), client.client_secret.clone());
            refresh_tokens.insert(client.refresh_token.clone(), client.client_id.clone());
        }
        Self {
            apps,
            refresh_tokens,
            access_tokens: HashMap::new(),
            ttl,
            rotate,
            counters: OAuthCounters::default(),
            rotated: Vec::new(),
        }
    }

    /// Every refresh token handed out by rotation so far, oldest first.
    pub(crate) fn issued_refresh_tokens(&self) -> Vec<String> {
        self.rotated.clone()
    }

    /// The counters so far.
    pub(crate) fn counters(&self) -> OAuthCounters {
        self.counters
    }

    /// Answers a token request: new tokens, or why not.
    pub(crate) fn refresh(
        &mut self,
        request: &TokenRequest,
        now: Instant,
    ) -> Result<Issued, RefreshRefusal> {
        let result = self.try_refresh(request, now);
        match &result {
            Ok(_) => self.counters.refreshes += 1,
            Err(_) => self.counters.refused_refreshes += 1,
        }
        result
    }

    fn try_refresh(
        &mut self,
        request: &TokenRequest,
        now: Instant,
    ) -> Result<Issued, RefreshRefusal> {
        if request.grant_type.as_deref() != Some("refresh_token") {
            return Err(RefreshRefusal::GrantType);
        }
        let client_id = request
            .client_id
            .as_deref()
            .filter(|id| self.apps.contains_key(*id))
            .ok_or(RefreshRefusal::ClientId)?;
        if self.apps.get(client_id).map(String::as_str) != request.client_secret.as_deref() {
            return Err(RefreshRefusal::ClientSecret);
        }
        let refresh_token = request
            .refresh_token
            .as_deref()
            .ok_or(RefreshRefusal::RefreshToken)?;
        match self.refresh_tokens.get(refresh_token) {
            None => return Err(RefreshRefusal::RefreshToken),
            Some(owner) if owner != client_id => return Err(RefreshRefusal::NotThisClient),
            Some(_) => {}
        }
        self.forget_long_expired(now);
        let refresh_token = if self.rotate {
            self.refresh_tokens.remove(refresh_token);
            let fresh = Uuid::new_v4().hyphenated().to_string();
            self.refresh_tokens
                .insert(fresh.clone(), client_id.to_string());
            self.rotated.push(fresh.clone());
            self.counters.refresh_tokens_rotated += 1;
            fresh
        } else {
            refresh_token.to_string()
        };
        let access_token = format!("emu-{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        // The configuration bounds the lifetime; saturate rather than panic all the same.
        let expires_at = chrono::Duration::from_std(self.ttl)
            .ok()
            .and_then(|ttl| Utc::now().checked_add_signed(ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let expires = now
            .checked_add(self.ttl)
            .unwrap_or(now + EXPIRED_TOKENS_KEPT);
        self.access_tokens.insert(
            access_token.clone(),
            AccessGrant {
                client_id: client_id.to_string(),
                expires,
                expires_at,
                revoked: false,
            },
        );
        self.counters.access_tokens_issued += 1;
        Ok(Issued {
            access_token,
            refresh_token,
            expires_in: self.ttl.as_secs(),
        })
    }

    fn forget_long_expired(&mut self, now: Instant) {
        self.access_tokens
            .retain(|_, grant| now.saturating_duration_since(grant.expires) < EXPIRED_TOKENS_KEPT);
    }

    /// What `token`, presented to the API at `now`, is; counts an expired one.
    pub(crate) fn check(&mut self, token: &str, now: Instant) -> AccessCheck {
        let Some(grant) = self.access_tokens.get(token) else {
            return AccessCheck::NotIssued;
        };
        if grant.revoked {
            return AccessCheck::Revoked;
        }
        if now >= grant.expires {
            let expired = AccessCheck::Expired {
                ago: now.duration_since(grant.expires),
                expired_at: grant.expires_at,
            };
            self.counters.expired_token_rejections += 1;
            return expired;
        }
        AccessCheck::Valid {
            client_id: grant.client_id.clone(),
        }
    }

    /// Revokes one refresh token; the access tokens issued from it live on, as in HubSpot.
    /// Returns how many refresh tokens were revoked (0 or 1).
    pub(crate) fn revoke_refresh_token(&mut self, token: &str) -> u64 {
        let revoked = u64::from(self.refresh_tokens.remove(token).is_some());
        self.counters.refresh_tokens_revoked += revoked;
        revoked
    }

    /// Uninstalls an app: every refresh token and access token of `client_id` stops working.
    /// Returns how many refresh tokens were revoked.
    pub(crate) fn revoke_client(&mut self, client_id: &str) -> u64 {
        let before = self.refresh_tokens.len();
        self.refresh_tokens.retain(|_, owner| owner != client_id);
        let revoked = (before - self.refresh_tokens.len()) as u64;
        for grant in self.access_tokens.values_mut() {
            if grant.client_id == client_id {
                grant.revoked = true;
            }
        }
        self.counters.refresh_tokens_revoked += revoked;
        revoked
    }
}

/// HubSpot's message for an expired token: the largest whole unit, like `expired 75 second(s)
/// ago`, `expired 3 minute(s) ago`.
pub(crate) fn expired_message(ago: Duration) -> String {
    let secs = ago.as_secs();
    let (n, unit) = match secs {
        0..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("The OAuth token used to make this call expired {n} {unit}(s) ago.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: &str, secret: &str, refresh: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("refresh_token".into()),
            client_id: Some(id.into()),
            client_secret: Some(secret.into()),
            refresh_token: Some(refresh.into()),
        }
    }

    fn authority(rotate: bool) -> TokenAuthority {
        TokenAuthority::new(
            &[
                OAuthClient::new("app", "secret", "r1"),
                OAuthClient::new("other", "x", "r2"),
            ],
            Duration::from_secs(60),
            rotate,
        )
    }

    #[test]
    fn refusals_in_hubspots_order() {
        let mut oauth = authority(false);
        let now = Instant::now();
        let mut no_grant = request("app", "secret", "r1");
        no_grant.grant_type = Some("authorization_code".into());
        for (req, refusal) in [
            (no_grant, RefreshRefusal::GrantType),
            (request("nobody", "secret", "r1"), RefreshRefusal::ClientId),
            (request("app", "wrong", "r1"), RefreshRefusal::ClientSecret),
            (
                request("app", "secret", "unknown"),
                RefreshRefusal::RefreshToken,
            ),
            (
                request("app", "secret", "r2"),
                RefreshRefusal::NotThisClient,
            ),
        ] {
            assert_eq!(oauth.refresh(&req, now).err(), Some(refusal));
        }
        let mut missing = request("app", "secret", "r1");
        missing.refresh_token = None;
        assert_eq!(
            oauth.refresh(&missing, now).err(),
            Some(RefreshRefusal::RefreshToken)
        );
        assert_eq!(oauth.counters().refused_refreshes, 6);
        assert_eq!(oauth.counters().refreshes, 0);
    }

    #[test]
    fn access_tokens_expire_and_refresh_tokens_rotate() {
        let mut oauth = authority(true);
        let start = Instant::now();
        let issued = oauth
            .refresh(&request("app", "secret", "r1"), start)
            .unwrap();
        assert_eq!(issued.expires_in, 60);
        assert_ne!(issued.refresh_token, "r1");
        assert_eq!(
            oauth.check(&issued.access_token, start),
            AccessCheck::Valid {
                client_id: "app".into()
            }
        );
        let later = start + Duration::from_secs(135);
        assert!(matches!(
            oauth.check(&issued.access_token, later),
            AccessCheck::Expired { ago, .. } if ago == Duration::from_secs(75)
        ));
        assert_eq!(oauth.counters().expired_token_rejections, 1);
        // The used refresh token is gone; the new one works once.
        assert_eq!(
            oauth.refresh(&request("app", "secret", "r1"), later).err(),
            Some(RefreshRefusal::RefreshToken)
        );
        let next = oauth
            .refresh(&request("app", "secret", &issued.refresh_token), later)
            .unwrap();
        assert_ne!(next.access_token, issued.access_token);
        assert_eq!(oauth.counters().refresh_tokens_rotated, 2);
        assert_eq!(
            oauth.issued_refresh_tokens(),
            [issued.refresh_token.clone(), next.refresh_token.clone()]
        );
        assert_eq!(oauth.counters().access_tokens_issued, 2);
    }

    #[test]
    fn revocation_by_token_keeps_access_tokens_and_by_client_ends_them() {
        let mut oauth = authority(false);
        let now = Instant::now();
        let issued = oauth.refresh(&request("app", "secret", "r1"), now).unwrap();
        assert_eq!(issued.refresh_token, "r1", "no rotation");
        assert!(oauth.issued_refresh_tokens().is_empty());
        assert_eq!(oauth.revoke_refresh_token("r1"), 1);
        assert_eq!(oauth.revoke_refresh_token("r1"), 0);
        assert!(matches!(
            oauth.check(&issued.access_token, now),
            AccessCheck::Valid { .. }
        ));
        assert_eq!(
            oauth.refresh(&request("app", "secret", "r1"), now).err(),
            Some(RefreshRefusal::RefreshToken)
        );
        let other = oauth.refresh(&request("other", "x", "r2"), now).unwrap();
        assert_eq!(oauth.revoke_client("other"), 1);
        assert_eq!(oauth.check(&other.access_token, now), AccessCheck::Revoked);
        assert_eq!(oauth.counters().refresh_tokens_revoked, 2);
    }

    #[test]
    fn expiry_messages_use_the_largest_whole_unit() {
        for (secs, text) in [
            (0, "expired 0 second(s) ago"),
            (75, "expired 1 minute(s) ago"),
            (59, "expired 59 second(s) ago"),
            (7200, "expired 2 hour(s) ago"),
            (200_000, "expired 2 day(s) ago"),
        ] {
            assert!(
                expired_message(Duration::from_secs(secs)).contains(text),
                "{secs}"
            );
        }
    }

    #[test]
    fn secrets_stay_out_of_debug_and_parse_errors() {
        let client: OAuthClient = "id:very-secret:refresh-me".parse().unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("very-secret") && !shown.contains("refresh-me"));
        let error = "id:very-secret".parse::<OAuthClient>().unwrap_err();
        assert!(!error.to_string().contains("very-secret"));
        let request = request("app", "very-secret", "refresh-me");
        let shown = format!("{request:?}");
        assert!(!shown.contains("very-secret") && !shown.contains("refresh-me"));
        // A refresh token may hold colons.
        let client: OAuthClient = "id:s:a:b".parse().unwrap();
        assert_eq!(client.refresh_token, "a:b");
    }
}
