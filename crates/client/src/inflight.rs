//! How many requests may be in flight at once: enough to use the rate budget at the latency
//! HubSpot answers with, and no more.
//!
//! By Little's law, the requests in flight equal the rate they are sent at times the time each
//! takes. HubSpot answers a batch of 100 in 0.3–2 s; at 19 requests per second and 0.6 s, about
//! 12 must be in flight to use the budget, and a fixed 4 would use a third of it. The
//! controller keeps `rate × latency × headroom` in flight, from the budget in force and the
//! latencies it observes (a high percentile of the recent ones, so that jitter does not starve
//! the pacer), within a cap. Pacing still alone decides when a request goes: more in flight
//! never means more than the budget.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

use crate::pace::RateBudget;

/// How many recent latencies the controller looks at.
const WINDOW: usize = 32;

/// The latency assumed before any answer came: about HubSpot's typical one.
const FIRST_GUESS: Duration = Duration::from_secs(1);

/// Room above the estimate, for latencies that vary from one answer to the next.
const HEADROOM: f64 = 1.25;

/// How the number of requests in flight is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// From the budget and the observed latency, at most this many.
    Auto { max: usize },
    /// Always this many.
    Fixed(usize),
}

impl Mode {
    /// The most that can ever be in flight.
    pub(crate) fn cap(self) -> usize {
        match self {
            Self::Auto { max } | Self::Fixed(max) => max,
        }
    }
}

struct State {
    in_flight: usize,
    target: usize,
    latencies: VecDeque<Duration>,
}

/// Bounds the requests in flight across every clone of a client.
pub(crate) struct InFlight {
    mode: Mode,
    state: Mutex<State>,
    freed: Notify,
}

/// A slot in flight; dropping it frees the slot.
pub(crate) struct Slot<'a>(&'a InFlight);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
        self.0.freed.notify_one();
    }
}

impl InFlight {
    pub(crate) fn new(mode: Mode, budget: RateBudget) -> Self {
        let target = target(mode, budget, &VecDeque::new());
        Self {
            mode,
            state: Mutex::new(State {
                in_flight: 0,
                target,
                latencies: VecDeque::with_capacity(WINDOW),
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How it is chosen.
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// How many may be in flight now.
    pub(crate) fn target(&self) -> usize {
        self.lock().target
    }

    /// Waits for a slot.
    pub(crate) async fn acquire(&self) -> Slot<'_> {
        loop {
            // Register before checking, so that a slot freed (or a target grown) in between
            // is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut state = self.lock();
                if state.in_flight < state.target {
                    state.in_flight += 1;
                    return Slot(self);
                }
            }
            freed.await;
        }
    }

    /// Learns from one answered request, under the budget now in force.
    pub(crate) fn observe(&self, latency: Duration, budget: RateBudget) {
        let grown = {
            let mut state = self.lock();
            if state.latencies.len() == WINDOW {
                state.latencies.pop_front();
            }
            state.latencies.push_back(latency);
            let before = state.target;
            state.target = target(self.mode, budget, &state.latencies);
            state.target > before
        };
        if grown {
            self.freed.notify_waiters();
        }
    }
}

/// The requests in flight that use `budget` at the observed latencies.
fn target(mode: Mode, budget: RateBudget, latencies: &VecDeque<Duration>) -> usize {
    let max = match mode {
        Mode::Fixed(n) => return n,
        Mode::Auto { max } => max,
    };
    let Some(rate) = budget.per_second() else {
        return max;
    };
    let latency = high_percentile(latencies).unwrap_or(FIRST_GUESS);
    let wanted = (rate * latency.as_secs_f64() * HEADROOM).ceil() as usize + 1;
    wanted.clamp(1, max)
}

/// The 90th percentile of the latencies, if any.
fn high_percentile(latencies: &VecDeque<Duration>) -> Option<Duration> {
    if latencies.is_empty() {
        return None;
    }
    let mut sorted: Vec<Duration> = latencies.iter().copied().collect();
    sorted.sort_unstable();
    let at = (sorted.len() * 9).div_ceil(10).saturating_sub(1);
    sorted.get(at).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(controller: &InFlight, latency: Duration, budget: RateBudget) {
        for _ in 0..WINDOW {
            controller.observe(latency, budget);
        }
    }

    #[test]
    fn the_target_follows_latency_up_and_down_and_the_budget() {
        let budget: RateBudget = "20/1s".parse().unwrap();
        let controller = InFlight::new(Mode::Auto { max: 64 }, budget);
        // Before any answer: a one-second guess, 20 × 1 × 1.25 + 1.
        assert_eq!(controller.target(), 26);
        let ms = Duration::from_millis;
        feed(&controller, ms(300), budget);
        let at_300 = controller.target();
        assert_eq!(at_300, (20.0f64 * 0.3 * HEADROOM).ceil() as usize + 1);
        feed(&controller, ms(1_200), budget);
        let at_1200 = controller.target();
        assert!(at_1200 > at_300 * 3, "{at_300} → {at_1200}");
        feed(&controller, ms(50), budget);
        let at_50 = controller.target();
        assert!(at_50 < at_300 && at_50 >= 1, "{at_50}");
        // The budget tightens: fewer in flight at the same latency.
        let tighter: RateBudget = "5/1s".parse().unwrap();
        feed(&controller, ms(1_200), tighter);
        assert!(controller.target() < at_1200 / 3, "{}", controller.target());
        // Never beyond the cap, whatever the latency.
        feed(&controller, Duration::from_secs(30), budget);
        assert_eq!(controller.target(), 64);
    }

    #[test]
    fn jitter_is_covered_by_the_high_percentile() {
        let budget: RateBudget = "20/1s".parse().unwrap();
        let controller = InFlight::new(Mode::Auto { max: 256 }, budget);
        // 300 ms to 900 ms, evenly.
        for i in 0..WINDOW as u64 {
            controller.observe(Duration::from_millis(300 + i * 600 / 31), budget);
        }
        // More than the mean (600 ms) asks for.
        assert!(controller.target() > (20.0 * 0.6) as usize + 1);
        assert!(controller.target() <= (20.0f64 * 0.9 * HEADROOM).ceil() as usize + 1);
    }

    #[test]
    fn fixed_and_unlimited() {
        let fixed = InFlight::new(Mode::Fixed(4), "190/10s".parse().unwrap());
        feed(&fixed, Duration::from_secs(2), "190/10s".parse().unwrap());
        assert_eq!(fixed.target(), 4);
        let unlimited = InFlight::new(Mode::Auto { max: 16 }, RateBudget::Unlimited);
        assert_eq!(unlimited.target(), 16);
    }

    #[tokio::test]
    async fn slots_wait_for_one_to_free_and_for_the_target_to_grow() {
        let budget: RateBudget = "2/1s".parse().unwrap();
        let controller = std::sync::Arc::new(InFlight::new(Mode::Auto { max: 8 }, budget));
        feed(&controller, Duration::from_millis(100), budget);
        assert_eq!(controller.target(), 2);
        let first = controller.acquire().await;
        let _second = controller.acquire().await;
        let waiter = |controller: std::sync::Arc<InFlight>| {
            tokio::spawn(async move {
                let _slot = controller.acquire().await;
            })
        };
        let third = waiter(controller.clone());
        tokio::task::yield_now().await;
        assert!(!third.is_finished(), "two slots are taken");
        drop(first);
        third.await.unwrap();
        // Two slots taken again (the third's freed one retaken); a fourth waits until a
        // slower answer grows the target.
        let _again = controller.acquire().await;
        let fourth = waiter(controller.clone());
        tokio::task::yield_now().await;
        assert!(!fourth.is_finished());
        feed(&controller, Duration::from_secs(2), budget);
        assert!(controller.target() > 2);
        fourth.await.unwrap();
    }
}
