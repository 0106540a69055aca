//! Request budgets as HubSpot states them: a number of requests per interval.

use std::time::Duration;

/// Parses a budget written `REQUESTS/INTERVAL`: `100/10s`, `190/10s`, `20/1s`, `20/s`,
/// `5/500ms`, `600/1m`. The interval's unit is `ms`, `s` (or `sec`) or `m` (or `min`); a
/// missing number means 1. Returns `None` for anything else, and for a budget that allows no
/// request or has an empty interval. The client's pacing budget and the emulator's rate limit
/// both read this form.
///
/// ```
/// use std::time::Duration;
/// use hubspot_projects_api::parse_rate;
/// assert_eq!(parse_rate("100/10s"), Some((100, Duration::from_secs(10))));
/// assert_eq!(parse_rate("20/s"), Some((20, Duration::from_secs(1))));
/// assert_eq!(parse_rate("5/500ms"), Some((5, Duration::from_millis(500))));
/// assert_eq!(parse_rate("0/1s"), None);
/// assert_eq!(parse_rate("10 per second"), None);
/// ```
pub fn parse_rate(text: &str) -> Option<(u32, Duration)> {
    let (requests, interval) = text.trim().split_once('/')?;
    let requests: u32 = requests.trim().parse().ok()?;
    let interval = interval.trim();
    let split = interval
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(interval.len());
    let (number, unit) = interval.split_at(split);
    let number: u64 = if number.is_empty() {
        1
    } else {
        number.parse().ok()?
    };
    let millis_per_unit = match unit.trim() {
        "ms" => 1,
        "s" | "sec" => 1_000,
        "m" | "min" => 60_000,
        _ => return None,
    };
    let interval = Duration::from_millis(number.checked_mul(millis_per_unit)?);
    (requests > 0 && !interval.is_zero()).then_some((requests, interval))
}
