//! The command-line face: options, and the loop the binary runs.

use std::io::{self, Write};

use clap::Args;

use crate::Emulator;
use crate::config::{ConfigError, EmulatorConfig, Faults, PropertyDef, RateBudget, TokenGrant};

/// The emulator's command-line options, ready to flatten into another clap command.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct EmulatorArgs {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// An accepted bearer token, with its scopes: TOKEN or TOKEN:scope,scope (default: all
    /// scopes). Repeatable. Without any, every non-empty token is accepted.
    #[arg(long = "token", value_name = "TOKEN[:SCOPES]", value_parser = parse_token)]
    pub tokens: Vec<TokenGrant>,

    /// Rolling request budget per token, like 100/10s, 50/1s or 10/500ms, or unlimited.
    #[arg(long, value_name = "MAX/INTERVAL", default_value = "unlimited")]
    pub rate_limit: RateBudget,

    /// Requests allowed per token and per UTC day (off by default).
    #[arg(long, value_name = "N")]
    pub daily_limit: Option<u64>,

    /// A custom property added to the schema: NAME or NAME:unique. Repeatable.
    #[arg(long = "property", value_name = "NAME[:unique]", value_parser = parse_property)]
    pub properties: Vec<PropertyDef>,

    /// Seed of the fault generator: the same seed and request order give the same faults.
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

    /// Probability of delaying the answer by --latency-ms.
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

fn parse_probability(s: &str) -> Result<f64, ConfigError> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(ConfigError(format!(
            "{s:?} is not a probability between 0 and 1"
        ))),
    }
}

impl EmulatorArgs {
    /// The configuration these options describe.
    ///
    /// ```
    /// use clap::Parser;
    /// use hubspot_projects_emulator::EmulatorArgs;
    /// #[derive(Parser)]
    /// struct Cli {
    ///     #[command(flatten)]
    ///     emulator: EmulatorArgs,
    /// }
    /// let cli = Cli::parse_from(["x", "--token", "t:crm.objects.projects.write", "--rate-limit", "100/10s", "--fault-502", "0.1"]);
    /// let config = cli.emulator.into_config().unwrap();
    /// assert_eq!(config.rate_limit, "100/10s".parse().unwrap());
    /// assert_eq!(config.faults.bad_gateway_html, 0.1);
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
        faults.validate()?;
        if faults.failing_total() > 1.0 + 1e-9 {
            return Err(ConfigError(format!(
                "the failing fault probabilities add up to {}, more than 1",
                faults.failing_total()
            )));
        }
        if self.daily_limit == Some(0) {
            return Err(ConfigError("--daily-limit must be at least 1".into()));
        }
        Ok(EmulatorConfig {
            port: self.port,
            tokens: self.tokens,
            rate_limit: self.rate_limit,
            daily_limit: self.daily_limit,
            faults,
            seed: self.seed,
            properties: self.properties,
        })
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
