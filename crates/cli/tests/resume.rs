//! Resuming a run from its journal, against the emulator on loopback: a journal is trusted
//! only for the input it was written for, and outputs never overwrite the input or each
//! other.

mod common;

use common::*;
use hubspot_projects_emulator::EmulatorConfig;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

const ROWS: u64 = 1_000;

/// Runs `file` against an emulator that allows 3 requests a day: some rows are written and
/// journaled (at least the first three: each request carries one or more), the rest are not
/// attempted (exit 3). Returns how many were journaled.
async fn stopped_by_the_daily_limit(file: &Path, journal: &Path, report: &Path) -> usize {
    let server = emulator(EmulatorConfig {
        daily_limit: Some(3),
        ..EmulatorConfig::default()
    })
    .await;
    let output = upsert(&server.base_url(), file, &outputs(journal, report)).await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let confirmed = journal_entries(journal);
    assert_eq!(server.record_count(), confirmed);
    assert!((3..=300).contains(&confirmed), "{confirmed} rows journaled");
    confirmed
}

/// A file of `ROWS` rows in a directory of its own, run until the daily limit stopped it.
struct Stopped {
    dir: tempfile::TempDir,
    file: PathBuf,
    journal: PathBuf,
    report: PathBuf,
    /// The rows journaled.
    confirmed: usize,
}

async fn stopped() -> Stopped {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", ROWS, "v1");
    let (journal, report) = (
        dir.path().join("run.journal"),
        dir.path().join("report.ndjson"),
    );
    let confirmed = stopped_by_the_daily_limit(&file, &journal, &report).await;
    Stopped {
        dir,
        file,
        journal,
        report,
        confirmed,
    }
}

fn outputs<'a>(journal: &'a Path, report: &'a Path) -> Vec<&'a str> {
    vec![
        "--journal",
        journal.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--concurrency",
        "1",
    ]
}

/// The CSV of `csv_text(ROWS, "v1")` with 10 new rows after the first: the first of them at
/// line 3, where the journal confirmed PRJ-00001.
fn with_rows_inserted() -> String {
    let original = csv_text(ROWS, "v1");
    let mut lines: Vec<String> = original.lines().map(String::from).collect();
    for i in 0..10 {
        lines.insert(2 + i, format!("NEW-{i:05},New {i},planned"));
    }
    lines.join("\n") + "\n"
}

fn assert_refused(output: &Output, needles: &[&str]) {
    let all = text(output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    for needle in needles {
        assert!(all.contains(needle), "{needle:?} missing from: {all}");
    }
}

#[tokio::test]
async fn a_resumed_run_refuses_an_input_with_rows_inserted() {
    let Stopped {
        dir: _dir,
        file,
        journal,
        report,
        ..
    } = stopped().await;
    let journal_before = std::fs::read(&journal).unwrap();
    let report_before = std::fs::read(&report).unwrap();

    std::fs::write(&file, with_rows_inserted()).unwrap();
    let fresh = emulator(EmulatorConfig::default()).await;
    let mut args = outputs(&journal, &report);
    args.push("--resume");
    let output = upsert(&fresh.base_url(), &file, &args).await;
    assert_refused(
        &output,
        &[
            "line 3",
            "\"PRJ-00001\"",
            "\"NEW-00000\"",
            "delete the journal",
        ],
    );
    assert_eq!(fresh.request_count(), 0, "refused before anything is sent");
    assert_eq!(std::fs::read(&journal).unwrap(), journal_before);
    assert_eq!(std::fs::read(&report).unwrap(), report_before);
}

#[tokio::test]
async fn a_resumed_run_refuses_a_replaced_file_of_the_same_name() {
    let Stopped {
        dir,
        file,
        journal,
        report,
        ..
    } = stopped().await;

    write_csv(dir.path(), "projects.csv", ROWS, "v2");
    let fresh = emulator(EmulatorConfig::default()).await;
    let mut args = outputs(&journal, &report);
    args.push("--resume");
    let output = upsert(&fresh.base_url(), &file, &args).await;
    assert_refused(
        &output,
        &["line 2", "\"PRJ-00000\"", "same id with other values"],
    );
    assert_eq!(fresh.request_count(), 0);

    // Another header, or other options, are named as such.
    std::fs::write(
        &file,
        csv_text(ROWS, "v1").replace("hs_pipeline_stage", "hs_stage"),
    )
    .unwrap();
    let output = upsert(&fresh.base_url(), &file, &args).await;
    assert_refused(&output, &["CSV header changed", "hs_stage"]);
    write_csv(dir.path(), "projects.csv", ROWS, "v1");
    args.push("--empty-as-blank");
    let output = upsert(&fresh.base_url(), &file, &args).await;
    assert_refused(&output, &["--empty-as-blank"]);
    assert_eq!(fresh.request_count(), 0);
}

async fn upsert_stdin(base_url: &str, input: String, extra: &[&str]) -> Output {
    let mut child = cli()
        .args(upsert_args(base_url, "-"))
        .args(["--format", "csv"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A run that refuses its input stops reading it: a failed write is expected then.
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = stdin.write_all(input.as_bytes()).await;
    });
    let output = child.wait_with_output().await.unwrap();
    writer.await.unwrap();
    output
}

#[tokio::test]
async fn a_resumed_run_from_standard_input_checks_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, report) = (
        dir.path().join("run.journal"),
        dir.path().join("report.ndjson"),
    );
    let limited = emulator(EmulatorConfig {
        daily_limit: Some(3),
        ..EmulatorConfig::default()
    })
    .await;
    let output = upsert_stdin(
        &limited.base_url(),
        csv_text(ROWS, "v1"),
        &outputs(&journal, &report),
    )
    .await;
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let confirmed = journal_entries(&journal);
    assert_eq!(limited.record_count(), confirmed);

    let mut args = outputs(&journal, &report);
    args.push("--resume");
    let fresh = emulator(EmulatorConfig::default()).await;
    let output = upsert_stdin(&fresh.base_url(), with_rows_inserted(), &args).await;
    assert_refused(&output, &["line 3", "\"PRJ-00001\"", "\"NEW-00000\""]);
    assert_eq!(
        fresh.record_count(),
        0,
        "nothing from the changed row on is sent"
    );

    // The input the journal was written for finishes the run, and nothing is lost.
    let fresh = emulator(EmulatorConfig::default()).await;
    let output = upsert_stdin(&fresh.base_url(), csv_text(ROWS, "v1"), &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(fresh.record_count(), ROWS as usize - confirmed);
    let lines = ndjson(&report);
    assert_eq!(line_numbers(&lines), (2..=ROWS + 1).collect::<Vec<_>>());
    assert_eq!(count_outcome(&lines, "created") as u64, ROWS);
}

#[tokio::test]
async fn journal_entries_that_are_not_confirmed_writes_are_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 250, "v1");
    let (journal, report) = (
        dir.path().join("run.journal"),
        dir.path().join("report.ndjson"),
    );
    let server = emulator(EmulatorConfig::default()).await;
    let output = upsert(&server.base_url(), &file, &outputs(&journal, &report)).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let rewritten = std::fs::read_to_string(&journal)
        .unwrap()
        .replace("\"outcome\":\"created\"", "\"outcome\":\"failed\"");
    std::fs::write(&journal, rewritten).unwrap();

    let fresh = emulator(EmulatorConfig::default()).await;
    let mut args = outputs(&journal, &report);
    args.push("--resume");
    let output = upsert(&fresh.base_url(), &file, &args).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(fresh.record_count(), 250, "every row is sent again");
}

#[tokio::test]
async fn an_old_format_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 10, "v1");
    let journal = dir.path().join("run.journal");
    std::fs::write(
        &journal,
        format!(
            "{{\"hubspot_projects_journal\":1,\"input\":{:?},\"id_property\":\"project_code\"}}\n\
             {{\"line\":2,\"id\":\"PRJ-00000\",\"outcome\":\"created\",\"record_id\":\"1\"}}\n",
            file.to_str().unwrap()
        ),
    )
    .unwrap();
    let server = emulator(EmulatorConfig::default()).await;
    let output = upsert(
        &server.base_url(),
        &file,
        &["--journal", journal.to_str().unwrap(), "--resume"],
    )
    .await;
    assert_refused(&output, &["format 1", "delete the journal"]);
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_journal_the_input_cannot_match_is_refused_without_allocating_for_it() {
    let Stopped {
        dir: _dir,
        file,
        journal,
        report,
        ..
    } = stopped().await;
    let mut text = std::fs::read_to_string(&journal).unwrap();
    text.push_str(
        "{\"line\":99999999999,\"id\":\"X\",\"outcome\":\"created\",\"row_hash\":\"0000000000000000\"}\n",
    );
    std::fs::write(&journal, text).unwrap();
    let server = emulator(EmulatorConfig::default()).await;
    let mut args = outputs(&journal, &report);
    args.push("--resume");
    let output = upsert(&server.base_url(), &file, &args).await;
    assert_refused(&output, &["99999999999", "cannot have"]);
    assert_eq!(server.request_count(), 0);

    #[cfg(unix)]
    {
        let output = upsert(
            &server.base_url(),
            &file,
            &["--journal", "/dev/full", "--resume"],
        )
        .await;
        assert_refused(&output, &["/dev/full is not a regular file"]);
    }
}

#[tokio::test]
async fn an_output_that_is_the_input_is_refused_before_anything_is_sent() {
    let server = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "same.csv", 2_000, "v1");
    let before = std::fs::read(&file).unwrap();
    let output = upsert(
        &server.base_url(),
        &file,
        &["--report", file.to_str().unwrap()],
    )
    .await;
    assert_refused(&output, &["--report", "is the input file"]);

    // Another spelling, from the file's directory.
    let output = cli()
        .current_dir(dir.path())
        .args(upsert_args(&server.base_url(), "same.csv"))
        .args(["--journal", "./same.csv"])
        .output()
        .await
        .unwrap();
    assert_refused(&output, &["--journal ./same.csv is the input file"]);

    #[cfg(unix)]
    {
        let link = dir.path().join("link.ndjson");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let output = upsert(
            &server.base_url(),
            &file,
            &["--report", link.to_str().unwrap()],
        )
        .await;
        assert_refused(&output, &["is the input file"]);
    }
    assert_eq!(std::fs::read(&file).unwrap(), before, "the input is intact");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_report_that_is_the_journal_is_refused_and_the_journal_kept() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(dir.path(), "projects.csv", ROWS, "v1");
    let limited = emulator(EmulatorConfig {
        daily_limit: Some(3),
        ..EmulatorConfig::default()
    })
    .await;
    let run = |base_url: String, outputs: &'static [&'static str]| {
        let mut command = cli();
        command
            .current_dir(dir.path())
            .args(upsert_args(&base_url, "projects.csv"))
            .args(outputs);
        command
    };
    let output = run(
        limited.base_url(),
        &["--journal", "x", "--report", "report.ndjson"],
    )
    .output()
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", text(&output));
    let journal = dir.path().join("x");
    let before = std::fs::read(&journal).unwrap();

    let server = emulator(EmulatorConfig::default()).await;
    let output = run(
        server.base_url(),
        &["--report", "./x", "--journal", "x", "--resume"],
    )
    .output()
    .await
    .unwrap();
    assert_refused(&output, &["--report ./x and --journal x are the same file"]);
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "the journal is intact"
    );
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_dry_run_of_a_resume_plans_only_what_the_journal_does_not_confirm() {
    let Stopped {
        dir: _dir,
        file,
        journal,
        report: _,
        confirmed,
    } = stopped().await;
    let confirmed = confirmed as u64;
    let output = upsert(
        "http://127.0.0.1:9",
        &file,
        &[
            "--journal",
            journal.to_str().unwrap(),
            "--resume",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let valid = ROWS - confirmed;
    let expected = format!(
        "{valid} valid records, 0 invalid, {} requests planned ({confirmed} confirmed by the journal",
        valid.div_ceil(100)
    );
    assert!(text(&output).contains(&expected), "{}", text(&output));
}

/// Runs the binary with `args` to its end and returns its peak resident memory in bytes, as
/// the kernel counted it for that process (`wait4`'s `ru_maxrss`). The kernel's count includes
/// this test process's size when it forked the child, so the emulator runs in a process of its
/// own, and this one stays small.
async fn run_measuring_memory(args: Vec<String>) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(BIN)
        .args(args)
        .env("HUBSPOT_ACCESS_TOKEN", TOKEN)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
        .spawn()
        .expect("the binary runs");
    let pid = child.id() as libc::pid_t;
    let (status, usage) = tokio::task::spawn_blocking(move || {
        let mut status = 0;
        // SAFETY: `usage` is a plain C struct the kernel fills; zeroed is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: waits for our own child, whose `Child` is never waited on otherwise.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
        drop(child);
        (status, usage)
    })
    .await
    .unwrap();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap_or_default();
        panic!("the run ended with status {status:#x}: {stderr}");
    }
    // Linux counts ru_maxrss in KiB.
    u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024
}

/// `hubspot-projects emulator` in a process of its own, killed on drop, and its base URL.
async fn emulator_process() -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = cli()
        .args(["emulator", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator runs");
    let stdout = child.stdout.take().unwrap();
    let mut first = String::new();
    tokio::io::BufReader::new(stdout)
        .read_line(&mut first)
        .await
        .unwrap();
    let base_url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the emulator said {first:?}"))
        .to_string();
    (child, base_url)
}

#[tokio::test]
async fn resuming_a_large_journal_takes_no_more_memory_than_the_first_run() {
    const LARGE: u64 = 300_000;
    const MIB: u64 = 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", LARGE, "v1");
    let journal = dir.path().join("run.journal");
    let (_emulator, base_url) = emulator_process().await;
    let mut args = upsert_args(&base_url, file.to_str().unwrap());
    args.extend(["--journal".into(), journal.to_str().unwrap().into()]);

    let first = run_measuring_memory(args.clone()).await;
    assert_eq!(journal_entries(&journal), LARGE as usize);

    args.push("--resume".into());
    let resumed = run_measuring_memory(args).await;
    assert_eq!(
        journal_entries(&journal),
        LARGE as usize,
        "every row was confirmed: nothing is sent again"
    );
    // A resume holds a line and a hash per confirmed row (16 bytes): 300,000 rows are under
    // 5 MiB, and it sends nothing. One that kept the journal's entries (about 300 bytes a
    // row) would need some 85 MiB more.
    assert!(
        resumed <= first + 8 * MIB,
        "the resume peaked at {} MiB, the first run at {} MiB",
        resumed / MIB,
        first / MIB
    );
}
