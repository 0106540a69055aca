//! A HubSpot request budget: at most so many requests in any window of an interval, or no
//! budget at all.
//!
//! One type serves both sides of the wire: the client paces itself under a [`RateBudget`],
//! and the emulator enforces one.
//!
//! ```
//! use std::time::Duration;
//! use hubspot_projects_budget::RateBudget;
//! let budget: RateBudget = "190/10s".parse().unwrap();
//! assert_eq!(budget, RateBudget::Limited { requests: 190, interval: Duration::from_secs(10) });
//! assert_eq!(budget.to_string(), "190/10s");
//! assert_eq!("unlimited".parse::<RateBudget>().unwrap(), RateBudget::Unlimited);
//! ```

#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How many requests may be sent per interval.
///
/// The default is HubSpot's lowest budget for private apps, 100 requests per 10 s. Parse it
/// from text like `100/10s`, `190/10s`, `20/1s`, `20/s`, `5/500ms`, `600/1m` or `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateBudget {
    /// At most `requests` in any window of `interval`.
    Limited {
        /// Requests allowed per interval (at least 1).
        requests: u32,
        /// The window length (not zero).
        interval: Duration,
    },
    /// No budget: nothing is paced or limited.
    Unlimited,
}

impl Default for RateBudget {
    fn default() -> Self {
        Self::Limited {
            requests: 100,
            interval: Duration::from_secs(10),
        }
    }
}

impl RateBudget {
    /// A limited budget, or `None` when it would allow nothing (no request, or an empty
    /// interval).
    ///
    /// ```
    /// use std::time::Duration;
    /// use hubspot_projects_budget::RateBudget;
    /// assert!(RateBudget::limited(20, Duration::from_secs(1)).is_some());
    /// assert!(RateBudget::limited(0, Duration::from_secs(1)).is_none());
    /// ```
    pub fn limited(requests: u32, interval: Duration) -> Option<Self> {
        (requests > 0 && !interval.is_zero()).then_some(Self::Limited { requests, interval })
    }

    /// Requests per second, or `None` when unlimited.
    pub fn per_second(&self) -> Option<f64> {
        match self {
            Self::Unlimited => None,
            Self::Limited { requests, interval } => {
                Some(f64::from(*requests) / interval.as_secs_f64())
            }
        }
    }

    /// Whether `self` allows fewer requests per unit of time than `other`.
    ///
    /// ```
    /// use hubspot_projects_budget::RateBudget;
    /// let low: RateBudget = "100/10s".parse().unwrap();
    /// let high: RateBudget = "190/10s".parse().unwrap();
    /// assert!(low.is_lower_than(&high) && !high.is_lower_than(&low));
    /// assert!(high.is_lower_than(&RateBudget::Unlimited));
    /// ```
    pub fn is_lower_than(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Unlimited, _) => false,
            (Self::Limited { .. }, Self::Unlimited) => true,
            (
                Self::Limited { requests, interval },
                Self::Limited {
                    requests: other_requests,
                    interval: other_interval,
                },
            ) => {
                // requests/interval < other_requests/other_interval, without division.
                u128::from(*requests) * other_interval.as_nanos()
                    < u128::from(*other_requests) * interval.as_nanos()
            }
        }
    }
}

impl fmt::Display for RateBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unlimited => f.write_str("unlimited"),
            Self::Limited { requests, interval } => {
                if interval.subsec_nanos() == 0 {
                    write!(f, "{requests}/{}s", interval.as_secs())
                } else {
                    write!(f, "{requests}/{}ms", interval.as_millis())
                }
            }
        }
    }
}

/// Why a rate budget could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid rate budget {input:?}: expected REQUESTS/INTERVAL such as 100/10s, 20/1s or 500/500ms (at least one request in a non-empty interval), or `unlimited`"
)]
pub struct ParseRateBudgetError {
    input: String,
}

impl FromStr for RateBudget {
    type Err = ParseRateBudgetError;

    /// Parses `REQUESTS/INTERVAL` or `unlimited`. The interval's unit is `ms`, `s` (or `sec`)
    /// or `m` (or `min`); a missing number means 1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseRateBudgetError {
            input: s.to_string(),
        };
        let text = s.trim();
        if text.eq_ignore_ascii_case("unlimited") {
            return Ok(Self::Unlimited);
        }
        let (requests, interval) = text.split_once('/').ok_or_else(err)?;
        let requests: u32 = requests.trim().parse().map_err(|_| err())?;
        let interval = interval.trim();
        let split = interval
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(interval.len());
        let (number, unit) = interval.split_at(split);
        let number: u64 = if number.is_empty() {
            1
        } else {
            number.parse().map_err(|_| err())?
        };
        let millis_per_unit = match unit.trim() {
            "ms" => 1,
            "s" | "sec" => 1_000,
            "m" | "min" => 60_000,
            _ => return Err(err()),
        };
        let millis = number.checked_mul(millis_per_unit).ok_or_else(err)?;
        Self::limited(requests, Duration::from_millis(millis)).ok_or_else(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_in_the_documented_spellings() {
        let limited = |requests, interval| RateBudget::Limited { requests, interval };
        let s = Duration::from_secs;
        assert_eq!("100/10s".parse(), Ok(limited(100, s(10))));
        assert_eq!("190/10s".parse(), Ok(limited(190, s(10))));
        assert_eq!(" 20/1s ".parse(), Ok(limited(20, s(1))));
        assert_eq!("20/s".parse(), Ok(limited(20, s(1))));
        assert_eq!("20/1sec".parse(), Ok(limited(20, s(1))));
        assert_eq!("600/1m".parse(), Ok(limited(600, s(60))));
        assert_eq!(
            "5/500ms".parse(),
            Ok(limited(5, Duration::from_millis(500)))
        );
        assert_eq!("Unlimited".parse(), Ok(RateBudget::Unlimited));
        for bad in [
            "",
            "100",
            "0/10s",
            "10/0s",
            "x/10s",
            "10/10h",
            "10/-1s",
            "10 per second",
            "1/99999999999999999999m",
            "1/18446744073709551615m",
        ] {
            assert!(bad.parse::<RateBudget>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in ["100/10s", "5/500ms", "unlimited", "1/1s"] {
            let budget: RateBudget = text.parse().unwrap();
            assert_eq!(budget.to_string(), text);
            assert_eq!(budget.to_string().parse::<RateBudget>(), Ok(budget));
        }
    }

    #[test]
    fn per_second_and_comparison() {
        let budget: RateBudget = "100/10s".parse().unwrap();
        assert_eq!(budget.per_second(), Some(10.0));
        assert_eq!(RateBudget::Unlimited.per_second(), None);
        assert!(!budget.is_lower_than(&budget));
        assert!(!RateBudget::Unlimited.is_lower_than(&budget));
    }
}
