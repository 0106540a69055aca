//! Scenario `bad-records`: HubSpot rejects a whole batch for one invalid value, and the client
//! isolates the bad inputs so that every good one is written.
//!
//! 1% of the records, at positions drawn from a seed, are bad in one of three properties, in
//! turn: a month-13 `hs_target_due_date` (`2027-13-05`), a `hs_pipeline_stage` that is no
//! option (`someday`, while the good records carry allowed options, all of which HubSpot's
//! message lists, or a blank stage), a `hubspot_owner_id` that is no number (`owner-7`, while
//! the good records carry `0` to `9`). The emulator answers a batch holding any of them with HubSpot's
//! whole-batch 400. The example checks every outcome against the positions it made bad and
//! the property it made bad there.

use serde_json::{Value, json};

use super::{EmulatorProcess, Release, bulk_upsert, num, written};

/// The share of bad records, and the seed of their positions and values.
const BAD_FRACTION: &str = "0.01";
const SEED: &str = "7";

/// Isolation requests per bad record the client may spend.
const MOST_PER_BAD_RECORD: f64 = 8.0;

/// Runs the scenario and adds its result to `results` under `bad_records`.
pub(super) fn run(
    release: &Release,
    records: u64,
    results: &mut serde_json::Map<String, Value>,
) -> Result<(), String> {
    println!(
        "\n## Bad records: {records} records, {BAD_FRACTION} of them (seed {SEED}) with an invalid \
         hs_target_due_date, hs_pipeline_stage or hubspot_owner_id; the emulator rejects a batch \
         holding one whole (400); client defaults, no rate limit"
    );
    let emulator = EmulatorProcess::start(&release.emulator, &["--batch-errors", "whole"])?;
    let (line, m, _) = bulk_upsert(
        release,
        &emulator,
        records,
        None,
        "unlimited",
        &["--bad-fraction", BAD_FRACTION, "--seed", SEED],
    )?;
    let server = emulator.stats()?;
    drop(emulator);
    let bad = num(&line, "bad_records");
    let written = written(&line);
    let failed = num(&line, "failed");
    let named = num(&line, "failed_naming_the_bad_property");
    let by_property = line.get("bad_by_property").cloned().unwrap_or(Value::Null);
    let count_of = |property: &str| {
        by_property
            .get(property)
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    };
    let failed_not_bad = num(&line, "failed_not_bad");
    let bad_written = num(&line, "bad_written");
    let requests = num(&line, "requests");
    let isolation = num(&line, "isolation_requests");
    let retries = num(&line, "retries");
    let needed = records.div_ceil(100);
    let per_bad = isolation / bad.max(1.0);
    println!(
        "| records | bad (date / stage / owner) | good written | bad failed naming the bad property | failed records not bad | requests (needed: records/100) | isolation requests | per bad record | retries | seconds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {records} | {bad:.0} ({:.0} / {:.0} / {:.0}) | {written:.0}/{:.0} | {named:.0}/{bad:.0} | {failed_not_bad:.0} | {requests:.0} ({needed}) | {isolation:.0} | {per_bad:.2} | {retries:.0} | {:.1} |",
        count_of("hs_target_due_date"),
        count_of("hs_pipeline_stage"),
        count_of("hubspot_owner_id"),
        records as f64 - bad,
        num(&line, "elapsed_s"),
    );
    if requests as u64 != server.requests {
        eprintln!(
            "warning: the client counted {requests:.0} requests, the emulator {}",
            server.requests
        );
    }
    if requests != needed as f64 + isolation + retries {
        eprintln!(
            "warning: {requests:.0} requests are not the {needed} needed + {isolation:.0} isolation + {retries:.0} retries"
        );
    }
    let met = written == records as f64 - bad
        && failed == bad
        && named == bad
        && failed_not_bad == 0.0
        && bad_written == 0.0
        && num(&line, "not_attempted") == 0.0
        && per_bad <= MOST_PER_BAD_RECORD;
    println!(
        "target (every good record written, every bad one failed naming the property made bad, none else failed, <= {MOST_PER_BAD_RECORD} isolation requests per bad record): {}",
        if met { "met" } else { "NOT met" }
    );
    results.insert(
        "bad_records".into(),
        json!({ "records": records, "bad_fraction": BAD_FRACTION, "seed": SEED,
            "bad_records": bad, "bad_by_property": by_property, "written": written,
            "failed": failed,
            "failed_naming_a_property": num(&line, "failed_naming_a_property"),
            "failed_naming_the_bad_property": named, "failed_not_bad": failed_not_bad,
            "bad_written": bad_written, "not_attempted": num(&line, "not_attempted"),
            "requests": requests, "server_requests": server.requests,
            "requests_needed": needed, "isolation_requests": isolation,
            "isolation_requests_per_bad_record": per_bad, "retries": retries,
            "rate_limited": num(&line, "rate_limited"), "in_flight": num(&line, "in_flight"),
            "elapsed_s": num(&line, "elapsed_s"), "client_cpu_s": m.cpu.as_secs_f64(),
            "exit": m.status }),
    );
    Ok(())
}
