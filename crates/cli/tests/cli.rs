//! The `hubspot-projects` binary end to end against the emulator on loopback.

mod common;

use common::*;
use hubspot_projects_emulator::{EmulatorConfig, Faults, TokenGrant};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

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
    let lines = ndjson(&report_path);
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
        ndjson(&report_path)
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
    let lines = ndjson(&report_path);
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
    let lines = ndjson(&report_path);
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
    let lines = ndjson(&report_path);
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
    let lines = ndjson(&report_path);
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
    // A refused token stops the run: the exit code of a stop.
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
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
        .args(upsert_by_code(&server.base_url(), file.to_str().unwrap()))
        .args(["--token", "pat-flag-secret-1234", "--quiet"])
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

#[tokio::test]
async fn ndjson_numbers_are_sent_exactly_as_written() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("numbers.ndjson");
    std::fs::write(
        &file,
        "{\"id\":12345678901234567890123,\"properties\":{\"hs_name\":1.10,\"hs_description\":-0.000000000000000000001}}\n",
    )
    .unwrap();
    let output = upsert(&server.base_url(), &file, &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let records = server.records();
    assert_eq!(records.len(), 1);
    let properties = &records[0].properties;
    assert_eq!(properties["project_code"], "12345678901234567890123");
    assert_eq!(properties["hs_name"], "1.10");
    assert_eq!(properties["hs_description"], "-0.000000000000000000001");
}

#[tokio::test]
async fn crlf_files_report_the_lines_an_editor_shows() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("windows.csv");
    std::fs::write(
        &csv,
        "project_code,hs_name\r\nP-1,one\r\n,no id\r\nP-3,three\r\n",
    )
    .unwrap();
    let report_path = dir.path().join("report.ndjson");
    let output = upsert(
        &server.base_url(),
        &csv,
        &["--report", report_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("line 3 (id \"\")"),
        "{}",
        text(&output)
    );
    let lines = ndjson(&report_path);
    let by_id: BTreeMap<String, u64> = lines
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_id["P-1"], 2);
    assert_eq!(by_id[""], 3);
    assert_eq!(by_id["P-3"], 4);

    let ndjson_file = dir.path().join("windows.ndjson");
    std::fs::write(
        &ndjson_file,
        "{\"id\":\"N-1\"}\r\nnot json\r\n\r\n{\"id\":\"N-4\",\"properties\":{\"hs_name\":\"four\"}}\r\n",
    )
    .unwrap();
    let output = upsert(
        &server.base_url(),
        &ndjson_file,
        &["--report", report_path.to_str().unwrap()],
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("line 2 (id \"\")"),
        "{}",
        text(&output)
    );
    assert_eq!(line_numbers(&ndjson(&report_path)), [1, 2, 4]);
}

#[tokio::test]
async fn a_column_named_twice_is_refused_with_its_name() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("twice.csv");
    std::fs::write(&file, "project_code,hs_name,hs_name\nP-1,first,second\n").unwrap();
    let output = upsert(&server.base_url(), &file, &[]).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("\"hs_name\" twice (columns 2 and 3)"),
        "{}",
        text(&output)
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn the_summary_counts_every_row_invalid_ones_included() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(&file, "project_code,hs_name\n,no id\n").unwrap();
    let output = upsert(&server.base_url(), &file, &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("bad.csv: 1 records"), "{stdout}");
    assert!(
        stdout.contains("of which invalid input       1"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_closed_standard_output_ends_the_summary_not_the_process() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 120, "v1");
    // A pipe whose reading end is closed before the run: every write to it fails with EPIPE.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    // (`output()` would replace the pipe with one of its own.)
    let output = cli()
        .args(upsert_args(&server.base_url(), file.to_str().unwrap()))
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(server.record_count(), 120);

    // Standard error closed too, with a log that writes to it: still the run's own exit code
    // (a panic would end with 101).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = cli()
        .env("RUST_LOG", "debug")
        .args(upsert_args(&server.base_url(), file.to_str().unwrap()))
        .stdout(writer.try_clone().unwrap())
        .stderr(writer)
        .status()
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn an_absurd_concurrency_is_refused_with_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 3, "v1");
    let limit = format!("1..={}", hubspot_projects::MAX_IN_FLIGHT_LIMIT);
    let above = (hubspot_projects::MAX_IN_FLIGHT_LIMIT + 1).to_string();
    for value in ["18446744073709551615", "0", above.as_str()] {
        let output = upsert("http://127.0.0.1:9", &file, &["--concurrency", value]).await;
        let all = text(&output);
        assert_eq!(output.status.code(), Some(2), "{value}: {all}");
        assert!(all.contains(&limit) && !all.contains("panicked"), "{all}");
    }
}

#[tokio::test]
async fn rust_log_filters_the_log_and_a_file_gets_no_colour_codes() {
    let faults = Faults {
        bad_gateway_html: 0.3,
        ..Faults::default()
    };
    let server = emulator(EmulatorConfig {
        faults,
        seed: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 1_000, "v1");
    let stderr_path = dir.path().join("stderr.log");
    let output = cli()
        .args(upsert_args(&server.base_url(), file.to_str().unwrap()))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap()
        .wait_with_output()
        .await
        .unwrap();
    let log = std::fs::read_to_string(&stderr_path).unwrap();
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(
        log.contains("WARN") && log.contains("502"),
        "retries are logged: {log}"
    );
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a file: {log:?}"
    );

    let quiet = emulator(EmulatorConfig {
        faults,
        seed: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let output = cli()
        .env("RUST_LOG", "off")
        .args(upsert_args(&quiet.base_url(), file.to_str().unwrap()))
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("retries"),
        "{}",
        text(&output)
    );
    assert!(
        !text(&output).contains("WARN"),
        "RUST_LOG=off: {}",
        text(&output)
    );
    let help = cli().args(["upsert", "--help"]).output().await.unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("RUST_LOG"));
}

#[tokio::test]
async fn timeout_bounds_each_request() {
    // Three answers in ten take 1.5 s: with a 300 ms timeout those requests time out and are
    // sent again, and every record still ends written. (Over 30 requests, the chance that none
    // is slow is 0.7^30.)
    let server = emulator(EmulatorConfig {
        faults: Faults {
            latency: 0.3,
            latency_ms: 1_500,
            ..Faults::default()
        },
        seed: 11,
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 3_000, "v1");
    let report_path = dir.path().join("report.ndjson");
    let output = upsert(
        &server.base_url(),
        &file,
        &[
            "--timeout",
            "300ms",
            "--report",
            report_path.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let retries: u64 = stdout
        .split("retries ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no retry count in {stdout}"));
    assert!(
        retries > 0,
        "slow answers timed out and were retried: {stdout}"
    );
    let lines = ndjson(&report_path);
    assert_eq!(
        count_outcome(&lines, "created") + count_outcome(&lines, "updated"),
        3_000
    );

    for bad in ["0", "abc", "-5s", "1e30"] {
        let output = upsert(&server.base_url(), &file, &["--timeout", bad]).await;
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", text(&output));
        assert!(!text(&output).contains("panicked"), "{}", text(&output));
    }
}

#[tokio::test]
async fn plain_http_to_another_host_is_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 3, "v1");
    let output = upsert("http://projects.example", &file, &[]).await;
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("--allow-insecure-http"),
        "{}",
        text(&output)
    );
    assert!(
        !text(&output).contains("allow_insecure_http("),
        "{}",
        text(&output)
    );
}

#[tokio::test]
async fn the_demo_still_runs() {
    let output = cli()
        .args(["demo", "--count", "300", "--rate", "unlimited", "--quiet"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        text(&output).contains("the emulator holds 300 projects (expected 300)"),
        "{}",
        text(&output)
    );
}
