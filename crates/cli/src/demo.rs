//! `hubspot-projects demo`: the whole tool against an embedded emulator, with no token and no
//! network. It creates sample projects, then updates half of them, and shows that every record
//! was accounted for and that pacing kept the run under the rate limit.

use crate::exit;
use crate::input::{InputFormat, ReadOptions};
use crate::summary;
use crate::upsert::{Source, UpsertOptions};
use hubspot_projects::RateBudget;
use hubspot_projects_emulator::{Emulator, EmulatorConfig};
use std::io::Write;
use std::path::Path;

/// Options of the demo.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// How many sample projects to create.
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// The rate limit the embedded emulator enforces, and the budget the client paces under.
    #[arg(long, default_value = "190/10s")]
    rate: String,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
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

/// Runs the demo; returns the exit code.
pub async fn run(args: DemoArgs) -> u8 {
    match demo(args).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

async fn demo(args: DemoArgs) -> Result<u8, String> {
    let rate: RateBudget = args.rate.parse().map_err(|e| format!("--rate: {e}"))?;
    let emulator = Emulator::start(EmulatorConfig {
        rate_limit: rate,
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| format!("cannot start the embedded emulator: {e}"))?;
    println!(
        "embedded HubSpot emulator at {} (rate limit {})",
        emulator.base_url(),
        args.rate
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
        read: ReadOptions {
            id_property: "project_code".into(),
            id_column: None,
            empty_as_blank: false,
        },
        base_url: emulator.base_url(),
        token: "demo-token".into(),
        rate,
        concurrency: args.concurrency,
        dry_run: false,
        quiet: args.quiet,
        report: None,
        journal: None,
        resume: false,
        strict: false,
    };

    let mut worst = exit::OK;
    for (step, path) in [
        ("1/2: create", &first),
        ("2/2: update a changed half", &second),
    ] {
        println!(
            "\n== step {step}: {}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let opts = options(path);
        let result = crate::upsert::run(&opts).await.map_err(|e| e.to_string())?;
        summary::print_summary(&opts, &result);
        worst = worst.max(summary::exit_code(&result));
    }
    let records = emulator.record_count();
    println!(
        "\nthe emulator holds {records} projects (expected {})",
        args.count
    );
    emulator.shutdown().await;
    if records as u64 != args.count {
        return Ok(exit::FAILED);
    }
    Ok(worst)
}
