//! `hubspot-projects demo`: the whole tool against an embedded emulator, with no token and no
//! network. It creates sample projects, then updates half of them, and shows that every record
//! was accounted for and that pacing kept the run under the rate limit.

use crate::credentials::Credentials;
use crate::exit;
use crate::options::{Source, UpsertOptions};
use crate::summary::{self, Ending};
use hubspot_projects::{DEFAULT_TIMEOUT, MAX_IN_FLIGHT_LIMIT, RateBudget};
use hubspot_projects_cli::input::{InputFormat, ReadOptions};
use hubspot_projects_emulator::{Emulator, EmulatorConfig, Latency};
use std::io::Write;
use std::path::Path;

/// Prints a line on standard output; a closed output is no reason to stop the demo.
macro_rules! say {
    ($($arg:tt)*) => {
        let _ = writeln!(std::io::stdout(), $($arg)*);
    };
}

/// Options of the demo.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// How many sample projects to create.
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// The rate limit the embedded emulator enforces, and the budget the client paces under.
    #[arg(long, default_value = "190/10s")]
    rate: String,
    /// Requests in flight, pinned (default: automatic, following the budget and the latency).
    #[arg(
        long,
        value_parser = clap::value_parser!(u64).range(1..=MAX_IN_FLIGHT_LIMIT as u64)
    )]
    concurrency: Option<u64>,
    /// How long the embedded emulator takes to answer, like HubSpot: a time (600ms) or a range
    /// (300ms..1500ms), drawn from a fixed seed.
    #[arg(long, default_value = "300ms..1500ms")]
    latency: Latency,
    /// No progress display.
    #[arg(long, short)]
    quiet: bool,
}

fn write_projects(path: &Path, count: u64, version: &str, every: u64) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "project_code,hs_name,hs_pipeline_stage,hs_target_due_date,hs_description"
    )?;
    for i in (0..count).step_by(every as usize) {
        let stage = ["planned", "in_progress", "done"][(i % 3) as usize];
        writeln!(
            out,
            "PRJ-{i:07},Project {i} ({version}),{stage},2027-{:02}-{:02},\"Sample project {i}, {version}\"",
            i % 12 + 1,
            i % 28 + 1
        )?;
    }
    out.flush()
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Ending {
    match demo(args).await {
        Ok(ending) => ending,
        Err(message) => Ending::error(message),
    }
}

async fn demo(args: DemoArgs) -> Result<Ending, String> {
    let rate: RateBudget = args.rate.parse().map_err(|e| format!("--rate: {e}"))?;
    let emulator = Emulator::start(EmulatorConfig {
        rate_limit: rate,
        latency: args.latency,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
    say!(
        "embedded HubSpot emulator at {} (rate limit {}, answers in {})",
        emulator.base_url(),
        args.rate,
        args.latency
    );

    let dir =
        tempfile::tempdir().map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let first = dir.path().join("projects.csv");
    let second = dir.path().join("projects-changed-half.csv");
    write_projects(&first, args.count, "v1", 1).map_err(|e| format!("{}: {e}", first.display()))?;
    write_projects(&second, args.count, "v2", 2)
        .map_err(|e| format!("{}: {e}", second.display()))?;

    let options = |path: &Path| UpsertOptions {
        source: Source::File(path.to_path_buf()),
        format: InputFormat::Csv,
        read: ReadOptions::new("project_code"),
        base_url: emulator.base_url(),
        allow_insecure_http: false,
        credentials: Credentials::Token("demo-token".to_string().into()),
        api_version: None,
        rate,
        // Within 1..=MAX_IN_FLIGHT_LIMIT, checked by clap.
        concurrency: args.concurrency.map(|n| n as usize),
        rate_store: None,
        timeout: DEFAULT_TIMEOUT,
        dry_run: false,
        quiet: args.quiet,
        report: None,
        journal: None,
        resume: false,
        strict: false,
        isolate: true,
    };

    let mut worst = exit::OK;
    for (step, path) in [
        ("1/2: create", &first),
        ("2/2: update a changed half", &second),
    ] {
        say!(
            "\n== step {step}: {}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let opts = options(path);
        let result = crate::run::run(&opts).await.map_err(|e| e.to_string())?;
        summary::print(&opts, &result);
        let ending = Ending::after(&result);
        if result.stop.is_some() {
            emulator.shutdown().await;
            return Ok(ending);
        }
        worst = worst.max(ending.code);
    }
    let records = emulator.record_count();
    say!(
        "\nthe emulator holds {records} projects (expected {})",
        args.count
    );
    emulator.shutdown().await;
    let code = if records as u64 == args.count {
        worst
    } else {
        exit::FAILED
    };
    Ok(Ending {
        code,
        at_once: false,
    })
}
