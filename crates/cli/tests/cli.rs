//! The `hubspot-projects` binary end to end against the emulator on loopback.

use hubspot_projects_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Faults, TokenGrant};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tokio::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_hubspot-projects");
const TOKEN: &str = "pat-na1-cli-test-0f9e8d7c";

fn cli() -> Command {
    let mut command = Command::new(BIN);
    command
        .env("HUBSPOT_ACCESS_TOKEN", TOKEN)
        .env_remove("RUST_LOG");
    command.kill_on_drop(true);
    command
}

async fn emulator(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("the emulator starts")
}

fn write_csv(dir: &Path, name: &str, rows: u64, version: &str) -> PathBuf {
    let path = dir.join(name);
    let mut text = String::from("project_code,hs_name,hs_pipeline_stage\n");
    for i in 0..rows {
        text.push_str(&format!("PRJ-{i:05},Project {i} {version},planned\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

async fn upsert(base_url: &str, file: &Path, extra: &[&str]) -> Output {
    cli()
        .args([
            "upsert",
            file.to_str().unwrap(),
            "--id-property",
            "project_code",
            "--base-url",
            base_url,
        ])
        .args(["--rate", "unlimited", "--quiet"])
        .args(extra)
        .output()
        .await
        .expect("the binary runs")
}

fn report(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn csv_end_to_end_creates_then_updates_with_a_complete_report() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 250, "v1");
    let report_path = dir.path().join("report.ndjson");

    let output = upsert(
        &server.base_url(),
        &file,
        &["--report", report_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(server.record_count(), 250);
    let lines = report(&report_path);
    assert_eq!(lines.len(), 250);
    assert!(
        lines
            .iter()
            .all(|l| l["outcome"] == "created" && l["record_id"].is_string())
    );
    let mut numbers: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (2..=251).collect::<Vec<_>>());

    let changed = write_csv(dir.path(), "changed.csv", 250, "v2");
    let output = upsert(
        &server.base_url(),
        &changed,
        &["--report", report_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        report(&report_path)
            .iter()
            .all(|l| l["outcome"] == "updated")
    );
    let records = server.records();
    assert_eq!(records.len(), 250);
    assert!(
        records
            .iter()
            .all(|r| r.properties["hs_name"].ends_with("v2"))
    );
}

#[tokio::test]
async fn ndjson_end_to_end() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("projects.ndjson");
    std::fs::write(
        &file,
        "{\"id\":\"N-1\",\"properties\":{\"hs_name\":\"One\"}}\n\
         {\"id\":\"N-2\",\"properties\":{\"hs_name\":\"Two\"},\"idProperty\":\"project_code\"}\n",
    )
    .unwrap();
    let output = upsert(&server.base_url(), &file, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let names: BTreeMap<String, String> = server
        .records()
        .into_iter()
        .map(|r| {
            (
                r.properties["project_code"].clone(),
                r.properties["hs_name"].clone(),
            )
        })
        .collect();
    assert_eq!(names["N-1"], "One");
    assert_eq!(names["N-2"], "Two");
}

#[tokio::test]
async fn bad_rows_are_reported_by_line_and_the_rest_is_written() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    let mut bytes = b"project_code,hs_name\nP-1,fine\n,no id\nP-3,too,many\nP-4,".to_vec();
    bytes.extend_from_slice(b"\xff\xfe\nP-5,unknown\nP-6,fine too\n");
    std::fs::write(&file, bytes).unwrap();
    let report_path = dir.path().join("report.ndjson");
    let output = upsert(
        &server.base_url(),
        &file,
        &["--report", report_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
    assert!(stderr.contains("line 5 (id \"P-4\")"), "{stderr}");
    let lines = report(&report_path);
    assert_eq!(lines.len(), 6, "one line per input row: {lines:?}");
    let by_line: BTreeMap<u64, &Value> = lines
        .iter()
        .map(|l| (l["line"].as_u64().unwrap(), l))
        .collect();
    for bad in [3, 4, 5] {
        assert_eq!(by_line[&bad]["outcome"], "failed");
        assert_eq!(by_line[&bad]["error_category"], "INVALID_INPUT");
    }
    for good in [2, 6, 7] {
        assert_eq!(by_line[&good]["outcome"], "created", "{:?}", by_line[&good]);
    }
    assert_eq!(server.record_count(), 3);
}

#[tokio::test]
async fn strict_stops_at_the_first_bad_row_with_exit_2() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "project_code,hs_name\n,no id\nP-2,fine\n").unwrap();
    let output = upsert(&server.base_url(), &file, &["--strict"]).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("line 2"), "{}", text(&output));
    assert_eq!(server.record_count(), 0);
}

#[tokio::test]
async fn usage_errors_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.csv");
    let output = upsert("http://127.0.0.1:9", &missing, &[]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("missing.csv"), "{}", text(&output));

    let no_id = dir.path().join("no-id.csv");
    std::fs::write(&no_id, "code,hs_name\nP-1,x\n").unwrap();
    let output = upsert("http://127.0.0.1:9", &no_id, &[]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("--id-column"), "{}", text(&output));
}

#[tokio::test]
async fn the_daily_limit_stops_the_run_with_exit_3_and_resume_finishes_it() {
    let server = emulator(EmulatorConfig {
        daily_limit: Some(2),
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 500, "v1");
    let journal = dir.path().join("journal.ndjson");
    let report_path = dir.path().join("report.ndjson");
    let args = [
        "--journal",
        journal.to_str().unwrap(),
        "--report",
        report_path.to_str().unwrap(),
        "--concurrency",
        "1",
    ];
    let output = upsert(&server.base_url(), &file, &args).await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    assert!(text(&output).contains("--resume"), "{}", text(&output));
    // Two requests were allowed: at most 200 records, and every one of them reported.
    let written = server.record_count();
    assert!((1..=200).contains(&written), "{written} records written");
    let lines = report(&report_path);
    assert_eq!(lines.len(), 500);
    assert_eq!(
        lines.iter().filter(|l| l["outcome"] == "created").count(),
        written
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["outcome"] == "not_attempted")
            .count(),
        500 - written
    );

    // The next day, on a fresh budget (a new emulator keeps the state only in memory, so
    // resume against the same one with its limit lifted is not possible: use a second run
    // against a server without a limit and check only the unconfirmed records are sent).
    let fresh = emulator(EmulatorConfig::default()).await;
    let mut resume_args = args.to_vec();
    resume_args.push("--resume");
    let output = upsert(&fresh.base_url(), &file, &resume_args).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        fresh.record_count(),
        500 - written,
        "only what was not confirmed is sent again"
    );
    let lines = report(&report_path);
    assert_eq!(lines.len(), 500, "the report covers the whole file");
    assert!(lines.iter().all(|l| l["outcome"] == "created"));
}

async fn kill_mid_run_then_resume(faults: Faults) {
    let server = emulator(EmulatorConfig {
        faults,
        seed: 7,
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let rows = 3_000;
    let file = write_csv(dir.path(), "projects.csv", rows, "v1");
    let journal = dir.path().join("journal.ndjson");
    let report_path = dir.path().join("report.ndjson");
    let base = server.base_url();
    let args = [
        "upsert",
        file.to_str().unwrap(),
        "--id-property",
        "project_code",
        "--base-url",
        &base,
        "--quiet",
        "--journal",
        journal.to_str().unwrap(),
        "--report",
        report_path.to_str().unwrap(),
        "--concurrency",
        "2",
    ];
    // Paced slowly enough that the run is still going when it is killed.
    let mut child = cli().args(args).args(["--rate", "20/1s"]).spawn().unwrap();
    // Wait until the journal shows that some batches were confirmed, then kill -9.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let confirmed = std::fs::read_to_string(&journal)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if confirmed > 300 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the journal never grew"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().await.unwrap(); // SIGKILL
    let before = server.record_count() as u64;
    assert!(before < rows, "killed mid-run");

    let output = cli()
        .args(args)
        .args(["--rate", "unlimited", "--resume"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let records = server.records();
    assert_eq!(records.len() as u64, rows);
    let mut codes: Vec<&str> = records
        .iter()
        .map(|r| r.properties["project_code"].as_str())
        .collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len() as u64, rows, "every record exactly once");
    let lines = report(&report_path);
    let mut numbers: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (2..=rows + 1).collect::<Vec<_>>(),
        "one report line per input"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["outcome"] == "created" || l["outcome"] == "updated")
    );
}

#[tokio::test]
async fn kill_9_mid_run_then_resume_loses_nothing() {
    kill_mid_run_then_resume(Faults::default()).await;
}

#[tokio::test]
async fn kill_9_mid_run_then_resume_loses_nothing_under_faults() {
    kill_mid_run_then_resume(Faults {
        server_error: 0.05,
        bad_gateway_html: 0.05,
        unavailable: 0.05,
        rate_limited: 0.05,
        drop_connection: 0.02,
        ..Faults::default()
    })
    .await;
}

#[tokio::test]
async fn the_token_is_never_printed() {
    let server = emulator(EmulatorConfig {
        tokens: vec![TokenGrant {
            token: "another-token".into(),
            scopes: None,
        }],
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 3, "v1");
    let report_path = dir.path().join("report.ndjson");
    let output = upsert(
        &server.base_url(),
        &file,
        &["--report", report_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let all = format!(
        "{}{}",
        text(&output),
        std::fs::read_to_string(&report_path).unwrap()
    );
    assert!(
        all.contains("401") || all.to_lowercase().contains("unauthorized"),
        "{all}"
    );
    assert!(!all.contains(TOKEN), "the token leaked: {all}");

    let output = cli()
        .env("RUST_LOG", "trace")
        .args([
            "upsert",
            file.to_str().unwrap(),
            "--id-property",
            "project_code",
        ])
        .args([
            "--base-url",
            &server.base_url(),
            "--token",
            "pat-flag-secret-1234",
            "--quiet",
        ])
        .output()
        .await
        .unwrap();
    let all = text(&output);
    assert!(all.contains("warning: --token"), "{all}");
    assert!(
        !all.contains("pat-flag-secret-1234"),
        "the token leaked: {all}"
    );
}

#[tokio::test]
async fn dry_run_sends_nothing_and_plans_the_requests() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 250, "v1");
    let output = upsert(&server.base_url(), &file, &["--dry-run"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("250 valid records, 0 invalid, 3 requests planned"),
        "{}",
        text(&output)
    );
    assert_eq!(server.request_count(), 0);
}
