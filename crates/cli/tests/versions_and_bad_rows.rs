//! Every API version through the binary, and a file with bad values: the good rows land, and
//! each bad one comes back with its line, property and HubSpot's code.

mod common;

use common::*;
use hubspot_projects_emulator::{BatchErrors, EmulatorConfig};

#[tokio::test]
async fn every_api_version_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let versions = hubspot_projects::api_versions();
    assert_eq!(
        versions.len(),
        hubspot_projects::api::operations::BATCH_UPSERT.len()
    );
    for (at, version) in versions.iter().enumerate() {
        // A HubSpot that serves this version alone: any other version's path answers 404, so
        // the run succeeds only if `--api-version` chose this version's path.
        let server = emulator(EmulatorConfig {
            api_versions: Some(vec![version.to_string()]),
            ..EmulatorConfig::default()
        })
        .await;
        let path = dir.path().join(format!("{at}.csv"));
        let mut csv = String::from("project_code,hs_name\n");
        for i in 0..120 {
            csv.push_str(&format!("V{at}-{i:03},Project {i}\n"));
        }
        std::fs::write(&path, csv).unwrap();
        let output = upsert(&server.base_url(), &path, &["--api-version", version]).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{version}: {}",
            text(&output)
        );
        assert_eq!(server.record_count(), 120, "{version}");
    }

    let server = emulator(EmulatorConfig::default()).await;
    let file = write_csv(dir.path(), "projects.csv", 1, "v1");
    let output = upsert(&server.base_url(), &file, &["--api-version", "2019-01"]).await;
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("--api-version 2019-01"), "{all}");
    for version in &versions {
        assert!(all.contains(version), "{version} is not offered: {all}");
    }
    assert_eq!(
        server.request_count(),
        0,
        "an unknown version sends nothing"
    );
}

#[tokio::test]
async fn bad_values_fail_alone_with_their_line_property_and_code() {
    let server = emulator(EmulatorConfig {
        batch_errors: BatchErrors::Whole,
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("projects.csv");
    let mut csv = String::from("project_code,hs_name,hs_target_due_date,hs_pipeline_stage\n");
    for i in 0..300 {
        let (due, stage) = match i {
            41 => ("2027-13-40", "planned"),
            207 => ("2027-05-01", "someday"),
            _ => ("2027-05-01", "planned"),
        };
        csv.push_str(&format!("P-{i:03},Project {i},{due},{stage}\n"));
    }
    std::fs::write(&path, csv).unwrap();
    let report = dir.path().join("report.ndjson");
    let output = upsert(
        &server.base_url(),
        &path,
        &["--report", report.to_str().unwrap()],
    )
    .await;
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert_eq!(server.record_count(), 298);
    let lines = ndjson(&report);
    let failed: Vec<_> = lines.iter().filter(|l| l["outcome"] == "failed").collect();
    assert_eq!(failed.len(), 2, "{all}");
    // Rows 41 and 207 are lines 43 and 209 (the header is line 1).
    let by_line = |line: u64| failed.iter().find(|l| l["line"] == line).unwrap();
    assert_eq!(by_line(43)["error_property"], "hs_target_due_date");
    assert_eq!(by_line(43)["error_code"], "INVALID_DATE");
    assert_eq!(by_line(209)["error_property"], "hs_pipeline_stage");
    assert_eq!(by_line(209)["error_code"], "INVALID_OPTION");
    // The summary names them too, and counts what isolating them took.
    assert!(
        all.contains(
            "line 43 (id \"P-041\"): VALIDATION_ERROR: property hs_target_due_date (INVALID_DATE):"
        ),
        "{all}"
    );
    assert!(all.contains("requests to isolate bad rows"), "{all}");
}

/// 100 rows at a valid stage but one (line 38) at `someday`, upserted against an emulator that
/// rejects a batch holding a bad value whole; returns the report's failed lines, the summary
/// and the records written.
async fn upsert_with_one_bad_stage(extra: &[&str]) -> (Vec<serde_json::Value>, String, usize) {
    let server = emulator(EmulatorConfig {
        batch_errors: BatchErrors::Whole,
        ..EmulatorConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("projects.csv");
    let mut csv = String::from("project_code,hs_name,hs_pipeline_stage\n");
    for i in 0..100 {
        let stage = if i == 36 { "someday" } else { "planned" };
        csv.push_str(&format!("P-{i:03},Project {i},{stage}\n"));
    }
    std::fs::write(&path, csv).unwrap();
    let report = dir.path().join("report.ndjson");
    let mut args = vec!["--report", report.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = upsert(&server.base_url(), &path, &args).await;
    let all = text(&output);
    assert_eq!(output.status.code(), Some(1), "{all}");
    let failed = ndjson(&report)
        .into_iter()
        .filter(|l| l["outcome"] == "failed")
        .collect();
    (failed, all, server.record_count())
}

#[tokio::test]
async fn no_isolation_fails_every_row_of_a_rejected_batch() {
    let (failed, all, written) = upsert_with_one_bad_stage(&["--no-isolation"]).await;
    // The bad row took the rows of its request with it, every one failing with HubSpot's
    // reason for the whole batch; none of them was sent again.
    assert!(failed.len() > 1, "{all}");
    assert_eq!(failed.len() + written, 100, "{all}");
    assert!(failed.iter().any(|l| l["line"] == 38), "{all}");
    for line in &failed {
        assert_eq!(line["status"], 400, "{line}");
        assert_eq!(line["error_property"], "hs_pipeline_stage", "{line}");
        assert_eq!(line["error_code"], "INVALID_OPTION", "{line}");
    }
    assert!(!all.contains("requests to isolate bad rows"), "{all}");

    let (failed, all, written) = upsert_with_one_bad_stage(&[]).await;
    assert_eq!(failed.len(), 1, "{all}");
    assert_eq!(failed[0]["line"], 38);
    assert_eq!(failed[0]["error_code"], "INVALID_OPTION");
    assert_eq!(written, 99);
    assert!(all.contains("requests to isolate bad rows"), "{all}");
}

#[tokio::test]
async fn a_failure_names_its_correlation_id_once() {
    let (failed, all, _) = upsert_with_one_bad_stage(&["--no-isolation"]).await;
    let id = failed[0]["correlation_id"].as_str().unwrap();
    let shown: Vec<&str> = all.lines().filter(|l| l.starts_with("line ")).collect();
    assert!(!shown.is_empty(), "{all}");
    for line in shown {
        assert_eq!(line.matches("correlation id").count(), 1, "{line}");
    }
    assert!(
        all.contains(&format!("(HubSpot correlation id {id})")),
        "{all}"
    );
}
