//! Upserts generated project records and prints one JSON line of throughput and counts.
//!
//! ```text
//! HUBSPOT_ACCESS_TOKEN=test cargo run --release -p hubspot-projects --example bulk_upsert -- \
//!     --base-url http://127.0.0.1:8080 --count 100000 --rate unlimited
//! ```
//!
//! An OAuth app gives `--client-id` (the secret and refresh token from `HUBSPOT_CLIENT_SECRET`
//! and `HUBSPOT_REFRESH_TOKEN`, or `--client-secret-file` and `--refresh-token-file`).
//! `--rate-store redis://HOST:PORT/DB --rate-key NAME` shares the budget with every process
//! using the same key; `--start N` gives each process its own range of records.
//!
//! `--bad-fraction 0.01 --seed 7` gives every record a `hs_target_due_date`, a
//! `hs_pipeline_stage` (an allowed option, or blank) and a `hubspot_owner_id` (`0` to `9`), and
//! makes about 1% of them, at seeded positions, bad in one of these properties, in turn: a
//! month-13 date (`2027-13-05`), a stage that is no option (`someday`), an owner that is no
//! number (`owner-7`). HubSpot rejects a batch holding one of them whole, and the client
//! isolates the bad inputs. The line then also says how many inputs were bad (in all and by
//! property), how many failed records name the property made bad, and how many failed records
//! were not bad ones (there should be none).
//!
//! Exits 1 when any record failed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use futures::StreamExt;
use hubspot_projects::{
    Client, OAuthCredentials, Outcome, RateBudget, RedisBudget, Summary, UpsertInput,
    write_refresh_token_file,
};

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
    /// A private app's access token (from the environment: a flag would show in `ps`).
    #[arg(skip = std::env::var("HUBSPOT_ACCESS_TOKEN").ok())]
    token: Option<String>,
    /// An OAuth app's client id; the secret and the refresh token then come from
    /// HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN, or from the files below.
    #[arg(long, env = "HUBSPOT_CLIENT_ID")]
    client_id: Option<String>,
    /// A file holding the OAuth client secret (otherwise HUBSPOT_CLIENT_SECRET).
    #[arg(long, value_name = "PATH")]
    client_secret_file: Option<std::path::PathBuf>,
    /// A file holding the OAuth refresh token (otherwise HUBSPOT_REFRESH_TOKEN); a token
    /// HubSpot rotates is written back to it.
    #[arg(long, value_name = "PATH")]
    refresh_token_file: Option<std::path::PathBuf>,
    /// The API version (default: the newest generally available one).
    #[arg(long)]
    api_version: Option<String>,
    /// Keep the rate budget in this Redis (redis://HOST:PORT/DB), shared with every process
    /// using the same --rate-key.
    #[arg(long, value_name = "URL")]
    rate_store: Option<String>,
    /// The shared budget's name (default: a hash of the credentials).
    #[arg(long, value_name = "NAME", requires = "rate_store")]
    rate_key: Option<String>,
    /// How many records to generate.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// The number of the first record (PRJ-000000000 by default), so that several processes
    /// can each take their own range.
    #[arg(long, default_value_t = 0)]
    start: u64,
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
    /// The share of records (0 to 1) given an invalid due date, stage or owner; with any
    /// value, every record carries all three.
    #[arg(long, value_parser = parse_fraction)]
    bad_fraction: Option<f64>,
    /// Seed of the bad records' positions and values: the same seed gives the same records.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?} is not a fraction between 0 and 1")),
    }
}

/// Which records are bad, in which property, and what every record's values are. A record's
/// fate depends only on the seed and its position, so that the counts can be checked record
/// by record as the outcomes come back.
#[derive(Clone, Copy)]
struct BadRecords {
    bad_fraction: f64,
    seed: u64,
}

/// The stages good records carry, one each: allowed options of the emulator's default schema,
/// or blank (which clears the stage), as 2 in 5 rows of a real export leave it.
const STAGES: [&str; 5] = ["planned", "in_progress", "done", "", ""];

/// The properties a bad record is bad in, in turn.
const BAD_PROPERTIES: [&str; 3] = [
    "hs_target_due_date",
    "hs_pipeline_stage",
    "hubspot_owner_id",
];

impl BadRecords {
    /// SplitMix64 of the seed and the position: uniform bits, reproducible.
    fn bits(self, position: u64) -> u64 {
        let mut z = self
            .seed
            .wrapping_add(position.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The property the record at `position` is bad in, if it is bad.
    fn bad_property(self, position: u64) -> Option<&'static str> {
        let bits = self.bits(position);
        // The top 53 bits as a fraction in [0, 1).
        let bad = ((bits >> 11) as f64 / (1u64 << 53) as f64) < self.bad_fraction;
        bad.then(|| BAD_PROPERTIES[((bits >> 4) % 3) as usize])
    }

    /// The record's due date, stage and owner: valid ones, like the values of every good
    /// record, but for the property it is bad in, which holds a value like HubSpot's users
    /// type: a month-13 date, a stage that is no option, an owner that is no number. The bad
    /// owner holds a good owner's digit, and the good stages are all listed in HubSpot's
    /// message about a bad one: only exact evidence tells the bad input from the good ones.
    fn values(self, position: u64) -> [(&'static str, String); 3] {
        let bits = self.bits(position);
        let day = 1 + (bits % 28);
        let owner = (bits >> 24) % 10;
        let bad = self.bad_property(position);
        let date = if bad == Some("hs_target_due_date") {
            format!("2027-13-{day:02}")
        } else {
            format!("2027-{:02}-{day:02}", 1 + (bits >> 8) % 12)
        };
        let stage = if bad == Some("hs_pipeline_stage") {
            "someday".to_string()
        } else {
            STAGES[((bits >> 16) % STAGES.len() as u64) as usize].to_string()
        };
        let owner = if bad == Some("hubspot_owner_id") {
            format!("owner-{owner}")
        } else {
            owner.to_string()
        };
        [
            ("hs_target_due_date", date),
            ("hs_pipeline_stage", stage),
            ("hubspot_owner_id", owner),
        ]
    }
}

/// What the bad records' run showed, beside the summary.
#[derive(Default)]
struct BadRecordCheck {
    /// Bad inputs.
    bad: u64,
    /// Bad inputs by the property made bad, in the order of [`BAD_PROPERTIES`].
    bad_by_property: [u64; 3],
    /// Bad inputs that ended created or updated.
    bad_written: u64,
    /// Failed records whose error names a property.
    failed_naming_a_property: u64,
    /// Failed bad records whose error names the property made bad.
    failed_naming_the_bad_property: u64,
    /// Failed records that were not bad ones.
    failed_not_bad: u64,
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

/// A secret from `file` if given, else from the environment variable `var`.
fn secret(file: Option<&std::path::Path>, var: &str) -> Result<String, String> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        None => std::env::var(var).map_err(|_| format!("set {var} or pass its file"))?,
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{var} is empty"));
    }
    Ok(text.to_string())
}

/// The client `args` describe.
fn client(args: &Args) -> Result<Client, String> {
    let mut builder = Client::builder()
        .base_url(args.base_url.clone())
        .batch_size(args.batch_size)
        .rate_budget(args.rate)
        .timeout(Duration::from_secs(30));
    builder = match (&args.client_id, &args.token) {
        (Some(client_id), _) => {
            let secret_value = secret(args.client_secret_file.as_deref(), "HUBSPOT_CLIENT_SECRET")?;
            let refresh = secret(args.refresh_token_file.as_deref(), "HUBSPOT_REFRESH_TOKEN")?;
            let file = args.refresh_token_file.clone();
            let credentials = OAuthCredentials::new(client_id.clone(), secret_value, refresh)
                .on_refresh_token(move |rotated| {
                    // Atomic and owner-only, as the CLI keeps it: HubSpot may refuse the old
                    // token from now on, so the new one must survive this process.
                    if let Some(path) = &file
                        && let Err(e) = write_refresh_token_file(path, rotated)
                    {
                        eprintln!("error: the rotated refresh token could not be kept: {e}");
                    }
                });
            builder.oauth(credentials)
        }
        (None, Some(token)) => builder.access_token(token.clone()),
        (None, None) => {
            return Err("set HUBSPOT_ACCESS_TOKEN, or give --client-id for an OAuth app".into());
        }
    };
    if let Some(version) = &args.api_version {
        builder = builder.api_version(version.clone());
    }
    if let Some(n) = args.concurrency {
        builder = builder.fixed_in_flight(n);
    }
    if let Some(url) = &args.rate_store {
        let mut store = RedisBudget::new(url).map_err(|e| e.to_string())?;
        if let Some(key) = &args.rate_key {
            store = store.key(key.clone());
        }
        builder = builder.rate_store(store);
    }
    builder.build().map_err(|e| e.to_string())
}

async fn run(args: Args) -> ExitCode {
    let client = match client(&args) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };

    let id_property = args.id_property;
    let bad_records = args.bad_fraction.map(|bad_fraction| BadRecords {
        bad_fraction,
        seed: args.seed,
    });
    let start = args.start;
    let inputs = futures::stream::iter(start..start.saturating_add(args.count)).map(move |i| {
        let mut input = UpsertInput::new(id_property.as_str(), format!("PRJ-{i:09}"))
            .property("hs_name", format!("Project {i}"));
        if let Some(bad_records) = bad_records {
            for (name, value) in bad_records.values(i) {
                input = input.property(name, value);
            }
        }
        (i, input)
    });

    let started = Instant::now();
    let mut summary = Summary::default();
    let mut check = BadRecordCheck::default();
    let reports = client.upsert_stream(inputs);
    futures::pin_mut!(reports);
    while let Some(report) = reports.next().await {
        summary.add(&report);
        let Some(bad_records) = bad_records else {
            continue;
        };
        for record in &report.outcomes {
            let bad_property = bad_records.bad_property(record.tag);
            let bad = bad_property.is_some();
            check.bad += u64::from(bad);
            if let Some(at) = BAD_PROPERTIES.iter().position(|p| Some(*p) == bad_property) {
                check.bad_by_property[at] += 1;
            }
            match &record.outcome {
                Outcome::Failed(error) => {
                    check.failed_not_bad += u64::from(!bad);
                    if let Some(property) = &error.property {
                        check.failed_naming_a_property += 1;
                        check.failed_naming_the_bad_property +=
                            u64::from(Some(property.as_str()) == bad_property);
                    }
                }
                outcome if outcome.is_success() => check.bad_written += u64::from(bad),
                _ => {}
            }
        }
    }
    summary.elapsed = started.elapsed();

    let seconds = summary.elapsed.as_secs_f64();
    let records_per_s = if seconds > 0.0 {
        summary.total() as f64 / seconds
    } else {
        0.0
    };
    let mut line = serde_json::json!({
        "elapsed_s": (seconds * 1000.0).round() / 1000.0,
        "records_per_s": records_per_s.round(),
        "created": summary.created,
        "updated": summary.updated,
        "failed": summary.failed,
        "not_attempted": summary.not_attempted,
        "requests": summary.requests,
        "retries": summary.retries,
        "rate_limited": summary.rate_limited,
        "isolation_requests": summary.isolation_requests,
        "in_flight": client.in_flight_limit(),
        "token_refreshes": client.token_refreshes(),
        "stopped": summary.stopped.as_ref().map(|reason| reason.to_string()),
    });
    if bad_records.is_some() {
        line["bad_records"] = check.bad.into();
        line["bad_by_property"] = BAD_PROPERTIES
            .iter()
            .zip(check.bad_by_property)
            .map(|(name, count)| (name.to_string(), serde_json::Value::from(count)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        line["bad_written"] = check.bad_written.into();
        line["failed_naming_a_property"] = check.failed_naming_a_property.into();
        line["failed_naming_the_bad_property"] = check.failed_naming_the_bad_property.into();
        line["failed_not_bad"] = check.failed_not_bad.into();
    }
    println!("{line}");
    if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
