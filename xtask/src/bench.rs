//! `cargo xtask bench`: the measurements behind the README's performance section.
//!
//! Every scenario runs the emulator as a separate release-built process on loopback and the
//! client (the `bulk_upsert` example, or the CLI) as another, so that the client's CPU time and
//! peak RSS are its own (`wait4` rusage). Absolute numbers on a small shared machine are noisy;
//! compare the ratios within one run.

mod bad_records;
mod baseline;
mod latency;
mod shared_budget;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Options of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// A short run: fewer records and shorter pacing windows.
    #[arg(long)]
    quick: bool,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Records for the throughput and fault scenarios (default 100,000; 20,000 with --quick).
    #[arg(long)]
    records: Option<u64>,
    /// Rows of the streaming-memory CSV (default 1,000,000; 200,000 with --quick).
    #[arg(long)]
    csv_rows: Option<u64>,
    /// Run only these scenarios (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// With the throughput scenario: also build the `bulk_upsert` client of this git revision
    /// and run it against this tree's, alternating, to show the change in the same run.
    #[arg(long, value_name = "REV")]
    baseline: Option<String>,
}

/// The scenarios, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Records/s, client CPU and RSS at concurrency 1, 4 and 16.
    Throughput,
    /// How close to a budget the client gets without 429s.
    Pacing,
    /// How close to a budget the client's defaults get when HubSpot takes 50 ms to 2 s to
    /// answer, measured at the server.
    Latency,
    /// Every record written despite 5xx, 429s and dropped connections.
    Faults,
    /// Batches HubSpot rejects whole for 1% bad records: every good one written, each bad one
    /// named, and the requests it took.
    BadRecords,
    /// Four processes sharing one budget through Redis: 0 429s and the budget used.
    SharedBudget,
    /// A large CSV through the CLI: peak RSS and records/s.
    Streaming,
    /// Batch upserts of 100 per second that the emulator binary serves.
    Capacity,
}

const TOKEN: &str = "bench-token";

struct Release {
    emulator: PathBuf,
    bulk_upsert: PathBuf,
    cli: PathBuf,
}

fn build(root: &Path) -> Result<Release, String> {
    let status = Command::new(env!("CARGO"))
        .current_dir(root)
        .args(["build", "--release", "--quiet"])
        .args([
            "-p",
            "hubspot-projects-emulator",
            "-p",
            "hubspot-projects-cli",
        ])
        .args(["-p", "hubspot-projects", "--example", "bulk_upsert"])
        .args([
            "--bin",
            "hubspot-projects-emulator",
            "--bin",
            "hubspot-projects",
        ])
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    let target = target_dir(root).join("release");
    Ok(Release {
        emulator: target.join("hubspot-projects-emulator"),
        bulk_upsert: target.join("examples/bulk_upsert"),
        cli: target.join("hubspot-projects"),
    })
}

/// Where cargo builds: `CARGO_TARGET_DIR`, or the workspace's `target`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// A running emulator process, killed on drop.
struct EmulatorProcess {
    child: Child,
    base_url: String,
}

impl EmulatorProcess {
    fn start(binary: &Path, args: &[&str]) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("the emulator has no stdout")?;
        let mut first = String::new();
        BufReader::new(stdout)
            .read_line(&mut first)
            .map_err(|e| format!("cannot read the emulator's first line: {e}"))?;
        let base_url = first
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line from the emulator: {first:?}"))?
            .to_string();
        Ok(Self { child, base_url })
    }
}

impl EmulatorProcess {
    /// The emulator's CPU time so far (user + system), from `/proc/PID/stat`.
    fn cpu(&self) -> Duration {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())) else {
            return Duration::ZERO;
        };
        // Fields after the parenthesized command name; utime and stime are the 12th and 13th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let ticks: u64 = after
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|f| f.parse::<u64>().ok())
            .sum();
        // SAFETY: sysconf has no preconditions.
        let per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_secs_f64(ticks as f64 / per_s as f64)
    }
}

/// What the emulator saw of the requests on its HubSpot routes (`GET /_emulator/stats`).
struct ServerStats {
    /// Requests that arrived, refused ones included.
    requests: u64,
    /// From the first request's arrival to the last one's, when any arrived.
    span: Option<Duration>,
}

impl EmulatorProcess {
    /// The emulator's request statistics so far.
    fn stats(&self) -> Result<ServerStats, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?;
        let url = format!("{}/_emulator/stats", self.base_url);
        let body: Value = runtime.block_on(async {
            let http = hubspot_projects_api::http::client_builder(&[])
                .map_err(|e| format!("cannot set up TLS: {e}"))?
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
            let answer = http
                .get(&url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| format!("GET {url}: {e}"))?;
            answer
                .json()
                .await
                .map_err(|e| format!("GET {url}: not the statistics: {e}"))
        })?;
        let requests = body
            .get("requests")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("GET {url}: no request count in {body}"))?;
        let at = |key: &str| body.get(key).and_then(Value::as_u64);
        let span = match (at("firstRequestAt"), at("lastRequestAt")) {
            (Some(first), Some(last)) => Some(Duration::from_millis(last.saturating_sub(first))),
            _ => None,
        };
        Ok(ServerStats { requests, span })
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a finished client process used.
struct Measured {
    stdout: String,
    status: i32,
    wall: Duration,
    cpu: Duration,
    peak_rss_mib: f64,
}

/// Runs a command to completion and measures its CPU time and peak RSS with `wait4`.
fn measure(command: &mut Command) -> Result<Measured, String> {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; the pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        return Err(format!("wait4 failed: {}", std::io::Error::last_os_error()));
    }
    let wall = started.elapsed();
    let stdout = reader.join().unwrap_or_default();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    Ok(Measured {
        stdout,
        status: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
    })
}

fn last_json_line(text: &str) -> Result<Value, String> {
    text.lines()
        .rev()
        .find_map(|l| serde_json::from_str::<Value>(l).ok())
        .ok_or_else(|| format!("no JSON line in the client's output: {text:?}"))
}

/// Runs the `bulk_upsert` example against `emulator`; also returns the emulator's CPU time
/// during the run.
///
/// `concurrency` pins the requests in flight; `None` leaves the client's automatic setting.
/// `extra` goes on the example's command line.
fn bulk_upsert(
    release: &Release,
    emulator: &EmulatorProcess,
    count: u64,
    concurrency: Option<u32>,
    rate: &str,
    extra: &[&str],
) -> Result<(Value, Measured, Duration), String> {
    let before = emulator.cpu();
    let mut command = Command::new(&release.bulk_upsert);
    command
        .env("HUBSPOT_ACCESS_TOKEN", TOKEN)
        .args([
            "--base-url",
            &emulator.base_url,
            "--count",
            &count.to_string(),
        ])
        .args(["--rate", rate]);
    if let Some(concurrency) = concurrency {
        command.args(["--concurrency", &concurrency.to_string()]);
    }
    let measured = measure(command.args(extra))?;
    let emulator_cpu = emulator.cpu().saturating_sub(before);
    let line = last_json_line(&measured.stdout)?;
    Ok((line, measured, emulator_cpu))
}

/// One raw-throughput run: `release`'s `bulk_upsert` client writes `records` records at a pinned
/// `concurrency`, with no rate limit, against a fresh emulator of `release`.
struct ThroughputRun {
    line: Value,
    measured: Measured,
    emulator_cpu: Duration,
    /// The client's own clock, from its first input to its last outcome: process start-up (and
    /// the TLS roots reqwest loads) is excluded here but included in the CPU time.
    elapsed_s: f64,
    records_per_s: f64,
    /// Client CPU seconds per 100,000 records.
    cpu_per_100k: f64,
}

fn throughput_run(
    release: &Release,
    records: u64,
    concurrency: u32,
) -> Result<ThroughputRun, String> {
    let emulator = EmulatorProcess::start(&release.emulator, &[])?;
    let (line, measured, emulator_cpu) = bulk_upsert(
        release,
        &emulator,
        records,
        Some(concurrency),
        "unlimited",
        &[],
    )?;
    let elapsed_s = num(&line, "elapsed_s").max(1e-9);
    Ok(ThroughputRun {
        records_per_s: records as f64 / elapsed_s,
        cpu_per_100k: measured.cpu.as_secs_f64() * 100_000.0 / records as f64,
        elapsed_s,
        line,
        measured,
        emulator_cpu,
    })
}

/// Records that ended created or updated.
fn written(line: &Value) -> f64 {
    num(line, "created") + num(line, "updated")
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// Runs every scenario, prints a table and returns the JSON document.
pub fn run(args: &BenchArgs, root: &Path) -> Result<Value, String> {
    let release = build(root)?;
    let records = args
        .records
        .unwrap_or(if args.quick { 20_000 } else { 100_000 });
    let csv_rows = args
        .csv_rows
        .unwrap_or(if args.quick { 200_000 } else { 1_000_000 });
    let mut results = serde_json::Map::new();
    let run = |scenario| args.only.is_empty() || args.only.contains(&scenario);

    // 0. The emulator's capacity, so that it is known not to be the bottleneck below.
    if run(Scenario::Capacity) {
        capacity(&release, args.quick, &mut results)?;
    }

    if run(Scenario::Throughput) {
        // 1. Raw throughput.
        println!("\n## Raw throughput: {records} records, batches of 100, no rate limit");
        // The fixed cost of a client process (runtime, and the system's TLS roots that reqwest's
        // native-tls backend loads when the client is built), measured with no records at all.
        let startup = {
            let emulator = EmulatorProcess::start(&release.emulator, &[])?;
            let (_, m, _) = bulk_upsert(&release, &emulator, 0, Some(1), "unlimited", &[])?;
            m
        };
        // One discarded run first: on this kind of small virtual machine the first run after a
        // pause is consistently slower (the emulator's CPU per request about doubles), which would
        // skew the first row and every ratio against it.
        throughput_run(&release, records, 4)?;
        println!(
            "(a client process that sends nothing uses {:.3} s of CPU and {:.1} MiB; the marginal column excludes that)",
            startup.cpu.as_secs_f64(),
            startup.peak_rss_mib
        );
        println!(
            "| concurrency | records/s | requests/s | client CPU s per 100k | client µs per record | marginal µs per record | client peak RSS MiB | emulator CPU µs per request | written | records/s vs concurrency 1 | CPU per record vs concurrency 1 |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        let mut throughput = Vec::new();
        let mut base: Option<(f64, f64)> = None;
        for concurrency in [1u32, 4, 16] {
            let ThroughputRun {
                line,
                measured: m,
                emulator_cpu,
                elapsed_s: elapsed,
                records_per_s: rps,
                cpu_per_100k,
            } = throughput_run(&release, records, concurrency)?;
            let requests = num(&line, "requests");
            let (base_rps, base_cpu) = *base.get_or_insert((rps, cpu_per_100k));
            let emulator_us_per_request = emulator_cpu.as_secs_f64() * 1e6 / requests.max(1.0);
            let marginal_us =
                m.cpu.saturating_sub(startup.cpu).as_secs_f64() * 1e6 / records as f64;
            let written = written(&line);
            println!(
                "| {concurrency} | {rps:.0} | {:.0} | {cpu_per_100k:.3} | {:.2} | {marginal_us:.2} | {:.1} | {emulator_us_per_request:.0} | {written:.0}/{records} | {:.2}x | {:.2}x |",
                requests / elapsed,
                cpu_per_100k * 10.0,
                m.peak_rss_mib,
                rps / base_rps,
                cpu_per_100k / base_cpu,
            );
            if written as u64 != records || m.status != 0 {
                eprintln!(
                    "warning: concurrency {concurrency}: {written:.0} of {records} records written, exit {}",
                    m.status
                );
            }
            throughput.push(json!({
                "concurrency": concurrency, "records": records, "elapsed_s": elapsed,
                "records_per_s": rps, "requests": requests, "requests_per_s": requests / elapsed,
                "client_cpu_s": m.cpu.as_secs_f64(), "client_cpu_s_per_100k": cpu_per_100k,
                "client_cpu_us_per_record": cpu_per_100k * 10.0,
                "client_marginal_cpu_us_per_record": marginal_us,
                "client_peak_rss_mib": m.peak_rss_mib,
                "emulator_cpu_s": emulator_cpu.as_secs_f64(),
                "emulator_cpu_us_per_request": emulator_us_per_request,
                "ratio_records_per_s_vs_concurrency_1": rps / base_rps,
                "ratio_cpu_per_record_vs_concurrency_1": cpu_per_100k / base_cpu,
                "written": written, "failed": num(&line, "failed"),
                "not_attempted": num(&line, "not_attempted"), "exit": m.status,
            }));
        }
        results.insert("throughput".into(), Value::Array(throughput));
        results.insert(
            "client_startup".into(),
            json!({ "cpu_s": startup.cpu.as_secs_f64(), "peak_rss_mib": startup.peak_rss_mib }),
        );
        if let Some(rev) = &args.baseline {
            let target = std::path::absolute(target_dir(root))
                .map_err(|e| format!("the target directory: {e}"))?;
            baseline::run(
                &release,
                root,
                &target,
                rev,
                records,
                args.quick,
                &mut results,
            )?;
        }
    }

    if run(Scenario::Pacing) {
        // 2. Pacing under a budget: the emulator enforces it, the client paces to it.
        // (budget, max requests, interval in seconds, how long to run)
        let windows: [(&str, f64, f64, f64); 2] = if args.quick {
            [("50/1s", 50.0, 1.0, 10.0), ("100/10s", 100.0, 10.0, 30.0)]
        } else {
            [("50/1s", 50.0, 1.0, 30.0), ("100/10s", 100.0, 10.0, 120.0)]
        };
        println!(
            "\n## Pacing: emulator limit = client budget, concurrency 4; ceiling = the budget's rate x the run's duration"
        );
        println!(
            "| budget | requests | seconds | fraction of ceiling | 429s | 429 share | failed |"
        );
        println!("|---|---|---|---|---|---|---|");
        let mut pacing = Vec::new();
        for (budget, max, interval, seconds) in windows {
            // Enough records (100 per request) to keep the client at the ceiling for `seconds`.
            let count = (max / interval * seconds * 100.0) as u64;
            let emulator = EmulatorProcess::start(&release.emulator, &["--rate-limit", budget])?;
            let (line, m, _) = bulk_upsert(&release, &emulator, count, Some(4), budget, &[])?;
            let elapsed = num(&line, "elapsed_s").max(1e-9);
            let requests = num(&line, "requests");
            let limited = num(&line, "rate_limited");
            // The ceiling is the budget's rate times the time the run took.
            let fraction = (requests - limited) / (max / interval * elapsed).max(1.0);
            println!(
                "| {budget} | {requests:.0} | {elapsed:.1} | {:.1}% | {limited:.0} | {:.2}% | {:.0} |",
                fraction * 100.0,
                100.0 * limited / requests.max(1.0),
                num(&line, "failed")
            );
            pacing.push(json!({
                "budget": budget, "records": count, "requests": requests, "elapsed_s": elapsed,
                "fraction_of_ceiling": fraction, "rate_limited": limited,
                "rate_limited_share": limited / requests.max(1.0), "failed": num(&line, "failed"),
                "written": written(&line), "exit": m.status,
            }));
        }
        results.insert("pacing".into(), Value::Array(pacing));
    }

    if run(Scenario::Latency) {
        latency::run(&release, args.quick, &mut results)?;
    }

    if run(Scenario::Faults) {
        // 3. Faults.
        println!("\n## Faults: 10% 5xx, 5% 429, 1% dropped connections, {records} records");
        let emulator = EmulatorProcess::start(
            &release.emulator,
            &[
                "--seed",
                "42",
                "--fault-500",
                "0.04",
                "--fault-502",
                "0.03",
                "--fault-503",
                "0.03",
                "--fault-429",
                "0.05",
                "--fault-drop",
                "0.01",
            ],
        )?;
        let (line, m, _) = bulk_upsert(&release, &emulator, records, Some(4), "unlimited", &[])?;
        let written = written(&line);
        println!(
            "written {written:.0}/{records}, failed {:.0}, not attempted {:.0}, requests {:.0} (retries {:.0}, 429s {:.0}), {:.1} s, exit {}",
            num(&line, "failed"),
            num(&line, "not_attempted"),
            num(&line, "requests"),
            num(&line, "retries"),
            num(&line, "rate_limited"),
            num(&line, "elapsed_s"),
            m.status
        );
        results.insert(
            "faults".into(),
            json!({ "records": records, "written": written, "failed": num(&line, "failed"),
                "not_attempted": num(&line, "not_attempted"), "requests": num(&line, "requests"),
                "retries": num(&line, "retries"), "rate_limited": num(&line, "rate_limited"),
                "elapsed_s": num(&line, "elapsed_s"), "exit": m.status }),
        );
        drop(emulator);
    }

    if run(Scenario::BadRecords) {
        bad_records::run(&release, records, &mut results)?;
    }

    if run(Scenario::SharedBudget) {
        shared_budget::run(&release, args.quick, &mut results)?;
    }

    if run(Scenario::Streaming) {
        // 4. Streaming memory through the CLI.
        println!("\n## Streaming: a {csv_rows}-row CSV through the CLI");
        let dir =
            std::env::temp_dir().join(format!("hubspot-projects-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let csv = dir.join("projects.csv");
        write_csv(&csv, csv_rows)?;
        let emulator = EmulatorProcess::start(&release.emulator, &[])?;
        let m = measure(
            Command::new(&release.cli)
                .env("HUBSPOT_ACCESS_TOKEN", TOKEN)
                .args([
                    "upsert",
                    csv.to_str().unwrap_or_default(),
                    "--id-property",
                    "project_code",
                ])
                .args([
                    "--base-url",
                    &emulator.base_url,
                    "--rate",
                    "unlimited",
                    "--quiet",
                    "--concurrency",
                    "4",
                ]),
        )?;
        let rps = csv_rows as f64 / m.wall.as_secs_f64().max(1e-9);
        println!(
            "peak RSS {:.1} MiB, {rps:.0} records/s, {:.1} s, CLI CPU {:.2} s, exit {}",
            m.peak_rss_mib,
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            m.status
        );
        results.insert(
        "streaming".into(),
        json!({ "rows": csv_rows, "peak_rss_mib": m.peak_rss_mib, "records_per_s": rps,
                "elapsed_s": m.wall.as_secs_f64(), "cpu_s": m.cpu.as_secs_f64(), "exit": m.status }),
    );
        drop(emulator);
        let _ = std::fs::remove_dir_all(&dir);
    }

    let output = |program: &Path, args: &[&str]| {
        Command::new(program)
            .current_dir(root)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let rustc = output(Path::new("rustc"), &["--version"]);
    let commit = output(Path::new("git"), &["rev-parse", "HEAD"]);
    let dirty = !output(
        Path::new("git"),
        &["status", "--porcelain", "--untracked-files=no"],
    )
    .is_empty();
    let emulator_version = output(&release.emulator, &["--version"]);
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let command = format!(
        "cargo xtask {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    );
    println!(
        "\n{command}\non {cores} cores ({cpu_model}), {rustc}, commit {commit}{}",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        }
    );
    let document = json!({
        "command": command,
        "machine": { "cores": cores, "cpu": cpu_model,
                     "os": std::env::consts::OS, "arch": std::env::consts::ARCH },
        "versions": { "rustc": rustc, "workspace": env!("CARGO_PKG_VERSION"),
                      "emulator": emulator_version, "commit": commit, "uncommitted_changes": dirty },
        "settings": { "records": records, "csv_rows": csv_rows, "quick": args.quick,
                      "batch_size": 100, "profile": "release" },
        "results": results,
    });
    if let Some(path) = &args.json {
        std::fs::write(
            path,
            serde_json::to_string_pretty(&document).unwrap_or_default(),
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!("\nwrote {}", path.display());
    }
    Ok(document)
}

fn write_csv(path: &Path, rows: u64) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut write = || -> std::io::Result<()> {
        writeln!(out, "project_code,hs_name,hs_pipeline_stage,hs_description")?;
        for i in 0..rows {
            writeln!(
                out,
                "PRJ-{i:08},Project {i},in_progress,Benchmark project number {i}"
            )?;
        }
        out.flush()
    };
    write().map_err(|e| format!("{}: {e}", path.display()))
}

/// How many batch upserts of 100 a second the emulator binary serves, with 16 connections.
fn capacity(
    release: &Release,
    quick: bool,
    results: &mut serde_json::Map<String, Value>,
) -> Result<(), String> {
    let window = Duration::from_secs(if quick { 3 } else { 10 });
    println!(
        "\n## Emulator capacity: batch upserts of 100, {} s",
        window.as_secs()
    );
    let emulator = EmulatorProcess::start(&release.emulator, &[])?;
    let measured = crate::load::measure(
        &emulator.base_url,
        || emulator.cpu(),
        16,
        Duration::from_secs(1),
        window,
    )?;
    println!(
        "{:.0} requests/s ({:.0} records/s) over {} connections, {:.0} requests per emulator \
         CPU-second, {} errors",
        measured.requests_per_s,
        measured.requests_per_s * 100.0,
        measured.connections,
        measured.requests_per_cpu_s,
        measured.errors
    );
    results.insert(
        "capacity".into(),
        json!({ "requests_per_s": measured.requests_per_s,
                "records_per_s": measured.requests_per_s * 100.0,
                "requests_per_emulator_cpu_s": measured.requests_per_cpu_s,
                "connections": measured.connections, "errors": measured.errors,
                "window_s": window.as_secs() }),
    );
    Ok(())
}
