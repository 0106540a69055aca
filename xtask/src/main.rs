//! `cargo xtask`: the one entry point for project chores.
//!
//! - `cargo xtask regen` regenerates the reviewed snapshot of the generated client and the
//!   packaged copy of the spec from `openapi/projects.json`, printing a unified diff of what
//!   changed.
//! - `cargo xtask regen --check` changes nothing and fails (printing the diff) when either is
//!   stale. CI runs it.
//! - `cargo xtask regen --from FILE` imports HubSpot's published spec first: it extracts the
//!   projects batch upsert into `openapi/projects.json`, then regenerates.
//! - `cargo xtask bench [--quick] [--json PATH]` measures the client, the emulator and the CLI.

mod bench;
mod load;
mod regen;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(about = "Project chores for the HubSpot projects client workspace")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the client snapshot (and the packaged spec) from openapi/projects.json.
    Regen(regen::RegenArgs),
    /// Measure throughput, pacing, fault handling and streaming memory against the emulator.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Regen(args) => regen::run(&args),
        Command::Bench(args) => {
            bench::run(&args, &regen::workspace_root()).map(|_| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
