//! `hubspot-projects`: bulk upsert of HubSpot CRM projects from CSV or NDJSON files.

mod client;
mod credentials;
mod demo;
mod feed;
mod interrupt;
mod options;
mod output_paths;
mod outputs;
mod progress;
mod run;
mod summary;
mod tally;

use clap::{Args, Parser, Subcommand};
use credentials::Credentials;
use hubspot_projects::{DEFAULT_BASE_URL, DEFAULT_TIMEOUT, MAX_IN_FLIGHT_LIMIT, RateBudget};
use hubspot_projects_cli::input::{InputFormat, ReadOptions};
use options::{Source, Timeout, UpsertOptions};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

// A bulk run allocates many small strings per row; mimalloc spends less CPU on them than
// glibc's malloc, and the input is read on a thread of its own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, as documented in `--help`.
pub mod exit {
    /// Every record was written.
    pub const OK: u8 = 0;
    /// Some records failed or were not sent.
    pub const FAILED: u8 = 1;
    /// A usage or input error; nothing more was sent.
    pub const USAGE: u8 = 2;
    /// The run stopped before the end of its input (HubSpot's daily limit, Ctrl-C): resume
    /// later with --resume.
    pub const STOPPED: u8 = 3;
}

const AFTER_HELP: &str = "\
Exit codes:
  0  every record was written
  1  some records failed or were not sent (see the report)
  2  usage or input error (nothing more was sent)
  3  stopped before the end (HubSpot's daily limit, a refused token or credentials, an
     unreachable endpoint or rate store, Ctrl-C); fix the cause, then resume with --resume

Environment:
  HUBSPOT_ACCESS_TOKEN   a private app's access token (or --token-file)
  HUBSPOT_CLIENT_ID      an OAuth app's client id (or --client-id)
  HUBSPOT_CLIENT_SECRET  the OAuth app's client secret (or --client-secret-file)
  HUBSPOT_REFRESH_TOKEN  the OAuth refresh token (or --refresh-token-file, which also keeps
                         a refresh token HubSpot rotates)
  RUST_LOG               log filter for standard error, e.g. info or hubspot_projects=debug
                         (default: warn)";

#[derive(Parser)]
#[command(
    name = "hubspot-projects",
    version,
    about = "Create or update HubSpot CRM projects in bulk, with every record accounted for",
    after_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Upsert the records of a CSV or NDJSON file (or - for standard input).
    #[command(after_help = AFTER_HELP)]
    Upsert(UpsertArgs),
    /// Run the local HubSpot projects emulator.
    Emulator(hubspot_projects_emulator::EmulatorArgs),
    /// Upsert sample projects into an embedded emulator: no token, no network.
    Demo(demo::DemoArgs),
}

/// `--format`'s values.
#[derive(Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl From<FormatArg> for InputFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Csv => Self::Csv,
            FormatArg::Ndjson => Self::Ndjson,
        }
    }
}

#[derive(Args)]
struct UpsertArgs {
    /// The input file, or - for standard input.
    file: String,
    /// The unique property that identifies records (for example project_code).
    #[arg(long)]
    id_property: String,
    /// The CSV column that holds the id (default: the id property).
    #[arg(long)]
    id_column: Option<String>,
    /// The input format (default: from the file extension).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Send empty CSV cells (and JSON nulls) as empty values instead of leaving the property as it is.
    #[arg(long)]
    empty_as_blank: bool,
    /// A file holding a private app's access token (otherwise HUBSPOT_ACCESS_TOKEN is used).
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// An OAuth app's client id: the client secret and the refresh token then come from
    /// HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN, or from --client-secret-file and
    /// --refresh-token-file. Access tokens are refreshed as they expire.
    #[arg(long, value_name = "ID", env = "HUBSPOT_CLIENT_ID")]
    client_id: Option<String>,
    /// A file holding the OAuth app's client secret (otherwise HUBSPOT_CLIENT_SECRET).
    #[arg(long, value_name = "PATH", requires = "client_id")]
    client_secret_file: Option<PathBuf>,
    /// A file holding the OAuth refresh token (otherwise HUBSPOT_REFRESH_TOKEN); when HubSpot
    /// rotates the refresh token, the new one is written back to this file (owner-only).
    #[arg(long, value_name = "PATH", requires = "client_id")]
    refresh_token_file: Option<PathBuf>,
    /// The access token itself. Discouraged: it lands in shell history and the process list.
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// HubSpot's API base URL.
    #[arg(long, default_value = DEFAULT_BASE_URL)]
    base_url: String,
    /// Allow a plain http:// base URL to a host other than loopback (the token then travels in clear).
    #[arg(long)]
    allow_insecure_http: bool,
    /// The API version to call: v3, 2026-03, 2026-09… (default: the newest generally available).
    #[arg(long, value_name = "VERSION")]
    api_version: Option<String>,
    /// The request budget to stay under: N/INTERVAL (100/10s, 190/10s, 20/1s) or unlimited.
    /// Private apps: 100/10s to 250/10s by plan; OAuth (public) apps: 110/10s.
    #[arg(long, default_value_t = RateBudget::default())]
    rate: RateBudget,
    /// Requests in flight, pinned (default: automatic, as many as the budget needs at
    /// HubSpot's latency, at most 64).
    #[arg(
        long,
        value_parser = clap::value_parser!(u64).range(1..=MAX_IN_FLIGHT_LIMIT as u64)
    )]
    concurrency: Option<u64>,
    /// Keep the rate budget in this Redis (redis://HOST:PORT/DB), shared with every process
    /// that uses the same --rate-key: together they stay within HubSpot's budget.
    #[arg(long, value_name = "URL")]
    rate_store: Option<String>,
    /// The shared budget's name in --rate-store (default: a hash of the credentials).
    #[arg(long, value_name = "NAME", requires = "rate_store")]
    rate_key: Option<String>,
    /// How long one request may take, connecting included: 30, 30s, 500ms or 2m (at most 60m).
    #[arg(long, value_name = "DURATION", default_value_t = Timeout(DEFAULT_TIMEOUT))]
    timeout: Timeout,
    /// Validate the input and plan the requests; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
    /// Write one NDJSON line per input (line, id, outcome, record id, error) to this file.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Record the rows HubSpot confirmed in this file, so that a stopped run can be resumed.
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Continue the run recorded in --journal: send only the rows it has not confirmed. A row is
    /// skipped only when the journal confirmed that very row (same line, same content); a
    /// journal that does not match the input is refused.
    #[arg(long, requires = "journal")]
    resume: bool,
    /// Stop at the first bad row instead of reporting it and going on.
    #[arg(long)]
    strict: bool,
    /// When HubSpot rejects a whole batch for some rows' values (a 400 listing invalid values, a
    /// 409 on a unique value), fail every row of it with HubSpot's reason instead of resending
    /// parts of it until only the bad rows fail (which costs a few more requests per bad row).
    #[arg(long)]
    no_isolation: bool,
}

/// OAuth credentials when a client id is given, a private app's token otherwise; never echoed.
fn resolve_credentials(args: &UpsertArgs) -> Result<Credentials, String> {
    let Some(client_id) = &args.client_id else {
        return resolve_token(args).map(|token| Credentials::Token(token.into()));
    };
    if client_id.trim().is_empty() {
        return Err("--client-id is empty".to_string());
    }
    let client_secret = credentials::secret_from(
        args.client_secret_file.as_deref(),
        credentials::CLIENT_SECRET_VAR,
        "client secret",
    )?;
    let refresh_token = credentials::secret_from(
        args.refresh_token_file.as_deref(),
        credentials::REFRESH_TOKEN_VAR,
        "refresh token",
    )?;
    Ok(Credentials::OAuth {
        client_id: client_id.trim().to_string(),
        client_secret,
        refresh_token,
        refresh_token_file: args.refresh_token_file.clone(),
    })
}

/// The token, from --token-file, --token or HUBSPOT_ACCESS_TOKEN; never echoed.
fn resolve_token(args: &UpsertArgs) -> Result<String, String> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let token = text.trim().to_string();
        if token.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        return Ok(token);
    }
    if let Some(token) = &args.token {
        let _ = writeln!(
            std::io::stderr(),
            "warning: --token leaves the token in your shell history and the process list; \
             prefer HUBSPOT_ACCESS_TOKEN or --token-file"
        );
        return Ok(token.clone());
    }
    match std::env::var(credentials::TOKEN_VAR) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_string()),
        _ => Err(format!(
            "no credentials: set {} or pass --token-file PATH (a private app), or give --client-id (an OAuth app)",
            credentials::TOKEN_VAR
        )),
    }
}

fn upsert_options(args: UpsertArgs) -> Result<UpsertOptions, String> {
    let source = if args.file == "-" {
        Source::Stdin
    } else {
        Source::File(PathBuf::from(&args.file))
    };
    let format = match (args.format, &source) {
        (Some(format), _) => format.into(),
        (None, Source::File(path)) => InputFormat::from_path(path).ok_or_else(|| {
            format!(
                "cannot tell the format of {}: name it .csv or .ndjson, or pass --format",
                path.display()
            )
        })?,
        (None, Source::Stdin) => {
            return Err("reading standard input needs --format csv|ndjson".to_string());
        }
    };
    let credentials = if args.dry_run {
        Credentials::None
    } else {
        resolve_credentials(&args)?
    };
    Ok(UpsertOptions {
        source,
        format,
        read: ReadOptions {
            id_property: args.id_property,
            id_column: args.id_column,
            empty_as_blank: args.empty_as_blank,
        },
        base_url: args.base_url,
        allow_insecure_http: args.allow_insecure_http,
        credentials,
        api_version: args.api_version,
        rate: args.rate,
        // Within 1..=MAX_IN_FLIGHT_LIMIT, checked by clap.
        concurrency: args.concurrency.map(|n| n as usize),
        rate_store: args.rate_store.map(|url| (url, args.rate_key)),
        timeout: args.timeout.0,
        dry_run: args.dry_run,
        quiet: args.quiet,
        report: args.report,
        journal: args.journal,
        resume: args.resume,
        strict: args.strict,
        isolate: !args.no_isolation,
    })
}

/// Logs to standard error, filtered by RUST_LOG (default: warnings), coloured only on a
/// terminal.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text).unwrap_or_else(|e| {
            let _ = writeln!(
                std::io::stderr(),
                "warning: RUST_LOG={text:?} is not a log filter ({e}); logging warnings only"
            );
            EnvFilter::new("warn")
        }),
        _ => EnvFilter::new("warn"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        // A closed standard error must not make the logger print (and panic) about it.
        .log_internal_errors(false)
        .init();
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    // One thread drives the client: on a small machine, more workers mostly add wake-ups.
    // The input is read on a thread of its own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: cannot start the async runtime: {e}"
            );
            return ExitCode::from(exit::USAGE);
        }
    };
    let ending = runtime.block_on(async {
        match cli.command {
            Command::Upsert(args) => match upsert_options(args) {
                Ok(options) => summary::run_and_report(&options).await,
                Err(message) => summary::Ending::error(message),
            },
            Command::Emulator(args) => match hubspot_projects_emulator::serve(args).await {
                Ok(()) => summary::Ending {
                    code: exit::OK,
                    at_once: false,
                },
                Err(e) => summary::Ending::error(e),
            },
            Command::Demo(args) => demo::run(args).await,
        }
    });
    if ending.at_once {
        // Requests in flight (and any lookup on a blocking thread) are abandoned, not awaited.
        runtime.shutdown_background();
    }
    ExitCode::from(ending.code)
}
