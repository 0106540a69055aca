//! What an upsert run is asked to do, once the command line is parsed.

use crate::credentials::Credentials;
use hubspot_projects::RateBudget;
use hubspot_projects_cli::input::{InputFormat, ReadOptions};
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Where records come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file (or a named pipe, a device).
    File(PathBuf),
    /// Standard input.
    Stdin,
}

/// An opened source.
pub struct OpenedSource {
    /// Its bytes.
    pub reader: Box<dyn Read + Send>,
    /// Its size, when it is a regular file: such a source can be read again and its rest
    /// scanned after an interruption; a pipe cannot.
    pub regular_size: Option<u64>,
}

impl Source {
    /// The name used in messages and the journal header.
    pub fn name(&self) -> String {
        match self {
            Self::File(path) => path.display().to_string(),
            Self::Stdin => "-".to_string(),
        }
    }

    /// Opens the source.
    pub fn open(&self) -> Result<OpenedSource, String> {
        match self {
            // Standard input is never read twice nor scanned to its end after an interruption,
            // even when it is redirected from a file.
            Self::Stdin => Ok(OpenedSource {
                reader: Box::new(std::io::stdin()),
                regular_size: None,
            }),
            Self::File(path) => {
                let cannot = |e: std::io::Error| {
                    format!(
                        "cannot read {}: {e}; check the path and that you may read it",
                        path.display()
                    )
                };
                let file = File::open(path).map_err(cannot)?;
                let metadata = file.metadata().map_err(cannot)?;
                if metadata.is_dir() {
                    return Err(format!(
                        "{} is a directory; give the path of a CSV or NDJSON file",
                        path.display()
                    ));
                }
                Ok(OpenedSource {
                    regular_size: metadata.is_file().then_some(metadata.len()),
                    reader: Box::new(file),
                })
            }
        }
    }
}

/// How long one request may take, as `--timeout` takes it: `30`, `30s`, `1.5s`, `500ms` or
/// `2m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout(pub Duration);

/// The longest `--timeout` accepted.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

impl FromStr for Timeout {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
            Some(at) => text.split_at(at),
            None => (text, "s"),
        };
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            _ => {
                return Err(format!(
                    "{text:?} is not a duration: write 30, 30s, 500ms or 2m"
                ));
            }
        };
        let seconds = number
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| n * scale)
            .ok_or_else(|| format!("{text:?} is not a duration: write 30, 30s, 500ms or 2m"))?;
        if seconds <= 0.0 || seconds > MAX_TIMEOUT.as_secs_f64() {
            return Err(format!(
                "{text:?} is outside the accepted timeouts: more than 0 and at most {} s",
                MAX_TIMEOUT.as_secs()
            ));
        }
        Ok(Self(Duration::from_secs_f64(seconds)))
    }
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_millis() == 0 {
            write!(f, "{}s", self.0.as_secs())
        } else {
            write!(f, "{}ms", self.0.as_millis())
        }
    }
}

/// Everything an upsert run needs.
#[derive(Clone)]
pub struct UpsertOptions {
    /// The input.
    pub source: Source,
    /// Its format.
    pub format: InputFormat,
    /// How rows become inputs.
    pub read: ReadOptions,
    /// HubSpot's (or the emulator's) base URL.
    pub base_url: String,
    /// Whether plain http to a host other than loopback is allowed.
    pub allow_insecure_http: bool,
    /// What to authenticate with. Never printed.
    pub credentials: Credentials,
    /// The API version to call; `None` for the client's default (the newest GA one).
    pub api_version: Option<String>,
    /// The request budget to pace under.
    pub rate: RateBudget,
    /// Requests in flight, pinned; `None` follows the budget and HubSpot's latency.
    pub concurrency: Option<usize>,
    /// A Redis URL for a rate budget shared with other processes, and its key.
    pub rate_store: Option<(String, Option<String>)>,
    /// How long one request may take.
    pub timeout: Duration,
    /// Validate and plan only.
    pub dry_run: bool,
    /// No progress display.
    pub quiet: bool,
    /// Where to write one line per input.
    pub report: Option<PathBuf>,
    /// Where to record confirmed rows.
    pub journal: Option<PathBuf>,
    /// Continue the run the journal records.
    pub resume: bool,
    /// Stop at the first bad row.
    pub strict: bool,
    /// Split a batch HubSpot rejects whole for some rows' data until each bad row stands
    /// alone, so that the good ones are written.
    pub isolate: bool,
}

impl fmt::Debug for UpsertOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpsertOptions")
            .field("source", &self.source)
            .field("format", &self.format)
            .field("base_url", &self.base_url)
            .field("credentials", &self.credentials)
            .field("api_version", &self.api_version)
            .field("rate", &self.rate)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_in_seconds_milliseconds_or_minutes() {
        assert_eq!("30".parse(), Ok(Timeout(Duration::from_secs(30))));
        assert_eq!("1.5s".parse(), Ok(Timeout(Duration::from_millis(1500))));
        assert_eq!("250ms".parse(), Ok(Timeout(Duration::from_millis(250))));
        assert_eq!("2m".parse(), Ok(Timeout(Duration::from_secs(120))));
        for bad in ["0", "-1", "abc", "1e30", "NaN", "inf", "5h", "", "61m"] {
            assert!(bad.parse::<Timeout>().is_err(), "{bad}");
        }
        assert_eq!(Timeout(Duration::from_secs(60)).to_string(), "60s");
        assert_eq!(Timeout(Duration::from_millis(250)).to_string(), "250ms");
    }
}
