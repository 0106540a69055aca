//! Why a run stops sending, set once and seen by every batch of the run.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::outcome::NotAttempted;

/// The stop of one run: once set, no batch of the run sends another request, and every input
/// not yet confirmed ends [`NotAttempted`] with the reason.
///
/// It also keeps the time of the last answer HubSpot gave (any status), so that a run against
/// an endpoint that answers nothing gives up after a bounded time instead of retrying every
/// batch against a dead host.
pub(crate) struct RunStop {
    reason: watch::Sender<Option<NotAttempted>>,
    last_answer: Mutex<Instant>,
}

impl RunStop {
    pub(crate) fn new() -> Self {
        Self {
            reason: watch::Sender::new(None),
            last_answer: Mutex::new(Instant::now()),
        }
    }

    /// Why the run stopped, if it did.
    pub(crate) fn reason(&self) -> Option<NotAttempted> {
        self.reason.borrow().clone()
    }

    /// Stops the run for `reason`; the first reason set stays.
    pub(crate) fn set(&self, reason: NotAttempted) {
        self.reason.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            tracing::warn!(%reason, "sending stops");
            *current = Some(reason);
            true
        });
    }

    /// Resolves once the run is stopped.
    pub(crate) async fn stopped(&self) {
        let mut receiver = self.reason.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = receiver.wait_for(Option::is_some).await;
    }

    /// Notes that HubSpot answered (whatever the status).
    pub(crate) fn answered(&self) {
        *self
            .last_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
    }

    /// How long HubSpot has given no answer: since the last one, or since the run started.
    pub(crate) fn silent_for(&self) -> Duration {
        self.last_answer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_stays_and_waiters_wake() {
        let stop = std::sync::Arc::new(RunStop::new());
        assert_eq!(stop.reason(), None);
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.stopped().await }
        });
        stop.set(NotAttempted::Cancelled);
        stop.set(NotAttempted::DailyLimitReached {
            message: "later".into(),
        });
        waiter.await.unwrap();
        assert_eq!(stop.reason(), Some(NotAttempted::Cancelled));
        // A waiter that comes after the stop returns at once.
        stop.stopped().await;
    }

    #[tokio::test(start_paused = true)]
    async fn silence_is_measured_from_the_last_answer() {
        let stop = RunStop::new();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert!(stop.silent_for() >= Duration::from_secs(5));
        stop.answered();
        assert!(stop.silent_for() < Duration::from_secs(1));
    }
}
