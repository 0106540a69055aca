//! `hubspot-projects`: bulk upsert of HubSpot CRM projects from CSV or NDJSON files.

mod demo;
mod input;
mod journal;
mod progress;
mod report;
mod summary;
mod upsert;

use clap::{Args, Parser, Subcommand};
use hubspot_projects::RateBudget;
use input::{InputFormat, ReadOptions};
use std::path::PathBuf;
use std::process::ExitCode;
use upsert::{Source, UpsertOptions};

// A bulk run allocates many small strings per row; mimalloc spends less CPU on them than
// glibc's malloc, and the CSV reader runs on a thread of its own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, as documented in `--help`.
pub mod exit {
    /// Every record was written.
    pub const OK: u8 = 0;
    /// Some records failed.
    pub const FAILED: u8 = 1;
    /// A usage or input error.
    pub const USAGE: u8 = 2;
    /// HubSpot's daily limit stopped the run; resume later.
    pub const DAILY_LIMIT: u8 = 3;
}

#[derive(Parser)]
#[command(
    name = "hubspot-projects",
    version,
    about = "Create or update HubSpot CRM projects in bulk, with every record accounted for",
    after_help = "Exit codes: 0 all records written; 1 some records failed; 2 usage or input error; \
                  3 stopped by HubSpot's daily limit (resume later with --resume)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Upsert the records of a CSV or NDJSON file (or - for standard input).
    Upsert(UpsertArgs),
    /// Run the local HubSpot projects emulator.
    Emulator(hubspot_projects_emulator::EmulatorArgs),
    /// Upsert sample projects into an embedded emulator: no token, no network.
    Demo(demo::DemoArgs),
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
    format: Option<InputFormat>,
    /// Send empty CSV cells (and JSON nulls) as empty values instead of leaving the property as it is.
    #[arg(long)]
    empty_as_blank: bool,
    /// A file holding the access token (otherwise HUBSPOT_ACCESS_TOKEN is used).
    #[arg(long, value_name = "PATH")]
    token_file: Option<PathBuf>,
    /// The access token itself. Discouraged: it lands in shell history and the process list.
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// HubSpot's API base URL.
    #[arg(long, default_value = "https://api.hubapi.com")]
    base_url: String,
    /// The request budget to stay under: N/INTERVAL (100/10s, 190/10s, 20/1s) or unlimited.
    #[arg(long, default_value = "100/10s")]
    rate: RateBudget,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Validate the input and plan the requests; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
    /// Write one NDJSON line per input (line, id, outcome, record id, error) to this file.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// Record confirmed input lines in this file, so that an interrupted run can be resumed.
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Continue the run recorded in --journal: send only what it has not confirmed.
    #[arg(long, requires = "journal")]
    resume: bool,
    /// Stop at the first bad row instead of reporting it and going on.
    #[arg(long)]
    strict: bool,
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
        eprintln!(
            "warning: --token leaves the token in your shell history and the process list; \
             prefer HUBSPOT_ACCESS_TOKEN or --token-file"
        );
        return Ok(token.clone());
    }
    match std::env::var("HUBSPOT_ACCESS_TOKEN") {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_string()),
        _ => Err("no access token: set HUBSPOT_ACCESS_TOKEN or pass --token-file PATH".to_string()),
    }
}

fn upsert_options(args: UpsertArgs) -> Result<UpsertOptions, String> {
    let source = if args.file == "-" {
        Source::Stdin
    } else {
        Source::File(PathBuf::from(&args.file))
    };
    let format = match (args.format, &source) {
        (Some(format), _) => format,
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
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".to_string());
    }
    let token = if args.dry_run {
        String::new()
    } else {
        resolve_token(&args)?
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
        token,
        rate: args.rate,
        concurrency: args.concurrency,
        dry_run: args.dry_run,
        quiet: args.quiet,
        report: args.report,
        journal: args.journal,
        resume: args.resume,
        strict: args.strict,
    })
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HUBSPOT_PROJECTS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // One thread drives the client: on a small machine, more workers mostly add wake-ups.
    // The input is read on a thread of its own.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Command::Upsert(args) => match upsert_options(args) {
                Ok(options) => summary::run_and_report(&options).await,
                Err(message) => {
                    eprintln!("error: {message}");
                    exit::USAGE
                }
            },
            Command::Emulator(args) => match hubspot_projects_emulator::serve(args).await {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::USAGE
                }
            },
            Command::Demo(args) => demo::run(args).await,
        }
    });
    ExitCode::from(code)
}
