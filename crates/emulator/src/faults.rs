//! Seeded fault injection.

use std::sync::Mutex;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::config::Faults;
use crate::state::lock;

/// A failing fault: the request is answered (or not) without being processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    ServerError,
    BadGatewayHtml,
    Unavailable,
    RateLimited,
    DropConnection,
}

/// The faults drawn for one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Draw {
    pub failure: Option<Failure>,
    pub latency: bool,
}

/// Draws faults from a generator seeded once, so that a run can be replayed.
#[derive(Debug)]
pub(crate) struct FaultInjector {
    faults: Faults,
    rng: Mutex<SmallRng>,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults, seed: u64) -> Self {
        Self {
            faults,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
        }
    }

    /// The configured delay of the latency fault.
    pub(crate) fn latency_ms(&self) -> u64 {
        self.faults.latency_ms
    }

    /// Draws the faults of the next request: always two numbers, so that the sequence only
    /// depends on the seed and the order of requests.
    pub(crate) fn draw(&self) -> Draw {
        if !self.faults.any() {
            return Draw::default();
        }
        let (pick, delay): (f64, f64) = {
            let mut rng = lock(&self.rng);
            (rng.random(), rng.random())
        };
        let f = &self.faults;
        let mut edge = 0.0;
        let mut failure = None;
        for (p, kind) in [
            (f.server_error, Failure::ServerError),
            (f.bad_gateway_html, Failure::BadGatewayHtml),
            (f.unavailable, Failure::Unavailable),
            (f.rate_limited, Failure::RateLimited),
            (f.drop_connection, Failure::DropConnection),
        ] {
            edge += p;
            if p > 0.0 && pick < edge {
                failure = Some(kind);
                break;
            }
        }
        Draw {
            failure,
            latency: f.latency > 0.0 && delay < f.latency,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults_and_rates_match() {
        let faults = Faults {
            server_error: 0.25,
            drop_connection: 0.25,
            latency: 0.5,
            ..Faults::default()
        };
        let a = FaultInjector::new(faults, 7);
        let b = FaultInjector::new(faults, 7);
        let draws: Vec<Draw> = (0..2000).map(|_| a.draw()).collect();
        assert!(draws.iter().all(|d| *d == b.draw()));
        let count = |k| draws.iter().filter(|d| d.failure == Some(k)).count();
        assert!((400..600).contains(&count(Failure::ServerError)));
        assert!((400..600).contains(&count(Failure::DropConnection)));
        assert_eq!(count(Failure::Unavailable), 0);
        assert!((900..1100).contains(&draws.iter().filter(|d| d.latency).count()));
    }

    #[test]
    fn certain_fault_always_fires() {
        let injector = FaultInjector::new(
            Faults {
                unavailable: 1.0,
                ..Faults::default()
            },
            0,
        );
        assert!((0..100).all(|_| injector.draw().failure == Some(Failure::Unavailable)));
    }
}
