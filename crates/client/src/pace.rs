//! Client-side pacing: GCRA, in this process or in a store many processes share, tightened by
//! HubSpot's rate-limit headers.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hubspot_projects_api::headers;
use reqwest::header::HeaderMap;

use crate::outcome::NotAttempted;
use crate::store::{Admission, BudgetStore, Pace, StoreError};

pub use hubspot_projects_budget::{ParseRateBudgetError, RateBudget};

/// The even spacing that keeps `requests` per `interval` in any window, measured at the server.
///
/// GCRA with a burst of 1 lets one request through per period, so requests leave at least a
/// period apart. Spaced exactly `interval / requests`, a window of `interval` would hold
/// `requests` only if every request took exactly as long to reach the server; a request that
/// arrives a little late next to one that arrives early would make `requests + 1`. A slack of
/// 2% of the interval in every window absorbs that jitter (20 ms in a second, 200 ms in ten)
/// and leaves 98% of the budget usable.
pub(crate) fn period(requests: u32, interval: Duration) -> Duration {
    (interval + interval / 50) / requests.max(1)
}

/// Paces requests to the budget through a [`BudgetStore`] (this process's, or one many
/// processes share), learns from HubSpot's rate-limit headers, and passes on HubSpot's daily
/// stop; shared by all clones of a client.
pub(crate) struct Pacer {
    configured: RateBudget,
    /// The budget in force: the configured one, or a lower one HubSpot announced.
    current: Mutex<RateBudget>,
    store: Arc<dyn BudgetStore>,
    /// How long the store may fail before a request gives up on it.
    store_patience: Duration,
}

/// How long a request that reserved its slot waits for the store to say whether the daily
/// limit was met meanwhile: a store round trip, with room to spare, well within the 2% of each
/// window kept for jitter.
const DAILY_CHECK_PATIENCE: Duration = Duration::from_millis(5);

/// When HubSpot's daily limit resets, at the latest: the account's midnight is not known, so
/// the next UTC midnight (a request after it that meets the limit again stops again).
fn next_utc_midnight(now: SystemTime) -> SystemTime {
    const DAY: u64 = 86_400;
    let since_epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    std::time::UNIX_EPOCH + Duration::from_secs((since_epoch / DAY + 1) * DAY)
}

impl Pacer {
    /// A pacer for `budget` in this process's own store.
    #[cfg(test)]
    pub(crate) fn new(budget: RateBudget) -> Self {
        Self::with_store(
            budget,
            Arc::new(crate::store::LocalBudget::new()),
            Duration::from_secs(60),
        )
    }

    /// A pacer for `budget` kept in `store`; a request waits at most `store_patience` for a
    /// failing store.
    pub(crate) fn with_store(
        budget: RateBudget,
        store: Arc<dyn BudgetStore>,
        store_patience: Duration,
    ) -> Self {
        Self {
            configured: budget,
            current: Mutex::new(budget),
            store,
            store_patience,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RateBudget> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The budget currently applied.
    pub(crate) fn current(&self) -> RateBudget {
        *self.lock()
    }

    /// Waits until a request may be sent. Never lets one go unpaced: when the store fails for
    /// longer than the request's patience, the request is not sent, and says why.
    pub(crate) async fn ready(&self) -> Result<(), NotAttempted> {
        let mut failing_since: Option<tokio::time::Instant> = None;
        let mut backoff = Duration::from_millis(50);
        loop {
            let asked = Pace::of(self.current());
            match self.store.admit(asked).await {
                Ok(Admission::Now(pace)) => {
                    // A tighter pace another process recorded.
                    self.lower_to(pace.budget);
                    return Ok(());
                }
                Ok(Admission::Reserved(wait, pace)) => {
                    self.lower_to(pace.budget);
                    tokio::time::sleep(wait).await;
                    // Another sharer may have met the daily limit meanwhile. The slot was
                    // reserved while the store answered, so a store that fails or is slow now
                    // does not take it back, nor delay it (a delayed send could bunch up with
                    // the next ones).
                    let check = tokio::time::timeout(DAILY_CHECK_PATIENCE, self.store.daily_stop());
                    return match check.await {
                        Ok(Ok(Some(message))) => Err(NotAttempted::DailyLimitReached { message }),
                        _ => Ok(()),
                    };
                }
                Ok(Admission::DailyStop(message)) => {
                    return Err(NotAttempted::DailyLimitReached { message });
                }
                Err(StoreError(message)) => {
                    let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() >= self.store_patience {
                        return Err(NotAttempted::BudgetStoreUnavailable { message });
                    }
                    tracing::warn!(
                        %message,
                        "the rate budget's store failed; waiting for it (nothing is sent unpaced)"
                    );
                    let left = self.store_patience.saturating_sub(since.elapsed());
                    tokio::time::sleep(backoff.min(left)).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Takes on `budget` if it is lower than the one in force; returns whether it was.
    fn lower_to(&self, budget: RateBudget) -> bool {
        let mut current = self.lock();
        let lower = budget.is_lower_than(&current);
        if lower {
            *current = budget;
        }
        lower
    }

    /// Records HubSpot's daily stop for everyone sharing the budget, until it resets.
    pub(crate) async fn stop_daily(&self, message: &str) {
        let until = next_utc_midnight(SystemTime::now());
        if let Err(StoreError(error)) = self.store.stop_daily(message, until).await {
            tracing::warn!(%error, "the daily stop could not be recorded in the rate budget's store");
        }
    }

    /// Learns from HubSpot's rate-limit headers: a lower budget than the one in force replaces
    /// it (for everyone sharing the store), and an exhausted window holds sending for one
    /// period.
    pub(crate) async fn observe(&self, headers: &HeaderMap) {
        if self.configured == RateBudget::Unlimited {
            return;
        }
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let announced = match (
            number(headers::RATE_LIMIT_MAX),
            number(headers::RATE_LIMIT_INTERVAL_MILLISECONDS),
        ) {
            (Some(max), Some(interval)) => RateBudget::limited(
                u32::try_from(max).unwrap_or(u32::MAX),
                Duration::from_millis(interval),
            ),
            _ => None,
        };
        let mut hold = None;
        if let Some(announced) = announced
            && self.lower_to(announced)
        {
            tracing::info!(
                budget = %announced,
                "HubSpot's rate-limit headers announce a lower budget; pacing to it"
            );
            let pace = Pace::of(announced);
            self.report(self.store.tighten(pace).await);
            hold = Some(pace.period);
        }
        if number(headers::RATE_LIMIT_REMAINING) == Some(0) {
            let period = Pace::of(self.current()).period;
            hold = Some(hold.map_or(period, |h: Duration| h.max(period)));
        }
        if let Some(hold) = hold {
            self.report(self.store.hold(hold).await);
        }
    }

    fn report(&self, result: Result<(), StoreError>) {
        if let Err(StoreError(error)) = result {
            tracing::warn!(
                %error,
                "the rate budget's store could not record what HubSpot's headers said"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn the_period_keeps_every_window_within_budget() {
        for (requests, interval) in [
            (20, 1000u64),
            (100, 10_000),
            (190, 10_000),
            (1, 1000),
            (2, 1000),
        ] {
            let interval = Duration::from_millis(interval);
            let period = period(requests, interval);
            // Requests evenly spaced by `period`: a half-open window of `interval` holds at most
            // this many, with 2% of the interval to spare for jitter on the way.
            let most = interval.as_nanos().div_ceil(period.as_nanos()) as u32;
            assert!(most <= requests, "{requests}/{interval:?}: {most}");
            let slack = period * requests - interval;
            assert!(slack >= interval / 51, "{requests}/{interval:?}: {slack:?}");
            assert!(slack <= interval / 45, "{requests}/{interval:?}: {slack:?}");
        }
    }

    #[tokio::test]
    async fn lower_budgets_announced_by_headers_replace_the_configured_one() {
        let pacer = Pacer::new("190/10s".parse().unwrap());
        let mut headers = HeaderMap::new();
        headers.insert("x-hubspot-ratelimit-max", HeaderValue::from_static("100"));
        headers.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            HeaderValue::from_static("10000"),
        );
        pacer.observe(&headers).await;
        assert_eq!(pacer.current(), "100/10s".parse().unwrap());
        headers.insert("x-hubspot-ratelimit-max", HeaderValue::from_static("200"));
        pacer.observe(&headers).await;
        assert_eq!(pacer.current(), "100/10s".parse().unwrap(), "never raised");
        let unlimited = Pacer::new(RateBudget::Unlimited);
        unlimited.observe(&headers).await;
        assert_eq!(unlimited.current(), RateBudget::Unlimited);
    }

    #[test]
    fn the_daily_stop_lasts_until_the_next_utc_midnight() {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let midnight = next_utc_midnight(at);
        let secs = midnight
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs % 86_400, 0);
        assert!(
            midnight > at && midnight.duration_since(at).unwrap() <= Duration::from_secs(86_400)
        );
    }

    #[tokio::test]
    async fn a_daily_stop_is_kept_for_every_request() {
        let pacer = Pacer::new(RateBudget::Unlimited);
        assert_eq!(pacer.ready().await, Ok(()));
        pacer.stop_daily("You have reached your daily limit.").await;
        assert_eq!(
            pacer.ready().await,
            Err(NotAttempted::DailyLimitReached {
                message: "You have reached your daily limit.".into()
            })
        );
    }

    /// A store that always fails.
    struct Broken;

    impl BudgetStore for Broken {
        fn admit(&self, _: Pace) -> crate::store::StoreFuture<'_, Admission> {
            Box::pin(async { Err(StoreError("connection refused".into())) })
        }
        fn tighten(&self, _: Pace) -> crate::store::StoreFuture<'_, ()> {
            Box::pin(async { Err(StoreError("connection refused".into())) })
        }
        fn hold(&self, _: Duration) -> crate::store::StoreFuture<'_, ()> {
            Box::pin(async { Err(StoreError("connection refused".into())) })
        }
        fn stop_daily(&self, _: &str, _: SystemTime) -> crate::store::StoreFuture<'_, ()> {
            Box::pin(async { Err(StoreError("connection refused".into())) })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_store_is_never_a_licence_to_send() {
        let pacer = Pacer::with_store(
            "10/1s".parse().unwrap(),
            Arc::new(Broken),
            Duration::from_secs(3),
        );
        let started = tokio::time::Instant::now();
        let verdict = pacer.ready().await;
        assert!(
            matches!(&verdict, Err(NotAttempted::BudgetStoreUnavailable { message }) if message.contains("refused")),
            "{verdict:?}"
        );
        // It waited for the store, within the patience, before giving up.
        assert!(started.elapsed() >= Duration::from_secs(3));
        assert!(started.elapsed() < Duration::from_secs(6));
    }

    #[tokio::test]
    async fn an_exhausted_window_holds_the_next_request() {
        let pacer = Pacer::new("10/100ms".parse().unwrap());
        pacer.ready().await.unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hubspot-ratelimit-remaining",
            HeaderValue::from_static("0"),
        );
        pacer.observe(&headers).await;
        let start = std::time::Instant::now();
        pacer.ready().await.unwrap();
        assert!(
            start.elapsed() >= period(10, Duration::from_millis(100)) - Duration::from_millis(1)
        );
    }
}
