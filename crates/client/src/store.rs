//! Where a rate budget lives: in the process (the default), or in a store that many processes
//! share (Redis, behind the `redis` feature). The pacer asks the store for each request.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::pace::RateBudget;

/// A future a store returns.
pub(crate) type StoreFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The store could not be asked (Redis unreachable, a script error…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoreError(pub(crate) String);

/// A budget as the store keeps it: the spacing of requests, and the budget it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pace {
    /// The shortest time between two requests; zero for no budget.
    pub(crate) period: Duration,
    /// The budget the period comes from.
    pub(crate) budget: RateBudget,
}

impl Pace {
    pub(crate) fn of(budget: RateBudget) -> Self {
        let period = match budget {
            RateBudget::Unlimited => Duration::ZERO,
            RateBudget::Limited { requests, interval } => crate::pace::period(requests, interval),
        };
        Self { period, budget }
    }
}

/// What the store answers a request for admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send now, under this pace (tighter than asked when another process learned HubSpot
    /// announces a lower budget).
    Now(Pace),
    /// A slot is reserved this long from now, under this pace: send then, without asking again.
    Reserved(Duration, Pace),
    /// HubSpot's daily limit is reached for everyone sharing the budget: HubSpot's message.
    DailyStop(String),
}

/// A rate budget's keeper.
pub(crate) trait BudgetStore: Send + Sync {
    /// Admits one request under `pace` (or a tighter pace already recorded): now, or at a slot
    /// reserved for it.
    fn admit(&self, pace: Pace) -> StoreFuture<'_, Admission>;
    /// Records a lower budget HubSpot announced, for everyone sharing the store.
    fn tighten(&self, pace: Pace) -> StoreFuture<'_, ()>;
    /// Holds every request for `duration` from now (HubSpot's window is exhausted); a longer
    /// hold already in force stays.
    fn hold(&self, duration: Duration) -> StoreFuture<'_, ()>;
    /// Stops every request until `until`, with HubSpot's daily 429 message.
    fn stop_daily(&self, message: &str, until: SystemTime) -> StoreFuture<'_, ()>;

    /// HubSpot's message, when another sharer has met the daily limit since this one reserved
    /// its slot. Stores that never reserve ahead need not look.
    fn daily_stop(&self) -> StoreFuture<'_, Option<String>> {
        Box::pin(async { Ok(None) })
    }
}

/// The budget of one process, shared by every clone of a client: GCRA with a burst of one, by
/// reservation, as the Redis store does it. Each request is given the next free slot, at least
/// a period after the previous one, and is sent at it without asking again: slots stay exactly
/// a period apart, whatever the timers add to each wait. (Asking again after each wait lets
/// every admission start a little late and the schedule slip by that much each time: about a
/// tenth of a 20/1s budget was lost that way.)
pub(crate) struct LocalBudget {
    state: Mutex<LocalState>,
}

struct LocalState {
    /// The first instant not yet reserved.
    next_free: Option<tokio::time::Instant>,
    tightened: Option<Pace>,
    hold_until: Option<tokio::time::Instant>,
    daily: Option<(String, SystemTime)>,
}

impl LocalBudget {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(LocalState {
                next_free: None,
                tightened: None,
                hold_until: None,
                daily: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LocalState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn admit_now(&self, asked: Pace) -> Admission {
        let mut state = self.lock();
        if let Some((message, until)) = &state.daily {
            if SystemTime::now() < *until {
                return Admission::DailyStop(message.clone());
            }
            state.daily = None;
        }
        let pace = match state.tightened {
            Some(tight) if asked.period > Duration::ZERO && tight.period > asked.period => tight,
            _ => asked,
        };
        if pace.period.is_zero() {
            return Admission::Now(pace);
        }
        let now = tokio::time::Instant::now();
        let slot = [state.next_free, state.hold_until]
            .into_iter()
            .flatten()
            .fold(now, tokio::time::Instant::max);
        state.next_free = Some(slot + pace.period);
        if slot > now {
            Admission::Reserved(slot - now, pace)
        } else {
            Admission::Now(pace)
        }
    }
}

impl BudgetStore for LocalBudget {
    fn admit(&self, pace: Pace) -> StoreFuture<'_, Admission> {
        let admission = self.admit_now(pace);
        Box::pin(async move { Ok(admission) })
    }

    fn tighten(&self, pace: Pace) -> StoreFuture<'_, ()> {
        let mut state = self.lock();
        if state
            .tightened
            .is_none_or(|tight| pace.period > tight.period)
        {
            state.tightened = Some(pace);
        }
        Box::pin(async { Ok(()) })
    }

    fn hold(&self, duration: Duration) -> StoreFuture<'_, ()> {
        let mut state = self.lock();
        let until = tokio::time::Instant::now() + duration;
        state.hold_until = Some(state.hold_until.map_or(until, |held| held.max(until)));
        Box::pin(async { Ok(()) })
    }

    fn stop_daily(&self, message: &str, until: SystemTime) -> StoreFuture<'_, ()> {
        self.lock().daily = Some((message.to_string(), until));
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_reserved_a_period_apart() {
        let store = LocalBudget::new();
        let pace = Pace::of("10/1s".parse().unwrap());
        assert_eq!(store.admit(pace).await, Ok(Admission::Now(pace)));
        // Three more at once: each the next slot, a period after the one before.
        for n in 1..=3u32 {
            assert_eq!(
                store.admit(pace).await,
                Ok(Admission::Reserved(pace.period * n, pace))
            );
        }
        // Late wakers do not push the schedule: after a long pause the next one goes now.
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(store.admit(pace).await, Ok(Admission::Now(pace)));
        let unlimited = Pace::of(RateBudget::Unlimited);
        assert_eq!(store.admit(unlimited).await, Ok(Admission::Now(unlimited)));
    }

    #[tokio::test]
    async fn a_tighter_pace_holds_and_daily_stops_are_kept() {
        let store = LocalBudget::new();
        let asked = Pace::of("100/1s".parse().unwrap());
        let tight = Pace::of("10/1s".parse().unwrap());
        store.tighten(tight).await.unwrap();
        // A looser tightening does not undo it.
        store.tighten(asked).await.unwrap();
        assert_eq!(store.admit(asked).await, Ok(Admission::Now(tight)));
        store.hold(Duration::from_secs(5)).await.unwrap();
        store.hold(Duration::from_millis(1)).await.unwrap();
        assert!(
            matches!(store.admit(asked).await, Ok(Admission::Reserved(w, _)) if w > Duration::from_secs(4))
        );
        store
            .stop_daily("daily", SystemTime::now() + Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            store.admit(asked).await,
            Ok(Admission::DailyStop("daily".into()))
        );
        store
            .stop_daily("over", SystemTime::now() - Duration::from_secs(1))
            .await
            .unwrap();
        assert!(!matches!(
            store.admit(asked).await,
            Ok(Admission::DailyStop(_))
        ));
    }
}
