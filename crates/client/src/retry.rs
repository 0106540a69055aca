//! How long to wait before trying a request again.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// When to try a failed request again: a cap on attempts, and exponential backoff with full
/// jitter between a base and a maximum delay.
///
/// Only failures that can succeed later are retried (short-window 429s, 408, 5xx, connection
/// errors, timeouts); HubSpot's `Retry-After` is honoured when it asks for longer, up to
/// [`max_retry_after`](Self::max_retry_after) (a server asking for a day does not park a run
/// for a day: the wait is capped, and a warning says so).
///
/// ```
/// use std::time::Duration;
/// use hubspot_projects::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .with_max_attempts(10)
///     .with_base_delay(Duration::from_millis(250));
/// assert_eq!(policy.max_attempts(), 10);
/// assert_eq!(RetryPolicy::none().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

/// The longest `Retry-After` honoured unless set otherwise: HubSpot's own newer SDKs honour it
/// under a minute.
const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

impl Default for RetryPolicy {
    /// 8 attempts in all, backoff from 500 ms up to 30 s (at most about a minute of waiting),
    /// and `Retry-After` honoured up to 60 s.
    ///
    /// A bulk run of a million records sends 10,000 requests. Against a service that fails one
    /// request in six, 5 attempts would leave about one batch of 100 failed in every such run
    /// (10,000 × 0.16⁵); 8 attempts, one in about 230 runs (10,000 × 0.16⁸).
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }
}

impl RetryPolicy {
    /// A policy of `max_attempts` attempts in all (at least 1), with backoff from `base_delay`
    /// doubling up to `max_delay`.
    pub fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay: max_delay.max(base_delay),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }

    /// One attempt, never a retry.
    pub fn none() -> Self {
        Self::new(1, Duration::ZERO, Duration::ZERO)
    }

    /// Sets the number of attempts in all (at least 1).
    pub fn with_max_attempts(self, max_attempts: u32) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            ..self
        }
    }

    /// Sets the delay ceiling of the first retry.
    pub fn with_base_delay(self, base_delay: Duration) -> Self {
        Self {
            base_delay,
            max_delay: self.max_delay.max(base_delay),
            ..self
        }
    }

    /// Sets the largest delay ceiling.
    pub fn with_max_delay(self, max_delay: Duration) -> Self {
        Self {
            max_delay: max_delay.max(self.base_delay),
            ..self
        }
    }

    /// Sets the longest `Retry-After` honoured; a longer one is cut to this, with a warning.
    pub fn with_max_retry_after(self, max_retry_after: Duration) -> Self {
        Self {
            max_retry_after,
            ..self
        }
    }

    /// The longest `Retry-After` honoured.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay ceiling of the first retry.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The largest delay ceiling.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The delay ceilings, one per retry: base, 2×base, 4×base… capped at the maximum.
    pub(crate) fn ceilings(&self) -> impl Iterator<Item = Duration> + use<> {
        ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_factor(2.0)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build()
    }
}

/// Draws the jitter of retry delays.
pub(crate) struct Jitter(Mutex<SmallRng>);

impl Jitter {
    pub(crate) fn new() -> Self {
        let (seed, _) = uuid::Uuid::new_v4().as_u64_pair();
        Self(Mutex::new(SmallRng::seed_from_u64(seed)))
    }

    /// Full jitter: a delay drawn uniformly from zero to the ceiling.
    pub(crate) fn full(&self, ceiling: Duration) -> Duration {
        let fraction: f64 = match self.0.lock() {
            Ok(mut rng) => rng.random(),
            Err(poisoned) => poisoned.into_inner().random(),
        };
        ceiling.mul_f64(fraction)
    }
}

/// The wait before the next attempt: the jittered backoff, or longer when HubSpot asked for it,
/// but never longer than `cap` (when HubSpot asked for more, it is said).
pub(crate) fn next_delay(
    jittered: Duration,
    retry_after: Option<Duration>,
    cap: Duration,
) -> Duration {
    match retry_after {
        Some(asked) if asked > cap => {
            tracing::warn!(
                asked_s = asked.as_secs(),
                cap_s = cap.as_secs(),
                "HubSpot asked to wait longer than the retry policy's cap on Retry-After; waiting the cap"
            );
            cap
        }
        Some(asked) => asked.max(jittered),
        None => jittered,
    }
}

/// `Retry-After`, in delta-seconds or as an HTTP date, as a wait from `now`.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn ceilings_double_up_to_the_cap_and_stop_at_the_attempt_cap() {
        let policy = RetryPolicy::new(6, Duration::from_millis(100), Duration::from_millis(500));
        let ceilings: Vec<_> = policy.ceilings().map(|d| d.as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 500, 500]);
        assert_eq!(RetryPolicy::none().ceilings().count(), 0);
    }

    #[test]
    fn full_jitter_stays_under_the_ceiling_and_varies() {
        let jitter = Jitter::new();
        let ceiling = Duration::from_millis(1000);
        let draws: Vec<_> = (0..200).map(|_| jitter.full(ceiling)).collect();
        assert!(draws.iter().all(|d| *d <= ceiling));
        assert!(draws.iter().any(|d| *d < ceiling / 4));
        assert!(draws.iter().any(|d| *d > ceiling * 3 / 4));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&past).unwrap());
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }

    #[test]
    fn retry_after_wins_when_longer_up_to_the_cap() {
        let s = Duration::from_secs;
        let cap = s(60);
        assert_eq!(next_delay(s(1), Some(s(5)), cap), s(5));
        assert_eq!(next_delay(s(5), Some(s(1)), cap), s(5));
        assert_eq!(next_delay(s(2), None, cap), s(2));
        assert_eq!(next_delay(s(2), Some(s(86_400)), cap), cap);
        assert_eq!(RetryPolicy::default().max_retry_after(), cap);
        assert_eq!(
            RetryPolicy::default()
                .with_max_retry_after(s(5))
                .max_retry_after(),
            s(5)
        );
    }
}
