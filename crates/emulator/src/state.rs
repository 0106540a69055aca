//! What the handlers share: the schema, the records, the callers' credentials and budgets,
//! the fault and latency generators, and the request count with the first and last arrival.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::config::{BatchErrors, EmulatorConfig, TokenGrant};
use crate::faults::FaultInjector;
use crate::latency::LatencySampler;
use crate::limits::Limiter;
use crate::oauth::TokenAuthority;
use crate::schema::Schema;
use crate::store::Store;

/// Everything the handlers share.
pub(crate) struct AppState {
    pub(crate) schema: Schema,
    store: Mutex<Store>,
    /// `None`: every non-empty bearer token is accepted with every scope.
    pub(crate) tokens: Option<HashMap<String, TokenGrant>>,
    /// Whether any OAuth app is configured; without one no access token is ever issued.
    pub(crate) oauth_enabled: bool,
    oauth: Mutex<TokenAuthority>,
    pub(crate) limiter: Limiter,
    pub(crate) faults: FaultInjector,
    pub(crate) latency: LatencySampler,
    /// The token endpoint takes HubSpot's time to answer too, drawn from a stream of its own.
    pub(crate) token_latency: LatencySampler,
    pub(crate) batch_errors: BatchErrors,
    pub(crate) body_timeout: Duration,
    requests: AtomicU64,
    /// When the first and the latest counted request arrived, in milliseconds since the
    /// epoch; 0 until one did.
    first_arrival_ms: AtomicU64,
    last_arrival_ms: AtomicU64,
}

// Tokens and secrets must not show in `Debug` output.
impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("static_tokens", &self.tokens.as_ref().map(HashMap::len))
            .field("oauth_enabled", &self.oauth_enabled)
            .field("limiter", &self.limiter)
            .field("batch_errors", &self.batch_errors)
            .field("requests", &self.request_count())
            .finish_non_exhaustive()
    }
}

/// Locks a mutex, going on past a panic of another holder: the state it guards is only
/// ever changed in steps that leave it consistent.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl AppState {
    /// The state for `config`, which was validated.
    pub(crate) fn new(config: &EmulatorConfig) -> Self {
        let tokens = (!config.tokens.is_empty()).then(|| {
            config
                .tokens
                .iter()
                .map(|grant| (grant.token.clone(), grant.clone()))
                .collect()
        });
        let schema = Schema::new(&config.properties);
        Self {
            store: Mutex::new(Store::new(schema.clone())),
            schema,
            tokens,
            oauth_enabled: !config.oauth_clients.is_empty(),
            oauth: Mutex::new(TokenAuthority::new(
                &config.oauth_clients,
                config.token_ttl,
                config.rotate_refresh_tokens,
            )),
            limiter: Limiter::new(config.rate_limit, config.daily_limit),
            faults: FaultInjector::new(config.faults, config.seed),
            latency: LatencySampler::new(config.latency, config.seed),
            token_latency: LatencySampler::for_tokens(config.latency, config.seed),
            batch_errors: config.batch_errors,
            body_timeout: config.body_timeout,
            requests: AtomicU64::new(0),
            first_arrival_ms: AtomicU64::new(0),
            last_arrival_ms: AtomicU64::new(0),
        }
    }

    /// The records, locked.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// The OAuth state, locked.
    pub(crate) fn oauth(&self) -> MutexGuard<'_, TokenAuthority> {
        lock(&self.oauth)
    }

    /// Counts a request on the HubSpot routes, and notes when it arrived.
    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        // A clock before the epoch would read as "none yet"; 1 ms keeps it a time.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            })
            .max(1);
        let _ =
            self.first_arrival_ms
                .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        self.last_arrival_ms.fetch_max(now, Ordering::Relaxed);
    }

    /// The requests counted so far.
    pub(crate) fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// When the first and the latest counted request arrived, in milliseconds since the
    /// epoch, once one did.
    pub(crate) fn arrivals_ms(&self) -> Option<(u64, u64)> {
        let first = self.first_arrival_ms.load(Ordering::Relaxed);
        let last = self.last_arrival_ms.load(Ordering::Relaxed);
        (first != 0).then(|| (first, last.max(first)))
    }
}
