//! What the end-to-end tests of the `hubspot-projects` binary share: the binary, an emulator on
//! loopback, input files and reading what the binary wrote.

#![allow(dead_code)]

use hubspot_projects_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;
use tokio::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_hubspot-projects");
pub const TOKEN: &str = "pat-na1-cli-test-0f9e8d7c";

/// The binary, with a token and no log filter from the caller's environment.
pub fn cli() -> Command {
    let mut command = Command::new(BIN);
    command
        .env("HUBSPOT_ACCESS_TOKEN", TOKEN)
        .env_remove("RUST_LOG");
    command.kill_on_drop(true);
    command
}

pub async fn emulator(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("the emulator starts")
}

/// The CSV text of `rows` projects PRJ-00000…, named with `version`.
pub fn csv_text(rows: u64, version: &str) -> String {
    let mut text = String::from("project_code,hs_name,hs_pipeline_stage\n");
    for i in 0..rows {
        text.push_str(&format!("PRJ-{i:05},Project {i} {version},planned\n"));
    }
    text
}

pub fn write_csv(dir: &Path, name: &str, rows: u64, version: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, csv_text(rows, version)).unwrap();
    path
}

/// The arguments of an upsert of `file` by project_code against `base_url`, at the default
/// budget and with the summary printed.
pub fn upsert_by_code(base_url: &str, file: &str) -> Vec<String> {
    [
        "upsert",
        file,
        "--id-property",
        "project_code",
        "--base-url",
        base_url,
    ]
    .map(String::from)
    .to_vec()
}

/// [`upsert_by_code`], unpaced and quiet.
pub fn upsert_args(base_url: &str, file: &str) -> Vec<String> {
    let mut args = upsert_by_code(base_url, file);
    args.extend(["--rate", "unlimited", "--quiet"].map(String::from));
    args
}

pub async fn upsert(base_url: &str, file: &Path, extra: &[&str]) -> Output {
    cli()
        .args(upsert_args(base_url, file.to_str().unwrap()))
        .args(extra)
        .output()
        .await
        .expect("the binary runs")
}

/// Every line of an NDJSON file, parsed.
pub fn ndjson(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The report's lines by outcome.
pub fn count_outcome(lines: &[Value], outcome: &str) -> usize {
    lines.iter().filter(|l| l["outcome"] == outcome).count()
}

/// The report's line numbers, sorted.
pub fn line_numbers(lines: &[Value]) -> Vec<u64> {
    let mut numbers: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    numbers.sort_unstable();
    numbers
}

/// The number of entries (lines after the header) in a journal.
pub fn journal_entries(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0)
}

/// Waits, polling the file, until the journal holds more than `entries` entries; fails after
/// a minute or when the run ends first.
pub async fn wait_for_journal(path: &Path, entries: usize, child: &mut tokio::process::Child) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while journal_entries(path) <= entries {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the journal never grew past {entries} entries"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the journal grew past {entries} entries"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
