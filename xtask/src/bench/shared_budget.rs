//! Scenario `shared-budget`: four client processes, each upserting its own quarter of the
//! records, sharing one HubSpot budget (20 requests a second) through a real Redis, against one
//! emulator that enforces that budget for their common token. The same four without the shared
//! store show what it prevents.
//!
//! The ceiling is measured at the server, as in the latency scenario: the budget's rate times
//! the span from the first request's arrival to the last one's, plus one period.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{EmulatorProcess, Release, TOKEN, last_json_line, num, written};

const BUDGET: &str = "20/1s";
const RATE: f64 = 20.0;
const PROCESSES: u64 = 4;

/// A `redis-server` on a free loopback port, killed on drop.
struct RedisProcess {
    child: Child,
    port: u16,
}

impl RedisProcess {
    fn start() -> Result<Self, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("the shared-budget scenario needs redis-server (apt-get install redis-server): {e}")
            })?;
        let redis = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                let mut answer = [0u8; 7];
                let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
                if stream.write_all(b"PING\r\n").is_ok()
                    && stream.read_exact(&mut answer).is_ok()
                    && &answer == b"+PONG\r\n"
                {
                    return Ok(redis);
                }
            }
            if Instant::now() > deadline {
                return Err("redis-server did not answer PING within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the four processes at once and returns their JSON lines.
fn four(
    release: &Release,
    emulator: &EmulatorProcess,
    per_process: u64,
    store: Option<&str>,
) -> Result<Vec<Value>, String> {
    let mut children = Vec::new();
    for p in 0..PROCESSES {
        let mut command = Command::new(&release.bulk_upsert);
        command
            .env("HUBSPOT_ACCESS_TOKEN", TOKEN)
            .args(["--base-url", &emulator.base_url])
            .args(["--count", &per_process.to_string()])
            .args(["--start", &(p * per_process).to_string()])
            .args(["--rate", BUDGET])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(url) = store {
            command.args(["--rate-store", url, "--rate-key", "bench-shared-budget"]);
        }
        children.push(
            command
                .spawn()
                .map_err(|e| format!("cannot start the example: {e}"))?,
        );
    }
    children
        .into_iter()
        .map(|child| {
            let output = child
                .wait_with_output()
                .map_err(|e| format!("the example: {e}"))?;
            last_json_line(&String::from_utf8_lossy(&output.stdout))
        })
        .collect()
}

/// Runs the scenario and adds its rows to `results` under `shared_budget`.
pub(super) fn run(
    release: &Release,
    quick: bool,
    results: &mut serde_json::Map<String, Value>,
) -> Result<(), String> {
    let seconds = if quick { 15.0 } else { 60.0 };
    let per_process = (RATE * seconds / PROCESSES as f64) as u64 * 100;
    println!(
        "\n## Shared budget: {PROCESSES} client processes, {per_process} records each, one {BUDGET} budget, one emulator enforcing it"
    );
    println!(
        "| store | requests (needed) | server span s | fraction of ceiling at the server | 429s | written | failed |"
    );
    println!("|---|---|---|---|---|---|---|");
    let redis = RedisProcess::start()?;
    let url = redis.url();
    let mut rows = Vec::new();
    for (label, store) in [
        ("shared, in Redis", Some(url.as_str())),
        ("none (each process alone)", None),
    ] {
        let emulator = EmulatorProcess::start(
            &release.emulator,
            &[
                "--rate-limit",
                BUDGET,
                "--latency",
                "300ms..900ms",
                "--seed",
                "42",
            ],
        )?;
        let lines = four(release, &emulator, per_process, store)?;
        let server = emulator.stats()?;
        drop(emulator);
        let limited: f64 = lines.iter().map(|l| num(l, "rate_limited")).sum();
        let failed: f64 = lines.iter().map(|l| num(l, "failed")).sum();
        let written: f64 = lines.iter().map(written).sum();
        let needed = PROCESSES * per_process / 100;
        let admitted = (server.requests as f64 - limited).max(0.0);
        let span = server.span.unwrap_or_default().as_secs_f64();
        let fraction = admitted / (RATE * (span + 1.0 / RATE)).max(1.0);
        println!(
            "| {label} | {} ({needed}) | {span:.1} | {:.1}% | {limited:.0} | {written:.0}/{} | {failed:.0} |",
            server.requests,
            fraction * 100.0,
            PROCESSES * per_process
        );
        rows.push(json!({
            "store": label, "processes": PROCESSES, "records_per_process": per_process,
            "budget": BUDGET, "requests_needed": needed, "server_requests": server.requests,
            "server_span_s": span, "fraction_of_ceiling": fraction, "rate_limited": limited,
            "written": written, "failed": failed,
        }));
    }
    let shared = &rows[0];
    let met = num(shared, "rate_limited") == 0.0
        && num(shared, "fraction_of_ceiling") >= 0.95
        && num(shared, "written") == (PROCESSES * per_process) as f64;
    println!(
        "target (shared: 0 429s, >= 95% of the ceiling, every record written): {}",
        if met { "met" } else { "NOT met" }
    );
    results.insert("shared_budget".into(), Value::Array(rows));
    Ok(())
}
