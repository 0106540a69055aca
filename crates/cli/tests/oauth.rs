//! An OAuth app's long run through the binary: tokens that expire are refreshed, a rotated
//! refresh token is written back to its file, a revoked one stops the run for a resume, and
//! no secret (the client secret, any refresh token, any access token) appears in anything the
//! runs print at trace level or write.

mod common;

use common::*;
use hubspot_projects_emulator::{EmulatorConfig, OAuthClient};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const CLIENT_ID: &str = "cli-app-3";
const SECRET: &str = "cli-client-secret-5d2f";
const REFRESH: &str = "cli-refresh-token-8b1c";
const SPARE: &str = "cli-refresh-token-spare-77e0";

fn oauth_config(ttl: Duration, rotate: bool) -> EmulatorConfig {
    EmulatorConfig {
        oauth_clients: vec![
            OAuthClient::new(CLIENT_ID, SECRET, REFRESH),
            OAuthClient::new(CLIENT_ID, SECRET, SPARE),
        ],
        token_ttl: ttl,
        rotate_refresh_tokens: rotate,
        ..EmulatorConfig::default()
    }
}

/// An OAuth run of `file`: the client id as a flag, the secret from the environment, the
/// refresh token from a file; no private-app token anywhere. Logs at TRACE, for the secrets
/// checks.
async fn oauth_upsert(base_url: &str, file: &Path, refresh_file: &Path, extra: &[&str]) -> Output {
    cli()
        .env_remove("HUBSPOT_ACCESS_TOKEN")
        .env("HUBSPOT_CLIENT_SECRET", SECRET)
        .env("RUST_LOG", "trace")
        .args(upsert_by_code(base_url, file.to_str().unwrap()))
        .args([
            "--quiet",
            "--client-id",
            CLIENT_ID,
            "--refresh-token-file",
            refresh_file.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .await
        .unwrap()
}

/// Whether `text` holds one of the emulator's access tokens: `emu-` and 64 hex digits.
fn holds_access_token(text: &str) -> bool {
    text.match_indices("emu-").any(|(at, _)| {
        text[at + 4..]
            .chars()
            .take(64)
            .filter(char::is_ascii_hexdigit)
            .count()
            == 64
    })
}

/// What a run printed: stdout, then stderr.
fn printed(output: &Output) -> [String; 2] {
    [
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ]
}

/// The text of every file under `dir` (report, journal, input, anything else a run left),
/// except `skip`, the refresh token's own file.
fn files_under(dir: &Path, skip: &Path) -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path != skip {
                let bytes = std::fs::read(&path).unwrap();
                texts.push((
                    path.display().to_string(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
        }
    }
    texts
}

/// Fails when any of `texts` (named) holds one of `secrets` or an access token; says which
/// text, never the secret.
fn assert_no_secret(texts: &[(String, String)], secrets: &[String]) {
    assert!(secrets.iter().all(|s| !s.is_empty()));
    for (name, text) in texts {
        for (n, secret) in secrets.iter().enumerate() {
            assert!(
                !text.contains(secret.as_str()),
                "secret #{n} leaked into {name}"
            );
        }
        assert!(
            !holds_access_token(text),
            "an access token leaked into {name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_thousand_rows_with_five_second_tokens_and_rotation() {
    let server = emulator(oauth_config(Duration::from_secs(5), true)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 200_000, "v1");
    let refresh_file = dir.path().join("refresh-token");
    std::fs::write(&refresh_file, format!("{REFRESH}\n")).unwrap();
    let report = dir.path().join("report.ndjson");
    let journal = dir.path().join("run.journal");
    let output = oauth_upsert(
        &server.base_url(),
        &file,
        &refresh_file,
        &[
            // 2,000 requests at 150 a second: over 13 s, several lifetimes of a 5 s token.
            "--rate",
            "150/1s",
            "--report",
            report.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(server.record_count(), 200_000);
    let counters = server.oauth_counters();
    assert!(counters.refreshes >= 2, "{counters:?}");
    // The number of refreshes is reported.
    assert!(
        stdout.contains(&format!("access tokens refreshed {}", counters.refreshes)),
        "{stdout}"
    );
    // No request lost to auth beyond one resend per expiry.
    assert_eq!(
        server.request_count(),
        2_000 + counters.expired_token_rejections,
        "{counters:?}"
    );
    // At most one resend per expiry. Tokens are refreshed half a second (a tenth of 5 s)
    // before they expire, so a request meets an expired token only when it took longer than
    // that to arrive: none at normal load.
    assert!(
        counters.expired_token_rejections <= counters.refreshes,
        "{counters:?}"
    );
    // The last rotated refresh token was written back, owner-only, and it works.
    let kept = std::fs::read_to_string(&refresh_file)
        .unwrap()
        .trim()
        .to_string();
    assert_ne!(kept, REFRESH);
    assert_eq!(counters.refresh_tokens_rotated, counters.refreshes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&refresh_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Every refresh token the emulator handed out, the last of them the one kept.
    let issued = server.issued_refresh_tokens();
    assert_eq!(issued.len() as u64, counters.refresh_tokens_rotated);
    assert_eq!(issued.last(), Some(&kept));
    // No secret in anything the run wrote: stdout, stderr at trace level, report, journal and
    // any other file but the refresh token's own.
    let [stdout, stderr] = printed(&output);
    assert!(stderr.contains("TRACE"), "trace logging was on");
    let mut everything = vec![
        ("stdout".to_string(), stdout),
        ("stderr".to_string(), stderr),
    ];
    everything.extend(files_under(dir.path(), &refresh_file));
    assert!(
        everything
            .iter()
            .any(|(name, _)| name.ends_with("report.ndjson"))
    );
    assert!(
        everything
            .iter()
            .any(|(name, _)| name.ends_with("run.journal"))
    );
    let mut secrets = vec![SECRET.to_string(), REFRESH.to_string()];
    secrets.extend(issued);
    assert_no_secret(&everything, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_stops_the_run_and_resume_after_a_fix_finishes() {
    let server = emulator(oauth_config(Duration::from_secs(1), false)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 20_000, "v1");
    let refresh_file = dir.path().join("refresh-token");
    std::fs::write(&refresh_file, REFRESH).unwrap();
    let journal = dir.path().join("run.journal");
    let report = dir.path().join("report.ndjson");
    let args = [
        "--rate",
        "40/1s",
        "--journal",
        journal.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    let base_url = server.base_url();
    let run = oauth_upsert(&base_url, &file, &refresh_file, &args);
    let revoke = async {
        // Revoke once some records are written (a minute at most).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while journal_entries(&journal) < 2_000 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(server.revoke_refresh_token(REFRESH));
    };
    let (output, ()) = tokio::join!(run, revoke);
    let all = text(&output);
    assert_eq!(output.status.code(), Some(3), "{all}");
    let [stdout, stderr] = printed(&output);
    assert!(stderr.contains("TRACE"), "trace logging was on");
    let mut everything = vec![
        ("stdout of the stopped run".to_string(), stdout),
        ("stderr of the stopped run".to_string(), stderr),
    ];
    everything.extend(files_under(dir.path(), &refresh_file));
    assert!(all.contains("BAD_REFRESH_TOKEN"), "{all}");
    let lines = ndjson(&report);
    assert_eq!(lines.len(), 20_000);
    let not_sent = count_outcome(&lines, "not_attempted");
    assert!(
        not_sent > 0 && count_outcome(&lines, "failed") == 0,
        "{all}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l["outcome"] == "not_attempted")
            .all(|l| l["error_message"]
                .as_str()
                .unwrap()
                .contains("no access token"))
    );

    // The fix: a refresh token that works.
    std::fs::write(&refresh_file, SPARE).unwrap();
    let mut resume = args.to_vec();
    resume.push("--resume");
    let output = oauth_upsert(&server.base_url(), &file, &refresh_file, &resume).await;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(server.record_count(), 20_000);
    let lines = ndjson(&report);
    assert_eq!(count_outcome(&lines, "created"), 20_000);

    // No secret in anything either run wrote, at trace level: the client secret, the revoked
    // refresh token, the one that fixed it, and any the emulator handed out.
    let [stdout, stderr] = printed(&output);
    assert!(stderr.contains("TRACE"), "trace logging was on");
    everything.push(("stdout of the resume".to_string(), stdout));
    everything.push(("stderr of the resume".to_string(), stderr));
    everything.extend(files_under(dir.path(), &refresh_file));
    let mut secrets = vec![SECRET.to_string(), REFRESH.to_string(), SPARE.to_string()];
    secrets.extend(server.issued_refresh_tokens());
    assert_no_secret(&everything, &secrets);
}

#[tokio::test]
async fn oauth_secrets_never_come_from_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_csv(dir.path(), "projects.csv", 1, "v1");
    // No secret anywhere: a clear error naming where to put them.
    let output = cli()
        .env_remove("HUBSPOT_ACCESS_TOKEN")
        .env_remove("HUBSPOT_CLIENT_SECRET")
        .env_remove("HUBSPOT_REFRESH_TOKEN")
        .args(upsert_args("http://127.0.0.1:9", file.to_str().unwrap()))
        .args(["--client-id", CLIENT_ID])
        .output()
        .await
        .unwrap();
    let all = text(&output);
    assert_eq!(output.status.code(), Some(2), "{all}");
    assert!(all.contains("HUBSPOT_CLIENT_SECRET"), "{all}");
    // There is no flag that takes the secret itself.
    let output = cli()
        .args(upsert_args("http://127.0.0.1:9", file.to_str().unwrap()))
        .args(["--client-id", CLIENT_ID, "--client-secret", SECRET])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !text(&output).contains(SECRET),
        "the error repeats the secret"
    );
}
