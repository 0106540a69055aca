//! Where access tokens come from: a private app's static token, an OAuth app's credentials
//! (refreshed ahead of expiry, once for every request in flight and every clone), or the
//! caller's own [`TokenSource`]; and [`write_refresh_token_file`], to keep a rotated refresh
//! token.

use std::fmt;
use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

/// A boxed future, as [`TokenSource`] returns.
pub type TokenFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + 'a>>;

/// An access token: sent as `Authorization: Bearer …`, never printed (`Debug` shows
/// `[REDACTED]`).
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The token's text, for sending.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Why the token cannot be sent in a header, if it cannot, worded to follow "the access
    /// token".
    pub(crate) fn problem(&self) -> Option<&'static str> {
        let token = self.expose().trim();
        if token.is_empty() {
            return Some("is empty");
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Some(
                "holds characters that cannot be sent in a header (only visible ASCII can)",
            );
        }
        None
    }

    /// The `Authorization` header value, marked sensitive.
    pub(crate) fn header(&self) -> Result<HeaderValue, AuthError> {
        if self.problem().is_some() {
            return Err(AuthError::Refused {
                message:
                    "the access token is empty or holds characters that cannot be sent in a header"
                        .into(),
            });
        }
        let token = self.expose().trim();
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| AuthError::Refused {
                message: "the access token cannot be sent in a header".into(),
            })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl PartialEq for AccessToken {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([REDACTED])")
    }
}

/// Why no access token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// For good: the refresh token was revoked or is unknown, the client id or secret is
    /// wrong. Sending stops, and the rest of the run is not attempted.
    #[error("{message}")]
    Refused {
        /// Why, without any secret.
        message: String,
    },
    /// For now: the token endpoint answered with a failure (a 5xx, 429 or 408, or a body that
    /// cannot be read). Retried like any request.
    #[error("{message}")]
    Unavailable {
        /// Why, without any secret.
        message: String,
    },
    /// For now, and nothing answered: the token endpoint could not be reached, or did not
    /// answer in time. Retried like any request; and, like HubSpot's API answering nothing, it
    /// counts toward [`unreachable_after`](crate::ClientBuilder::unreachable_after): once
    /// nothing has answered for that long, the run stops and the rest is
    /// [`NotAttempted::EndpointUnreachable`](crate::NotAttempted::EndpointUnreachable).
    #[error("{message}")]
    Unreachable {
        /// Why, without any secret.
        message: String,
    },
}

/// A caller's own source of access tokens (a vault, another process's refresher…).
///
/// The client asks [`token`](Self::token) before each request, and
/// [`refresh`](Self::refresh) when HubSpot answers that the token it sent expired; it resends
/// that request once with the new token. A source that cannot give a token returns
/// [`AuthError::Refused`] to stop the run, [`AuthError::Unavailable`] to have the request
/// retried, or [`AuthError::Unreachable`] when what it asks gave no answer at all (retried too,
/// and stopping the run after the client's `unreachable_after`).
pub trait TokenSource: Send + Sync + 'static {
    /// The token to send now.
    fn token(&self) -> TokenFuture<'_>;

    /// HubSpot refused `expired` as expired: a fresh token. A source that refreshes on its own
    /// schedule may return its current token when it differs from `expired`.
    fn refresh<'a>(&'a self, expired: &'a AccessToken) -> TokenFuture<'a>;

    /// Whether [`refresh`](Self::refresh) can give a new token; when not, an expired token's
    /// 401 stops the run like any refused token. Sources refresh by default.
    fn can_refresh(&self) -> bool {
        true
    }
}

/// A private app's token, which never changes.
pub(crate) struct StaticToken(pub(crate) AccessToken);

impl TokenSource for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn refresh<'a>(&'a self, _expired: &'a AccessToken) -> TokenFuture<'a> {
        Box::pin(async move {
            Err(AuthError::Refused {
                message: "HubSpot says the access token expired, and a static token cannot be refreshed: issue a new one, or give OAuth credentials".into(),
            })
        })
    }

    fn can_refresh(&self) -> bool {
        false
    }
}

/// Called with the new refresh token when HubSpot rotates it, so that it can be stored.
pub type RefreshTokenCallback = Arc<dyn Fn(&SecretString) + Send + Sync>;

/// An OAuth app's credentials: the client id and secret and a refresh token, optionally with a
/// current access token and when it expires.
///
/// The client gets access tokens from HubSpot's token endpoint (`POST /oauth/v1/token`,
/// `grant_type=refresh_token`) before the current one expires, one refresh at a time for every
/// request in flight and every clone of the client; when HubSpot answers a request with its
/// expired-token 401, the client refreshes once and resends that request. When HubSpot answers
/// a refresh with a new refresh token, [`on_refresh_token`](Self::on_refresh_token) hears of it.
///
/// OAuth apps get their own rate limit: 110 requests per 10 s per installing account, and no
/// daily limit; set [`rate_budget`](crate::ClientBuilder::rate_budget) to `110/10s`.
///
/// `Debug` shows the client id only.
///
/// ```
/// use hubspot_projects::{Client, OAuthCredentials};
/// let credentials = OAuthCredentials::new("client-id", "client-secret", "refresh-token")
///     .on_refresh_token(|_rotated| { /* store it */ });
/// assert!(!format!("{credentials:?}").contains("secret"));
/// let client = Client::builder()
///     .oauth(credentials)
///     .rate_budget("110/10s".parse().unwrap())
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct OAuthCredentials {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) refresh_token: SecretString,
    pub(crate) access_token: Option<(AccessToken, SystemTime)>,
    pub(crate) on_refresh_token: Option<RefreshTokenCallback>,
}

impl fmt::Debug for OAuthCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthCredentials")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OAuthCredentials {
    /// Credentials from the app's client id and secret and a refresh token.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        refresh_token: impl Into<String>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: SecretString::from(client_secret.into()),
            refresh_token: SecretString::from(refresh_token.into()),
            access_token: None,
            on_refresh_token: None,
        }
    }

    /// A current access token and when it expires, to use until then.
    pub fn with_access_token(mut self, token: impl Into<String>, expires_at: SystemTime) -> Self {
        self.access_token = Some((AccessToken::new(token), expires_at));
        self
    }

    /// Calls `callback` with each new refresh token HubSpot hands out, so that it can be
    /// stored for the next run (the old one may stop working).
    pub fn on_refresh_token(
        mut self,
        callback: impl Fn(&SecretString) + Send + Sync + 'static,
    ) -> Self {
        self.on_refresh_token = Some(Arc::new(callback));
        self
    }
}

/// What HubSpot's token endpoint answered.
pub(crate) struct Issued {
    pub(crate) access_token: AccessToken,
    pub(crate) expires_in: Duration,
    pub(crate) refresh_token: Option<SecretString>,
}

/// Asks HubSpot's token endpoint for an access token, once.
pub(crate) type TokenEndpoint = Arc<
    dyn Fn(
            String,
            SecretString,
            SecretString,
        ) -> Pin<Box<dyn Future<Output = Result<Issued, AuthError>> + Send>>
        + Send
        + Sync,
>;

struct Held {
    access: Option<(AccessToken, tokio::time::Instant, Duration)>,
    refresh_token: SecretString,
    /// How the last refresh failed, if it did: the callers that waited for it share it.
    failure: Option<AuthError>,
}

/// The OAuth token source: one refresh at a time, shared by every clone of a client.
pub(crate) struct OAuthSource {
    client_id: String,
    client_secret: SecretString,
    held: Mutex<Held>,
    endpoint: TokenEndpoint,
    on_refresh_token: Option<RefreshTokenCallback>,
    refreshes: AtomicU64,
    /// Refreshes tried, granted or not; changed only while `held` is locked.
    attempts: AtomicU64,
}

impl OAuthSource {
    pub(crate) fn new(credentials: OAuthCredentials, endpoint: TokenEndpoint) -> Self {
        let access = credentials.access_token.map(|(token, expires_at)| {
            let left = expires_at
                .duration_since(SystemTime::now())
                .unwrap_or_default();
            (token, tokio::time::Instant::now() + left, left)
        });
        Self {
            client_id: credentials.client_id,
            client_secret: credentials.client_secret,
            held: Mutex::new(Held {
                access,
                refresh_token: credentials.refresh_token,
                failure: None,
            }),
            endpoint,
            on_refresh_token: credentials.on_refresh_token,
            refreshes: AtomicU64::new(0),
            attempts: AtomicU64::new(0),
        }
    }

    /// How many refreshes HubSpot granted.
    pub(crate) fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// The failure of a refresh tried since the caller asked (`asked`, the attempts counted
    /// before it waited for the lock), if the last one failed. Callers that queued behind a
    /// failing refresh share its failure, and each retries after its own backoff, instead of
    /// asking a failing endpoint again one after the other: against an endpoint that does not
    /// answer, each would wait out a whole timeout.
    fn failed_since(&self, held: &Held, asked: u64) -> Option<AuthError> {
        if self.attempts.load(Ordering::Acquire) == asked {
            return None;
        }
        held.failure.clone()
    }

    /// Refreshes while `held` is locked: one refresh at a time for everyone. A failure of the
    /// token endpoint is retried by the request that asked, like any failed request.
    async fn refresh_locked(&self, held: &mut Held) -> Result<AccessToken, AuthError> {
        let result = (self.endpoint)(
            self.client_id.clone(),
            self.client_secret.clone(),
            held.refresh_token.clone(),
        )
        .await;
        self.attempts.fetch_add(1, Ordering::Release);
        held.failure = result.as_ref().err().cloned();
        let issued = result?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        if let Some(rotated) = issued.refresh_token
            && rotated.expose_secret() != held.refresh_token.expose_secret()
        {
            held.refresh_token = rotated;
            tracing::info!("HubSpot rotated the refresh token");
            if let Some(callback) = &self.on_refresh_token {
                callback(&held.refresh_token);
            }
        }
        tracing::debug!(
            expires_in_s = issued.expires_in.as_secs(),
            "a new access token"
        );
        held.access = Some((
            issued.access_token.clone(),
            tokio::time::Instant::now() + issued.expires_in,
            issued.expires_in,
        ));
        Ok(issued.access_token)
    }
}

/// How long before expiry a token is refreshed: a tenth of its lifetime, at most a minute.
fn margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(60))
}

impl TokenSource for OAuthSource {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let asked = self.attempts.load(Ordering::Acquire);
            let mut held = self.held.lock().await;
            if let Some((token, expires, lifetime)) = &held.access
                && tokio::time::Instant::now() + margin(*lifetime) < *expires
            {
                return Ok(token.clone());
            }
            if let Some(failure) = self.failed_since(&held, asked) {
                return Err(failure);
            }
            self.refresh_locked(&mut held).await
        })
    }

    fn refresh<'a>(&'a self, expired: &'a AccessToken) -> TokenFuture<'a> {
        Box::pin(async move {
            let asked = self.attempts.load(Ordering::Acquire);
            let mut held = self.held.lock().await;
            // Another request refreshed meanwhile: its token is the fresh one.
            if let Some((token, _, _)) = &held.access
                && token != expired
            {
                return Ok(token.clone());
            }
            if let Some(failure) = self.failed_since(&held, asked) {
                return Err(failure);
            }
            self.refresh_locked(&mut held).await
        })
    }
}

/// Replaces the file at `path` with `refresh_token` and a newline, atomically and readable by
/// its owner only: the token goes to a new file in the same directory (mode `0600` on Unix
/// from the start), is flushed to disk, and the new file is renamed over `path`. A crash leaves
/// the old token or the new one, never a part of either, and no other user can read it.
///
/// Meant for [`OAuthCredentials::on_refresh_token`]: HubSpot may stop accepting the old
/// refresh token once it has handed out a new one, so the new one must be kept. An error says
/// which step failed; it never holds the token.
///
/// ```no_run
/// use hubspot_projects::{OAuthCredentials, write_refresh_token_file};
/// let credentials = OAuthCredentials::new("client-id", "client-secret", "refresh-token")
///     .on_refresh_token(|rotated| {
///         if let Err(error) = write_refresh_token_file("refresh-token.txt", rotated) {
///             eprintln!("the rotated refresh token could not be kept: {error}");
///         }
///     });
/// # let _ = credentials;
/// ```
pub fn write_refresh_token_file(
    path: impl AsRef<Path>,
    refresh_token: &SecretString,
) -> std::io::Result<()> {
    let path = path.as_ref();
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".refresh-token-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(refresh_token.expose_secret().as_bytes())?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn endpoint(calls: Arc<AtomicUsize>, lifetime: Duration) -> TokenEndpoint {
        Arc::new(move |_, _, refresh: SecretString| {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            let refresh = refresh.expose_secret().to_string();
            Box::pin(async move {
                if refresh == "revoked" {
                    return Err(AuthError::Refused {
                        message: "revoked".into(),
                    });
                }
                // Let concurrent callers pile up on the lock.
                tokio::task::yield_now().await;
                Ok(Issued {
                    access_token: AccessToken::new(format!("access-{n}")),
                    expires_in: lifetime,
                    refresh_token: Some(SecretString::from(format!("refresh-{n}"))),
                })
            })
        })
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_refresh() {
        let calls = Arc::new(AtomicUsize::new(0));
        let source = Arc::new(OAuthSource::new(
            OAuthCredentials::new("id", "secret", "refresh"),
            endpoint(calls.clone(), Duration::from_secs(1800)),
        ));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let source = source.clone();
                tokio::spawn(async move { source.token().await.unwrap() })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().expose(), "access-0");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Fifty requests meeting the same expired token: one refresh.
        let expired = AccessToken::new("access-0");
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let source = source.clone();
                let expired = expired.clone();
                tokio::spawn(async move { source.refresh(&expired).await.unwrap() })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().expose(), "access-1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(source.refreshes(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_are_refreshed_ahead_of_expiry_and_rotation_is_heard() {
        let calls = Arc::new(AtomicUsize::new(0));
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = heard.clone();
        let source = OAuthSource::new(
            OAuthCredentials::new("id", "secret", "refresh").on_refresh_token(move |token| {
                log.lock().unwrap().push(token.expose_secret().to_string())
            }),
            endpoint(calls.clone(), Duration::from_secs(100)),
        );
        assert_eq!(source.token().await.unwrap().expose(), "access-0");
        tokio::time::advance(Duration::from_secs(85)).await;
        assert_eq!(source.token().await.unwrap().expose(), "access-0");
        // Within a tenth of its lifetime of expiry: refreshed before it expires.
        tokio::time::advance(Duration::from_secs(6)).await;
        assert_eq!(source.token().await.unwrap().expose(), "access-1");
        assert_eq!(*heard.lock().unwrap(), ["refresh-0", "refresh-1"]);
    }

    #[tokio::test]
    async fn a_refused_refresh_is_reported_and_secrets_stay_hidden() {
        let source = OAuthSource::new(
            OAuthCredentials::new("id", "secret", "revoked"),
            endpoint(Arc::new(AtomicUsize::new(0)), Duration::from_secs(1800)),
        );
        assert!(matches!(
            source.token().await,
            Err(AuthError::Refused { .. })
        ));
        let credentials = OAuthCredentials::new("the-id", "the-secret", "the-refresh")
            .with_access_token("the-access", SystemTime::now());
        let shown = format!("{credentials:?} {:?}", AccessToken::new("the-access"));
        assert!(shown.contains("the-id"));
        for secret in ["the-secret", "the-refresh", "the-access"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[tokio::test]
    async fn callers_queued_behind_a_failing_refresh_share_its_failure() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let endpoint: TokenEndpoint = Arc::new(move |_, _, _| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                // Let concurrent callers pile up on the lock.
                tokio::task::yield_now().await;
                if n == 0 {
                    return Err(AuthError::Unreachable {
                        message: "timed out".into(),
                    });
                }
                Ok(Issued {
                    access_token: AccessToken::new(format!("access-{n}")),
                    expires_in: Duration::from_secs(1800),
                    refresh_token: None,
                })
            })
        });
        let source = Arc::new(OAuthSource::new(
            OAuthCredentials::new("id", "secret", "refresh"),
            endpoint,
        ));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let source = source.clone();
                tokio::spawn(async move { source.token().await })
            })
            .collect();
        for task in tasks {
            assert!(matches!(
                task.await.unwrap(),
                Err(AuthError::Unreachable { .. })
            ));
        }
        // One call to the endpoint for the twenty callers that waited for it.
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A caller that asks after the failure tries again.
        assert_eq!(source.token().await.unwrap().expose(), "access-1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(source.refreshes(), 1);
    }

    #[test]
    fn a_refresh_token_file_is_replaced_whole_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refresh");
        std::fs::write(&path, "old-token\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        write_refresh_token_file(&path, &SecretString::from("new-token".to_string())).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new-token\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // A directory that does not exist: an error, and nothing written.
        let missing = dir.path().join("missing").join("refresh");
        assert!(write_refresh_token_file(&missing, &SecretString::from("x".to_string())).is_err());
    }
}
