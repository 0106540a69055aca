//! `cargo xtask`: the one entry point for project chores.
//!
//! - `cargo xtask regen` regenerates, for each contract under `openapi/` (`projects.json`,
//!   `oauth.json`), the packaged copy of the spec and the reviewed snapshot of the generated
//!   client, printing a unified diff of what changed. A contract that lacks its operation is
//!   refused, and nothing is written.
//! - `cargo xtask regen --check` changes nothing and fails (printing the diff) when anything is
//!   stale. CI runs it.
//! - `cargo xtask regen --from FILE` imports a file HubSpot publishes first (projects, generic
//!   objects or OAuth; `v3`, dated or beta): it replaces the versions of the operation the file
//!   carries in the contract it belongs to, keeps the others, then regenerates. It takes the
//!   file's facts and keeps the contract's own descriptions. It refuses a file that changes a
//!   schema the other versions share, unless `--replace-shared` applies the change to them too.
//! - `cargo xtask bench [--quick] [--json PATH] [--only …] [--baseline REV]` measures the
//!   client, the emulator and the CLI; `--baseline` also runs an earlier commit's client in the
//!   throughput rows.
//! - `cargo xtask fuzz [--time SECONDS] [--target NAME]` fuzzes the fuzz targets with
//!   cargo-fuzz; `--smoke` runs their stable smoke run instead.
//!
//! The workspace is the parent of the `CARGO_MANIFEST_DIR` that `cargo run` passes, so a build
//! shared by two checkouts acts on the one it was run from.

mod bench;
mod fuzz;
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
    /// Regenerate the client snapshots (and the packaged specs) from the contracts in openapi/.
    ///
    /// With --from FILE, first import one of HubSpot's published files into the contract it
    /// belongs to: the versions it carries are replaced and the others kept. Only the file's
    /// facts are imported; the contract keeps its own descriptions. A file that changes a schema
    /// other versions share is refused unless --replace-shared is given.
    Regen(regen::RegenArgs),
    /// Measure the emulator's capacity, throughput, pacing, latency, faults, bad records, a
    /// shared budget and streaming memory, each against an emulator process.
    Bench(bench::BenchArgs),
    /// Fuzz the file readers, the answer decoding and the emulator (cargo-fuzz, or the smoke run).
    Fuzz(fuzz::FuzzArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Regen(args) => regen::run(&args),
        Command::Bench(args) => {
            bench::run(&args, &regen::workspace_root()).map(|_| ExitCode::SUCCESS)
        }
        Command::Fuzz(args) => fuzz::run(&args, &regen::workspace_root()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
