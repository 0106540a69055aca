//! Upserts generated project records and prints one JSON line of throughput and counts.
//!
//! ```text
//! cargo run --release -p hubspot-projects --example bulk_upsert -- \
//!     --base-url http://127.0.0.1:8080 --token test --count 100000 --rate unlimited
//! ```
//!
//! Exits 1 when any record failed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::StreamExt;
use hubspot_projects::{Client, RateBudget, Summary, UpsertInput};

// An application picks its allocator. glibc's malloc spends much of a bulk upsert on its arena
// locks and consolidation across Tokio's worker threads; mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(about = "Bulk upsert generated HubSpot project records and report throughput")]
struct Args {
    /// Where to send requests.
    #[arg(long, default_value = hubspot_projects::DEFAULT_BASE_URL)]
    base_url: String,
    /// The access token.
    #[arg(long, env = "HUBSPOT_ACCESS_TOKEN", hide_env_values = true)]
    token: String,
    /// How many records to generate.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Inputs per request (at most 100).
    #[arg(long, default_value_t = 100)]
    batch_size: usize,
    /// Requests in flight at once, pinned; by default the client follows the budget and the
    /// latency (up to 64).
    #[arg(long)]
    concurrency: Option<usize>,
    /// The unique property that identifies a record.
    #[arg(long, default_value = "project_code")]
    id_property: String,
    /// The rate budget: REQUESTS/INTERVAL (e.g. 100/10s) or `unlimited`.
    #[arg(long, default_value = "100/10s")]
    rate: RateBudget,
    /// Tokio worker threads; 0 runs everything on the main thread. The client's work per
    /// request is small next to the HTTP exchange, so one thread keeps several requests in
    /// flight, and more threads mostly add wake-ups between them.
    #[arg(long, default_value_t = 0)]
    worker_threads: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match args.worker_threads {
        0 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    }
    .enable_all()
    .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> ExitCode {
    let mut builder = Client::builder()
        .access_token(args.token)
        .base_url(args.base_url)
        .batch_size(args.batch_size)
        .rate_budget(args.rate)
        .timeout(Duration::from_secs(30));
    if let Some(n) = args.concurrency {
        builder = builder.fixed_in_flight(n);
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };

    let id_property = args.id_property;
    let inputs = futures::stream::iter(0..args.count).map(move |i| {
        let input = UpsertInput::new(id_property.as_str(), format!("PRJ-{i:09}"))
            .property("hs_name", format!("Project {i}"));
        (i, input)
    });

    let started = Instant::now();
    let mut summary = Summary::default();
    let reports = client.upsert_stream(inputs);
    futures::pin_mut!(reports);
    while let Some(report) = reports.next().await {
        summary.add(&report);
    }
    summary.elapsed = started.elapsed();

    let seconds = summary.elapsed.as_secs_f64();
    let records_per_s = if seconds > 0.0 {
        summary.total() as f64 / seconds
    } else {
        0.0
    };
    println!(
        "{}",
        serde_json::json!({
            "elapsed_s": (seconds * 1000.0).round() / 1000.0,
            "records_per_s": records_per_s.round(),
            "created": summary.created,
            "updated": summary.updated,
            "failed": summary.failed,
            "not_attempted": summary.not_attempted,
            "requests": summary.requests,
            "retries": summary.retries,
            "rate_limited": summary.rate_limited,
            "in_flight": client.in_flight_limit(),
        })
    );
    if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
