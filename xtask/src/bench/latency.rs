//! Scenario `latency`: how much of a rate budget the client's defaults use when HubSpot takes
//! 50 ms to 2 s to answer.
//!
//! The client is the `bulk_upsert` example with no concurrency setting, so it chooses how many
//! requests to keep in flight itself; the emulator enforces the budget the client is given and
//! answers each request after a latency drawn from a range (±50% around the mean, from a seed).
//!
//! The ceiling is measured where the budget is enforced, at the server: the budget's rate times
//! the time during which the client was sending, from the first request's arrival to the last
//! one's, plus one period of the budget (its interval over its requests: the last request is
//! owed that much). Process start-up and the wait for the last answers are left out of it; the
//! whole-run fraction (the rate times the client process's wall time) is reported beside it so
//! that nobody takes one for the other.

use serde_json::{Value, json};
use std::time::Duration;

use super::{EmulatorProcess, Release, bulk_upsert, num, written};

/// A budget the emulator enforces and the client is given.
struct Budget {
    text: &'static str,
    requests: f64,
    interval: Duration,
    /// How long the client should be sending at the ceiling; `None` skips it.
    seconds: Option<f64>,
}

impl Budget {
    fn rate(&self) -> f64 {
        self.requests / self.interval.as_secs_f64()
    }
}

/// (label, the emulator's `--latency`, the range's mean in seconds)
const LATENCIES: [(&str, &str, f64); 3] = [
    ("50 ms ±50%", "25ms..75ms", 0.05),
    ("600 ms ±50%", "300ms..900ms", 0.6),
    ("2 s ±50%", "1s..3s", 2.0),
];

/// The seed of the emulator's latency draws.
const SEED: &str = "42";

/// Runs the scenario and adds its rows to `results` under `latency`.
pub(super) fn run(
    release: &Release,
    quick: bool,
    results: &mut serde_json::Map<String, Value>,
) -> Result<(), String> {
    let budgets = [
        Budget {
            text: "20/1s",
            requests: 20.0,
            interval: Duration::from_secs(1),
            seconds: Some(if quick { 20.0 } else { 60.0 }),
        },
        Budget {
            text: "100/10s",
            requests: 100.0,
            interval: Duration::from_secs(10),
            seconds: (!quick).then_some(120.0),
        },
    ];
    println!(
        "\n## Latency: the client's defaults (no concurrency setting) against an emulator that \
         enforces the same budget and answers after a latency drawn from a range (seed {SEED})"
    );
    println!(
        "Ceiling at the server = the budget's rate x (the span from the first request's arrival to \
         the last one's + one period of the budget). Whole run = the budget's rate x the client \
         process's wall time (start-up and the last answers' latency included)."
    );
    println!(
        "| budget | latency | requests (needed: records/100) | server span s | fraction of ceiling at the server | whole-run fraction | 429s | failed records | in flight settled on | rate x mean latency |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for budget in &budgets {
        let Some(seconds) = budget.seconds else {
            skipped.push(budget.text);
            continue;
        };
        let rate = budget.rate();
        let needed = (rate * seconds).round() as u64;
        let records = needed * 100;
        let period = budget.interval.as_secs_f64() / budget.requests;
        for (label, latency, mean) in LATENCIES {
            let emulator = EmulatorProcess::start(
                &release.emulator,
                &[
                    "--rate-limit",
                    budget.text,
                    "--latency",
                    latency,
                    "--seed",
                    SEED,
                ],
            )?;
            let (line, m, _) = bulk_upsert(release, &emulator, records, None, budget.text, &[])?;
            let server = emulator.stats()?;
            drop(emulator);
            let requests = num(&line, "requests");
            let limited = num(&line, "rate_limited");
            let failed = num(&line, "failed");
            let in_flight = num(&line, "in_flight");
            // Requests the emulator admitted: what the budget was spent on.
            let admitted = (server.requests as f64 - limited).max(0.0);
            let span = server.span.unwrap_or_default().as_secs_f64();
            let ceiling = rate * (span + period);
            let fraction = admitted / ceiling.max(1.0);
            let wall = m.wall.as_secs_f64();
            let whole_run = admitted / (rate * wall).max(1.0);
            println!(
                "| {} | {label} | {requests:.0} ({needed}) | {span:.1} | {:.1}% | {:.1}% | {limited:.0} | {failed:.0} | {in_flight:.0} | {:.1} |",
                budget.text,
                fraction * 100.0,
                whole_run * 100.0,
                rate * mean,
            );
            if requests as u64 != server.requests {
                eprintln!(
                    "warning: {} at {label}: the client counted {requests:.0} requests, the emulator {}",
                    budget.text, server.requests
                );
            }
            if written(&line) as u64 != records || m.status != 0 {
                eprintln!(
                    "warning: {} at {label}: {:.0} of {records} records written, exit {}",
                    budget.text,
                    written(&line),
                    m.status
                );
            }
            rows.push(json!({
                "budget": budget.text, "latency": latency, "latency_mean_s": mean,
                "records": records, "requests_needed": needed, "requests": requests,
                "server_requests": server.requests, "rate_limited": limited,
                "server_span_s": span, "period_s": period, "ceiling_requests": ceiling,
                "fraction_of_ceiling": fraction, "wall_s": wall,
                "whole_run_fraction": whole_run, "in_flight": in_flight,
                "rate_times_mean_latency": rate * mean,
                "written": written(&line), "failed": failed,
                "not_attempted": num(&line, "not_attempted"), "retries": num(&line, "retries"),
                "client_elapsed_s": num(&line, "elapsed_s"), "exit": m.status,
            }));
        }
    }
    if !skipped.is_empty() {
        println!("({} skipped with --quick)", skipped.join(", "));
    }
    let met = rows.iter().all(|row| {
        num(row, "fraction_of_ceiling") >= 0.95
            && num(row, "rate_limited") == 0.0
            && num(row, "failed") == 0.0
            && num(row, "requests") == num(row, "requests_needed")
    });
    println!(
        "target (>= 95% of the ceiling at the server, 0 429s, 0 failed records, no more requests than needed, every row): {}",
        if met { "met" } else { "NOT met" }
    );
    results.insert("latency".into(), Value::Array(rows));
    Ok(())
}
