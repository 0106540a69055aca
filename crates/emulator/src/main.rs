//! `hubspot-projects-emulator`: a local HubSpot projects batch upsert server.

use clap::Parser;
use hubspot_projects_emulator::EmulatorArgs;
use tracing_subscriber::EnvFilter;

// glibc's allocator serializes the worker threads on its arena locks under load; the emulator
// allocates many small strings per batch, so it uses mimalloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A stateful local emulator of HubSpot's CRM projects batch upsert, with rate limits and
/// seeded fault injection.
#[derive(Parser, Debug)]
#[command(name = "hubspot-projects-emulator", version, about)]
struct Cli {
    #[command(flatten)]
    emulator: EmulatorArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match hubspot_projects_emulator::serve(cli.emulator).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("hubspot-projects-emulator: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
