//! Client-side pacing: a GCRA limiter shared by every clone of a client, tightened by
//! HubSpot's rate-limit headers.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use tokio::time::Instant;

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

fn limiter(requests: u32, interval: Duration) -> Arc<DefaultDirectRateLimiter> {
    let period = period(requests, interval).max(Duration::from_nanos(1));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota))
}

struct State {
    limiter: Arc<DefaultDirectRateLimiter>,
    requests: u32,
    interval: Duration,
    hold_until: Option<Instant>,
}

/// Paces requests to the budget, and remembers HubSpot's daily stop; shared by all clones of a
/// client.
pub(crate) struct Pacer {
    state: Option<Mutex<State>>,
    /// HubSpot's message from the daily 429, and until when nothing is sent.
    daily_stop: Mutex<Option<(String, std::time::SystemTime)>>,
}

/// When HubSpot's daily limit resets, at the latest: the account's midnight is not known, so
/// the next UTC midnight (a request after it that meets the limit again stops again).
fn next_utc_midnight(now: std::time::SystemTime) -> std::time::SystemTime {
    const DAY: u64 = 86_400;
    let since_epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    std::time::UNIX_EPOCH + Duration::from_secs((since_epoch / DAY + 1) * DAY)
}

impl Pacer {
    pub(crate) fn new(budget: RateBudget) -> Self {
        let state = match budget {
            RateBudget::Unlimited => None,
            RateBudget::Limited { requests, interval } => Some(Mutex::new(State {
                limiter: limiter(requests, interval),
                requests,
                interval,
                hold_until: None,
            })),
        };
        Self {
            state,
            daily_stop: Mutex::new(None),
        }
    }

    /// Records HubSpot's daily stop: nothing is sent by any clone until the limit resets.
    pub(crate) fn stop_daily(&self, message: &str) {
        let until = next_utc_midnight(std::time::SystemTime::now());
        *self
            .daily_stop
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some((message.to_string(), until));
    }

    /// HubSpot's message, while its daily limit is known to be reached.
    pub(crate) fn daily_stop(&self) -> Option<String> {
        let mut stop = self
            .daily_stop
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*stop {
            Some((_, until)) if std::time::SystemTime::now() >= *until => {
                *stop = None;
                None
            }
            Some((message, _)) => Some(message.clone()),
            None => None,
        }
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, State>> {
        self.state
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }

    /// Waits until a request may be sent.
    pub(crate) async fn ready(&self) {
        loop {
            let (limiter, hold) = match self.lock() {
                None => return,
                Some(state) => (state.limiter.clone(), state.hold_until),
            };
            if let Some(until) = hold {
                tokio::time::sleep_until(until).await;
            }
            limiter.until_ready().await;
            // The limiter may have been replaced (tightened) while this task waited on the old one.
            match self.lock() {
                Some(state) if !Arc::ptr_eq(&state.limiter, &limiter) => continue,
                _ => return,
            }
        }
    }

    /// The budget currently applied.
    pub(crate) fn current(&self) -> RateBudget {
        match self.lock() {
            None => RateBudget::Unlimited,
            Some(state) => RateBudget::Limited {
                requests: state.requests,
                interval: state.interval,
            },
        }
    }

    /// Learns from HubSpot's rate-limit headers: a lower budget than configured replaces it,
    /// and an exhausted window holds sending for one period.
    pub(crate) fn observe(&self, headers: &HeaderMap) {
        let Some(mut state) = self.lock() else {
            return;
        };
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let max = number("x-hubspot-ratelimit-max");
        let interval =
            number("x-hubspot-ratelimit-interval-milliseconds").map(Duration::from_millis);
        if let (Some(max), Some(interval)) = (max, interval) {
            let max = u32::try_from(max).unwrap_or(u32::MAX);
            // max/interval < requests/state.interval, compared without division.
            let lower = max > 0
                && !interval.is_zero()
                && u128::from(max) * state.interval.as_nanos()
                    < u128::from(state.requests) * interval.as_nanos();
            if lower {
                tracing::info!(
                    requests = max,
                    interval_ms = interval.as_millis() as u64,
                    "HubSpot's rate-limit headers announce a lower budget; pacing to it"
                );
                state.limiter = limiter(max, interval);
                state.requests = max;
                state.interval = interval;
                // A longer hold already in force stays.
                let until = Instant::now() + period(max, interval);
                state.hold_until = Some(state.hold_until.map_or(until, |h| h.max(until)));
            }
        }
        if number("x-hubspot-ratelimit-remaining") == Some(0) {
            let until = Instant::now() + period(state.requests, state.interval);
            state.hold_until = Some(state.hold_until.map_or(until, |h| h.max(until)));
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
        pacer.observe(&headers);
        assert_eq!(pacer.current(), "100/10s".parse().unwrap());
        headers.insert("x-hubspot-ratelimit-max", HeaderValue::from_static("200"));
        pacer.observe(&headers);
        assert_eq!(pacer.current(), "100/10s".parse().unwrap(), "never raised");
        let unlimited = Pacer::new(RateBudget::Unlimited);
        unlimited.observe(&headers);
        assert_eq!(unlimited.current(), RateBudget::Unlimited);
    }

    #[tokio::test]
    async fn a_tightening_never_shortens_a_longer_hold() {
        // 2/1s holds an exhausted window for a whole second.
        let pacer = Pacer::new("2/1s".parse().unwrap());
        let mut exhausted = HeaderMap::new();
        exhausted.insert(
            "x-hubspot-ratelimit-remaining",
            HeaderValue::from_static("0"),
        );
        pacer.observe(&exhausted);
        let held = pacer.lock().unwrap().hold_until.unwrap();
        // 10/6s is a lower budget whose spacing is shorter than that hold: the hold stays.
        let mut lower = HeaderMap::new();
        lower.insert("x-hubspot-ratelimit-max", HeaderValue::from_static("10"));
        lower.insert(
            "x-hubspot-ratelimit-interval-milliseconds",
            HeaderValue::from_static("6000"),
        );
        pacer.observe(&lower);
        assert_eq!(pacer.current(), "10/6s".parse().unwrap());
        assert!(pacer.lock().unwrap().hold_until.unwrap() >= held);
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
        let pacer = Pacer::new(RateBudget::Unlimited);
        assert_eq!(pacer.daily_stop(), None);
        pacer.stop_daily("You have reached your daily limit.");
        assert_eq!(
            pacer.daily_stop().as_deref(),
            Some("You have reached your daily limit.")
        );
    }

    #[tokio::test]
    async fn an_exhausted_window_holds_the_next_request() {
        let pacer = Pacer::new("10/100ms".parse().unwrap());
        pacer.ready().await;
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-hubspot-ratelimit-remaining",
            HeaderValue::from_static("0"),
        );
        pacer.observe(&headers);
        let start = std::time::Instant::now();
        pacer.ready().await;
        assert!(
            start.elapsed() >= period(10, Duration::from_millis(100)) - Duration::from_millis(1)
        );
    }
}
