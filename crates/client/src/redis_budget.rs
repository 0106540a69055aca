//! A rate budget many processes share, kept in Redis (stock Redis 6 or 7, no modules).
//!
//! Each admission is one Lua script (`EVALSHA`, loaded once) running GCRA on Redis's own clock
//! (`TIME`), so processes on different machines, with different clocks, share one spacing of
//! requests. A request reserves the next free slot and is sent at it: slots stay a period apart
//! on Redis's clock whatever the processes' timers and round trips add. The same keys carry a lower budget HubSpot announced, a hold after an exhausted
//! window, and HubSpot's daily stop, so that every process sharing the key learns of them at
//! its next request.

use std::fmt;
use std::time::{Duration, SystemTime};

use redis::aio::ConnectionManager;
use redis::{Script, Value};
use tokio::sync::OnceCell;

use crate::error::ConfigError;
use crate::pace::RateBudget;
use crate::store::{Admission, BudgetStore, Pace, StoreError, StoreFuture};

/// GCRA with a burst of one, on Redis's clock, by reservation: each caller is given the next
/// free slot (at least one period after the previous one) and sends at it, without asking
/// again, so that slots stay exactly a period apart whatever the callers' timers and round
/// trips add. Returns `{wait µs, daily stop message, tighter budget}`: `wait == -1` with a
/// message for the daily stop; otherwise the wait until the caller's slot (0: now).
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local daily = redis.call('GET', KEYS[4])
if daily then return {-1, daily, ''} end
local period = tonumber(ARGV[1])
local tight = redis.call('GET', KEYS[2])
local tighter = ''
if tight and period > 0 then
  local p = tonumber(string.match(tight, '^(%d+)'))
  if p and p > period then period = p; tighter = tight end
end
if period == 0 then return {0, '', ''} end
local slot = now
local hold = tonumber(redis.call('GET', KEYS[3]) or '0')
if hold > slot then slot = hold end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat > slot then slot = tat end
local nxt = slot + period
redis.call('SET', KEYS[1], nxt, 'PX', math.floor((nxt - now) / 1000) + 1000)
return {slot - now, '', tighter}
";

/// Raises a number kept at KEYS[1] to ARGV[1] (plus Redis's clock when ARGV[2] is `from-now`),
/// never lowers it; ARGV[3] is the value's text when it is not the number alone. The key
/// expires after ARGV[4] ms.
const RAISE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local value = tonumber(ARGV[1])
if ARGV[2] == 'from-now' then value = value + now end
local current = redis.call('GET', KEYS[1])
local held = current and tonumber(string.match(current, '^(%d+)')) or 0
if value > held then
  local text = ARGV[3]
  if text == '' then text = tostring(value) end
  redis.call('SET', KEYS[1], text, 'PX', ARGV[4])
end
return 0
";

/// How long a lower budget HubSpot announced stays recorded without being announced again.
const TIGHTENING_LIFETIME: Duration = Duration::from_secs(3600);

/// A rate budget kept in Redis and shared by every process that uses the same key: together
/// they stay within the budget, HubSpot's rate-limit headers tighten it for all of them, and
/// HubSpot's daily 429 stops all of them until it resets.
///
/// Give it to [`ClientBuilder::rate_store`](crate::ClientBuilder::rate_store). Nothing connects
/// until the first request. **A store that cannot be reached is not a licence to send**: a
/// request waits for Redis, retrying, within the client's
/// [`timeout`](crate::ClientBuilder::timeout), and then the run stops with the rest
/// [`NotAttempted::BudgetStoreUnavailable`](crate::NotAttempted::BudgetStoreUnavailable).
///
/// The key is the name given with [`key`](Self::key), or else a hash of the app's credentials
/// (the static token, or the OAuth client id), never the credentials themselves.
///
/// ```
/// use hubspot_projects::{Client, RedisBudget};
/// let client = Client::builder()
///     .access_token("pat-na1-00000000-0000-0000-0000-000000000000")
///     .rate_budget("190/10s".parse().unwrap())
///     .rate_store(RedisBudget::new("redis://127.0.0.1:6379/0").unwrap().key("portal-1234"))
///     .build()
///     .unwrap();
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct RedisBudget {
    client: redis::Client,
    url: String,
    key: Option<String>,
}

impl fmt::Debug for RedisBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBudget")
            .field("url", &self.url)
            .field("key", &self.key)
            .finish()
    }
}

impl RedisBudget {
    /// A budget in the Redis at `url` (`redis://HOST:PORT/DB`). Only the URL is checked here.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        let client = redis::Client::open(url)
            .map_err(|e| ConfigError::BudgetStore(format!("{}: {e}", redacted_url(url))))?;
        Ok(Self {
            client,
            url: redacted_url(url),
            key: None,
        })
    }

    /// The name every process sharing the budget uses.
    pub fn key(mut self, name: impl Into<String>) -> Self {
        self.key = Some(name.into());
        self
    }

    /// The name given, if any.
    pub(crate) fn name(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The store for `name`.
    pub(crate) fn store(&self, name: &str, patience: Duration) -> RedisStore {
        let prefix = format!("hubspot-projects:budget:{{{name}}}");
        RedisStore {
            client: self.client.clone(),
            connection: OnceCell::new(),
            patience,
            tat: format!("{prefix}:tat"),
            tightened: format!("{prefix}:tightened"),
            hold: format!("{prefix}:hold"),
            daily: format!("{prefix}:daily-stop"),
            admit: Script::new(ADMIT),
            raise: Script::new(RAISE),
        }
    }
}

/// A URL without its password, for messages.
fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// The key derived from credentials: a SHA-256 of them, in hex, never the credentials.
pub(crate) fn hashed_key(credentials: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, credentials.as_bytes());
    digest
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl From<redis::RedisError> for StoreError {
    fn from(error: redis::RedisError) -> Self {
        Self(format!("Redis: {error}"))
    }
}

/// The Redis side of a shared budget.
pub(crate) struct RedisStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    patience: Duration,
    tat: String,
    tightened: String,
    hold: String,
    daily: String,
    admit: Script,
    raise: Script,
}

impl RedisStore {
    async fn connection(&self) -> Result<ConnectionManager, StoreError> {
        let timeout = self.patience.min(Duration::from_secs(5));
        self.connection
            .get_or_try_init(|| async {
                let config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .cloned()
            .map_err(StoreError::from)
    }

    async fn raise(
        &self,
        key: &str,
        value: u64,
        from_now: bool,
        text: &str,
        lifetime: Duration,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection().await?;
        let _: i64 = self
            .raise
            .key(key)
            .arg(value)
            .arg(if from_now { "from-now" } else { "absolute" })
            .arg(text)
            .arg(lifetime.as_millis().max(1) as u64)
            .invoke_async(&mut connection)
            .await?;
        Ok(())
    }
}

/// `requests interval_ms` of a budget, as the tightened key keeps it after the period.
fn budget_text(pace: Pace) -> String {
    match pace.budget {
        RateBudget::Limited { requests, interval } => format!(
            "{} {requests} {}",
            pace.period.as_micros(),
            interval.as_millis()
        ),
        RateBudget::Unlimited => "0".to_string(),
    }
}

/// The pace a tightened key's text describes.
fn pace_of_text(text: &str) -> Option<Pace> {
    let mut parts = text.split_whitespace().skip(1);
    let requests = parts.next()?.parse().ok()?;
    let interval = Duration::from_millis(parts.next()?.parse().ok()?);
    Some(Pace::of(RateBudget::limited(requests, interval)?))
}

impl BudgetStore for RedisStore {
    fn admit(&self, pace: Pace) -> StoreFuture<'_, Admission> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let answer: Vec<Value> = self
                .admit
                .key(&self.tat)
                .key(&self.tightened)
                .key(&self.hold)
                .key(&self.daily)
                .arg(pace.period.as_micros() as u64)
                .invoke_async(&mut connection)
                .await?;
            let text = |value: Option<&Value>| -> String {
                match value {
                    Some(Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
                    Some(Value::SimpleString(text)) => text.clone(),
                    _ => String::new(),
                }
            };
            let wait = match answer.first() {
                Some(Value::Int(n)) => *n,
                other => {
                    return Err(StoreError(format!("the budget script answered {other:?}")));
                }
            };
            if wait < 0 {
                return Ok(Admission::DailyStop(text(answer.get(1))));
            }
            let pace = pace_of_text(&text(answer.get(2))).unwrap_or(pace);
            if wait > 0 {
                return Ok(Admission::Reserved(
                    Duration::from_micros(wait as u64),
                    pace,
                ));
            }
            Ok(Admission::Now(pace))
        })
    }

    fn tighten(&self, pace: Pace) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.raise(
                &self.tightened,
                pace.period.as_micros() as u64,
                false,
                &budget_text(pace),
                TIGHTENING_LIFETIME,
            )
            .await
        })
    }

    fn hold(&self, duration: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.raise(
                &self.hold,
                duration.as_micros() as u64,
                true,
                "",
                duration + Duration::from_secs(1),
            )
            .await
        })
    }

    fn daily_stop(&self) -> StoreFuture<'_, Option<String>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            redis::cmd("GET")
                .arg(&self.daily)
                .query_async(&mut connection)
                .await
                .map_err(StoreError::from)
        })
    }

    fn stop_daily(&self, message: &str, until: SystemTime) -> StoreFuture<'_, ()> {
        let message = message.to_string();
        Box::pin(async move {
            let lifetime = until
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::from_secs(1))
                .max(Duration::from_secs(1));
            let mut connection = self.connection().await?;
            let _: () = redis::cmd("SET")
                .arg(&self.daily)
                .arg(message)
                .arg("PX")
                .arg(lifetime.as_millis() as u64)
                .query_async(&mut connection)
                .await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_hold_the_credentials_and_urls_hide_passwords() {
        let key = hashed_key("pat-na1-SECRET");
        assert_eq!(key.len(), 32);
        assert!(!key.contains("SECRET"));
        assert_eq!(key, hashed_key("pat-na1-SECRET"));
        assert_ne!(key, hashed_key("pat-na1-OTHER"));
        let budget = RedisBudget::new("redis://user:hunter2@127.0.0.1:6379/0").unwrap();
        assert!(!format!("{budget:?}").contains("hunter2"));
        assert!(RedisBudget::new("not a url").is_err());
    }

    #[test]
    fn a_tightened_budget_round_trips_through_its_text() {
        let pace = Pace::of("100/10s".parse().unwrap());
        assert_eq!(pace_of_text(&budget_text(pace)), Some(pace));
        assert_eq!(pace_of_text(""), None);
        assert_eq!(pace_of_text("12 x y"), None);
    }
}
