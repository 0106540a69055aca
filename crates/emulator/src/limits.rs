//! Request budgets per caller (a static token, or an OAuth app): a rolling window and a daily
//! count.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use chrono::{NaiveDate, Utc};

use crate::config::RateBudget;
use crate::state::lock;

/// A rolling window: at most `max` requests in any `interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    max: u32,
    interval: std::time::Duration,
}

/// Which budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// The rolling window (`TEN_SECONDLY_ROLLING`).
    Rolling,
    /// The daily budget (`DAILY`).
    Daily,
}

/// The values of the rate-limit headers after a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Budget {
    /// `(max, remaining, interval ms)` of the rolling window, when one is configured.
    pub rolling: Option<(u32, u32, u128)>,
    /// `(max, remaining)` of the daily budget, when one is configured.
    pub daily: Option<(u64, u64)>,
}

#[derive(Debug, Default)]
struct TokenUsage {
    window: VecDeque<Instant>,
    day: Option<NaiveDate>,
    day_count: u64,
}

/// The budgets of every caller: a static token, or an OAuth app.
///
/// Only admitted requests are counted: a request refused with a 429 does not consume budget,
/// so that a client retrying after a 429 is never held back longer than by HubSpot (whose
/// documentation does not say that refused calls count).
pub(crate) struct Limiter {
    rolling: Option<Window>,
    daily: Option<u64>,
    usage: Mutex<HashMap<String, TokenUsage>>,
}

// The budgets are keyed by tokens, which must not show in `Debug` output.
impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("rolling", &self.rolling)
            .field("daily", &self.daily)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    pub(crate) fn new(rolling: RateBudget, daily: Option<u64>) -> Self {
        let rolling = match rolling {
            RateBudget::Limited { requests, interval } => Some(Window {
                max: requests,
                interval,
            }),
            RateBudget::Unlimited => None,
        };
        Self {
            rolling,
            daily,
            usage: Mutex::new(HashMap::new()),
        }
    }

    /// Whether any budget is configured.
    pub(crate) fn enabled(&self) -> bool {
        self.rolling.is_some() || self.daily.is_some()
    }

    /// The headers' values for a request that is not counted (no known token).
    pub(crate) fn full_budget(&self) -> Budget {
        Budget {
            rolling: self.rolling.map(|r| (r.max, r.max, r.interval.as_millis())),
            daily: self.daily.map(|d| (d, d)),
        }
    }

    /// Counts a request against the budgets of `key` (a token, or an app) if they allow it.
    pub(crate) fn admit(&self, key: &str) -> (Budget, Result<(), Policy>) {
        if !self.enabled() {
            return (Budget::default(), Ok(()));
        }
        let now = Instant::now();
        let today = Utc::now().date_naive();
        let mut usage = lock(&self.usage);
        let entry = match usage.get_mut(key) {
            Some(entry) => entry,
            None => usage.entry(key.to_string()).or_default(),
        };
        if entry.day != Some(today) {
            entry.day = Some(today);
            entry.day_count = 0;
        }
        if let Some(limit) = self.rolling {
            while entry
                .window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= limit.interval)
            {
                entry.window.pop_front();
            }
        }
        let verdict = if self.daily.is_some_and(|d| entry.day_count >= d) {
            Err(Policy::Daily)
        } else if self
            .rolling
            .is_some_and(|r| entry.window.len() >= r.max as usize)
        {
            Err(Policy::Rolling)
        } else {
            if self.rolling.is_some() {
                entry.window.push_back(now);
            }
            entry.day_count += 1;
            Ok(())
        };
        let budget = Budget {
            rolling: self.rolling.map(|r| {
                let used = u32::try_from(entry.window.len()).unwrap_or(u32::MAX);
                (r.max, r.max.saturating_sub(used), r.interval.as_millis())
            }),
            daily: self.daily.map(|d| (d, d.saturating_sub(entry.day_count))),
        };
        (budget, verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn refused_requests_do_not_consume_budget() {
        let limiter = Limiter::new(
            RateBudget::Limited {
                requests: 2,
                interval: Duration::from_secs(60),
            },
            Some(3),
        );
        assert_eq!(limiter.admit("a").0.rolling, Some((2, 1, 60_000)));
        assert!(limiter.admit("a").1.is_ok());
        for _ in 0..3 {
            let (budget, verdict) = limiter.admit("a");
            assert_eq!(verdict, Err(Policy::Rolling));
            assert_eq!(budget.daily, Some((3, 1)));
        }
        // Another token has its own budget.
        assert!(limiter.admit("b").1.is_ok());
    }

    #[test]
    fn daily_budget_runs_out() {
        let limiter = Limiter::new(RateBudget::Unlimited, Some(1));
        assert!(limiter.admit("a").1.is_ok());
        assert_eq!(limiter.admit("a").1, Err(Policy::Daily));
    }
}
