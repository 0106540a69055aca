//! The command-line face: options, and the loop the binary runs.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use clap::{Arg, Args, Command};

use crate::Emulator;
use crate::config::{BatchErrors, ConfigError, EmulatorConfig, Faults, RateBudget, TokenGrant};
use crate::latency::{Latency, parse_duration};
use crate::oauth::OAuthClient;
use crate::schema::PropertyDef;

/// The emulator's command-line options, ready to flatten into another clap command.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct EmulatorArgs {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// An accepted bearer token (a private app's), with its scopes: TOKEN or
    /// TOKEN:scope,scope (default: all scopes). Repeatable. Without any, every non-empty token
    /// is accepted, except an issued OAuth access token that expired or was revoked.
    #[arg(long = "token", value_name = "TOKEN[:SCOPES]", value_parser = parse_token)]
    pub tokens: Vec<TokenGrant>,

    /// An OAuth app whose refresh token the token endpoint (POST /oauth/v1/token, or any other
    /// version of the OAuth contract) exchanges for access tokens with every scope. Repeatable.
    #[arg(long = "oauth-client", value_name = "ID:SECRET:REFRESH_TOKEN", value_parser = OAuthClientParser)]
    pub oauth_clients: Vec<OAuthClient>,

    /// How long an issued OAuth access token lives (expires_in), like 30m, 1h or 5s.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_ttl)]
    pub token_ttl: Duration,

    /// Each refresh answers a new refresh token and invalidates the one used.
    #[arg(long)]
    pub rotate_refresh_tokens: bool,

    /// Rolling request budget per token (per app for OAuth tokens), like 100/10s, 50/1s or
    /// 10/500ms, or unlimited.
    #[arg(long, value_name = "MAX/INTERVAL", default_value = "unlimited")]
    pub rate_limit: RateBudget,

    /// Requests allowed per token (per app for OAuth tokens) and per UTC day (off by default).
    #[arg(long, value_name = "N")]
    pub daily_limit: Option<u64>,

    /// How long every API answer takes, the OAuth token endpoint's included: a fixed time
    /// (600ms, 2s) or a range drawn from the seed (300ms..1500ms; HubSpot takes about that for
    /// a batch of 100). None by default.
    #[arg(long, value_name = "DURATION[..DURATION]", default_value = "0", value_parser = parse_latency)]
    pub latency: Latency,

    /// A property added to the schema: `NAME[:TYPE][:unique][:options=a|b|c]`, TYPE one of
    /// string (the default), number, bool, date, datetime, enumeration. Repeatable; one named
    /// like a built-in property replaces it.
    #[arg(long = "property", value_name = "NAME[:TYPE][:unique][:options=a|b]", value_parser = parse_property)]
    pub properties: Vec<PropertyDef>,

    /// How a batch with bad inputs is answered: whole (HubSpot's behaviour: a 400 for an
    /// invalid value, a 409 for a unique-value conflict, nothing written) or per-input (a 207
    /// with one error per bad input, the others written).
    #[arg(long, value_name = "MODE", default_value = "whole", value_parser = parse_batch_errors)]
    pub batch_errors: BatchErrors,

    /// An API version whose paths are served, one of the contract's (v3, 2026-03, 2026-09…).
    /// Repeatable or comma-separated; all by default.
    #[arg(long = "api-version", value_name = "VERSION", value_delimiter = ',')]
    pub api_versions: Vec<String>,

    /// How long to wait for a request's body once its headers arrived (then 408).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration)]
    pub body_timeout: Duration,

    /// Seed of the fault and latency generators: the same seed and request order give the
    /// same faults and latencies.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Probability of a 500 with a JSON error body.
    #[arg(long = "fault-500", value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_500: f64,

    /// Probability of a 502 with an HTML body.
    #[arg(long = "fault-502", value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_502: f64,

    /// Probability of a 503.
    #[arg(long = "fault-503", value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_503: f64,

    /// Probability of a 429 with HubSpot's TEN_SECONDLY_ROLLING body.
    #[arg(long = "fault-429", value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_429: f64,

    /// Probability of closing the connection without an answer.
    #[arg(long = "fault-drop", value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_drop: f64,

    /// Probability of delaying the answer by a further --latency-ms.
    #[arg(long = "fault-latency", value_name = "P", default_value_t = 0.0, value_parser = parse_probability)]
    pub fault_latency: f64,

    /// The delay of the latency fault, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub latency_ms: u64,
}

fn parse_token(s: &str) -> Result<TokenGrant, ConfigError> {
    s.parse()
}

fn parse_property(s: &str) -> Result<PropertyDef, ConfigError> {
    s.parse()
}

fn parse_latency(s: &str) -> Result<Latency, ConfigError> {
    s.parse()
}

fn parse_batch_errors(s: &str) -> Result<BatchErrors, ConfigError> {
    s.parse()
}

fn parse_positive_duration(s: &str) -> Result<Duration, ConfigError> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(ConfigError(format!("{s:?} must be longer than zero"))),
        d => Ok(d),
    }
}

fn parse_ttl(s: &str) -> Result<Duration, ConfigError> {
    match parse_duration(s)? {
        d if d < Duration::from_secs(1) => {
            Err(ConfigError(format!("{s:?} is shorter than one second")))
        }
        d => Ok(d),
    }
}

fn parse_probability(s: &str) -> Result<f64, ConfigError> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(ConfigError(format!(
            "{s:?} is not a probability between 0 and 1"
        ))),
    }
}

/// Parses `--oauth-client` without ever repeating its value: clap's own errors quote the
/// value, which holds a client secret and a refresh token.
#[derive(Clone, Copy, Debug)]
struct OAuthClientParser;

impl TypedValueParser for OAuthClientParser {
    type Value = OAuthClient;

    fn parse_ref(
        &self,
        cmd: &Command,
        _arg: Option<&Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let refuse = |reason: String| {
            clap::Error::raw(
                ErrorKind::InvalidValue,
                format!("--oauth-client: {reason}\n"),
            )
            .with_cmd(cmd)
        };
        let text = value
            .to_str()
            .ok_or_else(|| refuse("the value is not UTF-8".into()))?;
        text.parse().map_err(|e: ConfigError| refuse(e.0))
    }
}

impl EmulatorArgs {
    /// The configuration these options describe, checked with [`EmulatorConfig::validate`].
    ///
    /// ```
    /// use clap::Parser;
    /// use hubspot_projects_emulator::{BatchErrors, EmulatorArgs};
    /// #[derive(Parser)]
    /// struct Cli {
    ///     #[command(flatten)]
    ///     emulator: EmulatorArgs,
    /// }
    /// // Every version of the contract but the oldest: "2026-03,2026-09" for v3, 2026-03, 2026-09.
    /// let versions = hubspot_projects_emulator::api_versions();
    /// let (oldest, newer) = (versions[0], versions[1..].join(","));
    /// let cli = Cli::parse_from([
    ///     "x", "--token", "t:crm.objects.projects.write", "--rate-limit", "100/10s",
    ///     "--fault-502", "0.1", "--latency", "300ms..1500ms", "--batch-errors", "per-input",
    ///     "--api-version", &newer, "--property", "stage:enumeration:options=a|b",
    /// ]);
    /// let config = cli.emulator.into_config().unwrap();
    /// assert_eq!(config.rate_limit, "100/10s".parse().unwrap());
    /// assert_eq!(config.faults.bad_gateway_html, 0.1);
    /// assert_eq!(config.latency.to_string(), "300ms..1500ms");
    /// assert_eq!(config.batch_errors, BatchErrors::PerInput);
    /// assert!(versions[1..].iter().all(|v| config.serves_version(v)));
    /// assert!(!config.serves_version(oldest));
    /// ```
    pub fn into_config(self) -> Result<EmulatorConfig, ConfigError> {
        let faults = Faults {
            server_error: self.fault_500,
            bad_gateway_html: self.fault_502,
            unavailable: self.fault_503,
            rate_limited: self.fault_429,
            drop_connection: self.fault_drop,
            latency: self.fault_latency,
            latency_ms: self.latency_ms,
        };
        let config = EmulatorConfig {
            port: self.port,
            tokens: self.tokens,
            oauth_clients: self.oauth_clients,
            token_ttl: self.token_ttl,
            rotate_refresh_tokens: self.rotate_refresh_tokens,
            rate_limit: self.rate_limit,
            daily_limit: self.daily_limit,
            latency: self.latency,
            faults,
            seed: self.seed,
            properties: self.properties,
            batch_errors: self.batch_errors,
            api_versions: (!self.api_versions.is_empty()).then_some(self.api_versions),
            body_timeout: self.body_timeout,
        };
        config.validate()?;
        Ok(config)
    }
}

/// What the binary does: starts the emulator, prints `listening on http://127.0.0.1:PORT` as
/// the first line of stdout, and serves until Ctrl-C or SIGTERM.
pub async fn serve(args: EmulatorArgs) -> io::Result<()> {
    let config = args
        .into_config()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let emulator = Emulator::start(config).await?;
    {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "listening on {}", emulator.base_url())?;
        stdout.flush()?;
    }
    wait_for_stop().await?;
    emulator.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_stop() -> io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}

#[cfg(not(unix))]
async fn wait_for_stop() -> io::Result<()> {
    tokio::signal::ctrl_c().await
}
