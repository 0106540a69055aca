//! Ctrl-C (SIGINT) sent to the real binary mid-run, against an emulator slowed by a latency
//! fault: the first stops cleanly and a resume finishes the file, the second stops at once.

#![cfg(unix)]

mod common;

use common::*;
use hubspot_projects_emulator::{EmulatorConfig, EmulatorHandle, Faults};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

const ROWS: u64 = 3_000;

fn interrupt(child: &tokio::process::Child) {
    let pid = child.id().expect("the run is going on") as libc::pid_t;
    // SAFETY: kill(2) with a live child's pid and a valid signal number.
    let sent = unsafe { libc::kill(pid, libc::SIGINT) };
    assert_eq!(sent, 0, "SIGINT was sent");
}

fn slow(latency_ms: u64) -> EmulatorConfig {
    EmulatorConfig {
        faults: Faults {
            latency: 1.0,
            latency_ms,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    }
}

/// A run of `ROWS` rows with a journal and a report, two requests in flight.
struct Run {
    _dir: tempfile::TempDir,
    file: PathBuf,
    journal: PathBuf,
    report: PathBuf,
}

impl Run {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            file: write_csv(dir.path(), "projects.csv", ROWS, "v1"),
            journal: dir.path().join("run.journal"),
            report: dir.path().join("report.ndjson"),
            _dir: dir,
        }
    }

    /// The arguments of the run against `server`.
    fn args(&self, server: &EmulatorHandle) -> Vec<String> {
        let mut args = upsert_args(&server.base_url(), self.file.to_str().unwrap());
        args.extend(
            [
                "--journal",
                self.journal.to_str().unwrap(),
                "--report",
                self.report.to_str().unwrap(),
                "--concurrency",
                "2",
            ]
            .map(String::from),
        );
        args
    }

    /// The run against `server` started, its output piped.
    fn spawn(&self, server: &EmulatorHandle) -> tokio::process::Child {
        cli()
            .args(self.args(server))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[tokio::test]
async fn ctrl_c_stops_cleanly_and_resume_finishes_the_file_with_nothing_lost() {
    let server = emulator(slow(200)).await;
    let run = Run::new();
    let (journal, report) = (&run.journal, &run.report);
    let mut child = run.spawn(&server);
    wait_for_journal(journal, 200, &mut child).await;
    interrupt(&child);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the run ends once what is in flight is done")
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("(interrupted)"), "{stdout}");
    assert!(text(&output).contains("--resume"), "{}", text(&output));

    // Every row is in the report: what HubSpot confirmed, and the rest not attempted. Nothing
    // was written that the journal does not hold.
    let lines = ndjson(report);
    assert_eq!(line_numbers(&lines), (2..=ROWS + 1).collect::<Vec<_>>());
    let created = count_outcome(&lines, "created");
    assert_eq!(
        created + count_outcome(&lines, "not_attempted"),
        ROWS as usize
    );
    assert!(created < ROWS as usize, "stopped before the end");
    assert_eq!(server.record_count(), created);
    assert_eq!(journal_entries(journal), created);
    assert!(
        stdout.contains(&format!("projects.csv: {ROWS} records")),
        "{stdout}"
    );

    let output = cli()
        .args(run.args(&server))
        .arg("--resume")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let records = server.records();
    let codes: BTreeSet<&str> = records
        .iter()
        .map(|r| r.properties["project_code"].as_str())
        .collect();
    assert_eq!((records.len(), codes.len()), (ROWS as usize, ROWS as usize));
    let lines = ndjson(report);
    assert_eq!(line_numbers(&lines), (2..=ROWS + 1).collect::<Vec<_>>());
    assert_eq!(count_outcome(&lines, "created"), ROWS as usize);
}

#[tokio::test]
async fn a_second_ctrl_c_stops_at_once_and_keeps_what_was_confirmed() {
    // Answers take 3 s: the second Ctrl-C comes while requests are in flight.
    let server = emulator(slow(3_000)).await;
    let run = Run::new();
    let (journal, report) = (&run.journal, &run.report);
    let mut child = run.spawn(&server);
    wait_for_journal(journal, 0, &mut child).await;
    interrupt(&child);
    // The first Ctrl-C is acknowledged before the second is sent.
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = tokio::time::timeout(Duration::from_secs(30), stderr.next_line())
            .await
            .expect("the first Ctrl-C is acknowledged")
            .unwrap()
            .unwrap_or_else(|| panic!("standard error ended: {seen:?}"));
        let acknowledged = line.starts_with("interrupted:");
        seen.push(line);
        if acknowledged {
            break;
        }
    }
    interrupt(&child);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the second Ctrl-C ends the run")
        .unwrap();
    let mut rest = Vec::new();
    while let Ok(Some(line)) = stderr.next_line().await {
        rest.push(line);
    }
    assert_eq!(output.status.code(), Some(3), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("stopped at once")),
        "{rest:?}"
    );

    // What was written before is whole: every line parses, and the report holds exactly the
    // rows the journal confirmed.
    let confirmed = journal_entries(journal);
    let lines = ndjson(report);
    assert_eq!(count_outcome(&lines, "created"), confirmed);
    assert!(confirmed > 0 && confirmed < ROWS as usize);

    // The resume sends exactly what the journal does not confirm, and the report covers all.
    let fresh = emulator(EmulatorConfig::default()).await;
    let output = cli()
        .args(run.args(&fresh))
        .arg("--resume")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(fresh.record_count(), ROWS as usize - confirmed);
    let lines = ndjson(report);
    assert_eq!(line_numbers(&lines), (2..=ROWS + 1).collect::<Vec<_>>());
    assert_eq!(count_outcome(&lines, "created"), ROWS as usize);
}
