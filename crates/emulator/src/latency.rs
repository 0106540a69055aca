//! The time HubSpot takes to answer: a fixed delay or a range, drawn from the run's seed.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::config::ConfigError;
use crate::state::lock;

/// How long every API answer takes: a fixed time, or a range each answer draws from.
///
/// HubSpot takes roughly 0.3–2 s to answer a batch upsert of 100; a client tuned against an
/// emulator that answers in a millisecond keeps too few requests in flight. Parse it from text
/// like `600ms`, `2s` or `300ms..1500ms`; `0` is none.
///
/// ```
/// use std::time::Duration;
/// use hubspot_projects_emulator::Latency;
/// let ranged: Latency = "300ms..1500ms".parse().unwrap();
/// assert_eq!((ranged.min(), ranged.max()), (Duration::from_millis(300), Duration::from_millis(1500)));
/// assert_eq!(ranged.to_string(), "300ms..1500ms");
/// assert_eq!("2s".parse::<Latency>().unwrap(), Latency::fixed(Duration::from_secs(2)));
/// assert!("1s..500ms".parse::<Latency>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Latency {
    min: Duration,
    max: Duration,
}

impl Latency {
    /// No added latency.
    pub const NONE: Self = Self {
        min: Duration::ZERO,
        max: Duration::ZERO,
    };

    /// Every answer takes `delay`.
    pub const fn fixed(delay: Duration) -> Self {
        Self {
            min: delay,
            max: delay,
        }
    }

    /// Each answer takes a time drawn uniformly from `min..=max`; fails when `min > max`.
    pub fn range(min: Duration, max: Duration) -> Result<Self, ConfigError> {
        if min > max {
            return Err(ConfigError(format!(
                "latency range {}..{} runs backwards",
                Millis(min),
                Millis(max)
            )));
        }
        Ok(Self { min, max })
    }

    /// The shortest time an answer takes.
    pub fn min(&self) -> Duration {
        self.min
    }

    /// The longest time an answer takes.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// Whether no latency is added.
    pub fn is_none(&self) -> bool {
        self.max.is_zero()
    }
}

/// A duration written as `2s` when whole seconds, otherwise `1500ms`.
struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_nanos() == 0 {
            write!(f, "{}s", self.0.as_secs())
        } else if self.0.subsec_nanos().is_multiple_of(1_000_000) {
            write!(f, "{}ms", self.0.as_millis())
        } else {
            write!(f, "{}us", self.0.as_micros())
        }
    }
}

/// Writes `600ms`, `2s` or `300ms..1500ms`; no latency is `0s`.
impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min == self.max {
            write!(f, "{}", Millis(self.min))
        } else {
            write!(f, "{}..{}", Millis(self.min), Millis(self.max))
        }
    }
}

/// Parses a duration like `600ms`, `2s`, `1m` or `0`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, ConfigError> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text)
        .map_err(|e| ConfigError(format!("{text:?} is not a duration like 600ms or 2s: {e}")))
}

/// Parses `DURATION` or `DURATION..DURATION`.
impl FromStr for Latency {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once("..") {
            Some((min, max)) => Self::range(parse_duration(min)?, parse_duration(max)?),
            None => Ok(Self::fixed(parse_duration(s)?)),
        }
    }
}

/// Draws each answer's latency from a generator of its own, seeded from the run's seed, so
/// that adding latency does not change the sequence of faults.
#[derive(Debug)]
pub(crate) struct LatencySampler {
    latency: Latency,
    rng: Mutex<SmallRng>,
}

/// Mixed into the run's seed so that this generator's stream differs from the faults'.
const STREAM: u64 = 0x6c61_7465_6e63_7921;
/// The token endpoint's stream: token requests, which arrive whenever a token expires, do not
/// shift the latencies of the API's answers.
const TOKEN_STREAM: u64 = 0x746f_6b65_6e5f_6c61;

impl LatencySampler {
    /// The sampler of the API's answers.
    pub(crate) fn new(latency: Latency, seed: u64) -> Self {
        Self::with_stream(latency, seed ^ STREAM)
    }

    /// The sampler of the OAuth token endpoint's answers.
    pub(crate) fn for_tokens(latency: Latency, seed: u64) -> Self {
        Self::with_stream(latency, seed ^ TOKEN_STREAM)
    }

    fn with_stream(latency: Latency, seed: u64) -> Self {
        Self {
            latency,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
        }
    }

    /// The latency of the next answer.
    pub(crate) fn draw(&self) -> Duration {
        let Latency { min, max } = self.latency;
        if min == max {
            return min;
        }
        let mut rng = lock(&self.rng);
        let micros = rng.random_range(min.as_micros()..=max.as_micros());
        Duration::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_parse_and_print_back() {
        for text in ["600ms", "2s", "300ms..1500ms", "0s", "1s..2s"] {
            let latency: Latency = text.parse().unwrap();
            assert_eq!(latency.to_string(), text);
        }
        assert_eq!("0".parse::<Latency>().unwrap(), Latency::NONE);
        assert!(Latency::NONE.is_none());
        assert_eq!(
            "1m".parse::<Latency>().unwrap(),
            Latency::fixed(Duration::from_secs(60))
        );
        for bad in ["fast", "2s..", "..2s", "-1s", "2s..1s", "1..2"] {
            assert!(bad.parse::<Latency>().is_err(), "{bad}");
        }
    }

    #[test]
    fn same_seed_same_draws_all_within_the_range() {
        let latency =
            Latency::range(Duration::from_millis(300), Duration::from_millis(1500)).unwrap();
        let a = LatencySampler::new(latency, 7);
        let b = LatencySampler::new(latency, 7);
        let draws: Vec<Duration> = (0..1000).map(|_| a.draw()).collect();
        assert!(draws.iter().all(|d| *d == b.draw()));
        assert!(
            draws
                .iter()
                .all(|d| (latency.min()..=latency.max()).contains(d))
        );
        let mean = draws.iter().sum::<Duration>() / 1000;
        assert!(
            (Duration::from_millis(800)..Duration::from_millis(1000)).contains(&mean),
            "{mean:?}"
        );
        let other = LatencySampler::new(latency, 8);
        assert_ne!(draws, (0..1000).map(|_| other.draw()).collect::<Vec<_>>());
    }

    #[test]
    fn a_fixed_latency_is_always_itself() {
        let sampler = LatencySampler::new(Latency::fixed(Duration::from_millis(600)), 1);
        assert!((0..10).all(|_| sampler.draw() == Duration::from_millis(600)));
    }
}
