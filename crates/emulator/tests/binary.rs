//! The binary: prints its `listening on` line quickly, serves, and takes the options the
//! library's configuration has.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Answer, UPSERT, batch, check_contract, check_oauth_contract, client, input};
use hubspot_projects_emulator::{TOKEN_PATHS, UPSERT_PATHS, api_versions};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_hubspot-projects-emulator");

/// A running binary, killed on drop.
struct Running {
    child: Child,
    base_url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `args` and reads its address from the first line.
fn spawn(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base_url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    Running { child, base_url }
}

/// An answer read whole.
async fn answer(response: reqwest::Response) -> Answer {
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// Upserts `inputs` at `path`; the answer is checked against the contract.
async fn upsert(running: &Running, path: &str, inputs: Vec<Value>) -> (u16, Value) {
    let response = client()
        .post(format!("{}{path}", running.base_url))
        .bearer_auth("t")
        .json(&batch(inputs))
        .send()
        .await
        .unwrap();
    let answer = answer(response).await;
    check_contract(&answer);
    (answer.status.as_u16(), answer.json())
}

#[test]
fn binary_prints_listening_line_within_a_second_and_serves() {
    let began = Instant::now();
    let mut child = Command::new(BIN)
        .args([
            "--port",
            "0",
            "--rate-limit",
            "100/10s",
            "--property",
            "ext:unique",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let read = stdout.read_line(&mut line);
    let elapsed = began.elapsed();
    let outcome = (|| {
        read.map_err(|e| e.to_string())?;
        let url = line
            .trim_end()
            .strip_prefix("listening on http://127.0.0.1:")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?;
        let port: u16 = url.parse().map_err(|_| format!("bad port in {line:?}"))?;
        if elapsed > Duration::from_secs(1) {
            return Err(format!("took {elapsed:?} to listen"));
        }
        let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream
            .write_all(b"GET /_emulator/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| e.to_string())?;
        if !answer.starts_with("HTTP/1.1 200") || !answer.contains(r#"{"status":"ok"}"#) {
            return Err(format!("unexpected health answer {answer:?}"));
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    outcome.unwrap();
}

#[test]
fn binary_refuses_bad_options_without_repeating_secrets() {
    for (args, says) in [
        (vec!["--fault-500", "1.5"], "probability"),
        (
            vec!["--fault-500", "0.6", "--fault-503", "0.6"],
            "more than 1",
        ),
        (vec!["--latency", "2s..1s"], "backwards"),
        (vec!["--batch-errors", "some"], "per-input"),
        (vec!["--api-version", "v4"], "unknown API version"),
        (vec!["--property", "due:when"], "unknown type"),
        (vec!["--token-ttl", "500ms"], "shorter than one second"),
        (
            vec!["--oauth-client", "app:s3cr3t-value"],
            "CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN",
        ),
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("s3cr3t-value"), "{stderr}");
    }
}

#[tokio::test]
async fn binary_latency_fixed_and_ranged() {
    for (latency, min) in [("300ms", 300), ("200ms..400ms", 200)] {
        let running = spawn(&["--latency", latency, "--seed", "5"]);
        let began = Instant::now();
        let (status, _) = upsert(&running, UPSERT, vec![input("A", None, json!({}))]).await;
        assert_eq!(status, 200);
        let took = began.elapsed();
        assert!(
            took >= Duration::from_millis(min) && took < Duration::from_secs(5),
            "{latency}: {took:?}"
        );
    }
}

#[tokio::test]
async fn binary_batch_errors_whole_by_default_or_per_input() {
    let bad = || {
        vec![
            input("GOOD", None, json!({})),
            input("BAD", None, json!({"due": "2027-02-30"})),
        ]
    };
    let whole = spawn(&["--property", "due:date"]);
    let (status, body) = upsert(&whole, UPSERT, bad()).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("INVALID_DATE"),
        "{body}"
    );
    let per_input = spawn(&["--property", "due:date", "--batch-errors", "per-input"]);
    let (status, body) = upsert(&per_input, UPSERT, bad()).await;
    assert_eq!(status, 207);
    assert_eq!(body["numErrors"], 1);
}

#[tokio::test]
async fn binary_serves_only_the_versions_asked_for() {
    let served = api_versions()[api_versions().len() - 1];
    let running = spawn(&["--api-version", served]);
    for path in &UPSERT_PATHS {
        let (status, _) = upsert(&running, path.path, vec![input("A", None, json!({}))]).await;
        let expected = if path.version == served { 200 } else { 404 };
        assert_eq!(status, expected, "{}", path.path);
    }
}

#[tokio::test]
async fn binary_oauth_clients_rotation_and_expiry() {
    let running = spawn(&[
        "--oauth-client",
        "app:secret:refresh-0",
        "--token-ttl",
        "1s",
        "--rotate-refresh-tokens",
        "--token",
        "private-token",
    ]);
    let refresh = |refresh_token: String| {
        let url = format!("{}{}", running.base_url, TOKEN_PATHS[1]);
        async move {
            let response = client()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                // Refresh tokens here need no escaping.
                .body(format!(
                    "grant_type=refresh_token&client_id=app&client_secret=secret&refresh_token={refresh_token}"
                ))
                .send()
                .await
                .unwrap();
            let answer = answer(response).await;
            check_oauth_contract(&answer);
            (answer.status.as_u16(), answer.json())
        }
    };
    let (status, first) = refresh("refresh-0".into()).await;
    assert_eq!(status, 200, "{first}");
    let issued = Instant::now();
    assert_eq!(first["expires_in"], 1);
    let rotated = first["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rotated, "refresh-0");
    assert_eq!(refresh("refresh-0".into()).await.0, 400);
    assert_eq!(refresh(rotated).await.0, 200);

    let access = first["access_token"].as_str().unwrap().to_string();
    let call = || {
        client()
            .post(format!("{}{UPSERT}", running.base_url))
            .bearer_auth(&access)
            .json(&batch(vec![input("A", None, json!({}))]))
            .send()
    };
    let written = answer(call().await.unwrap()).await;
    check_contract(&written);
    assert_eq!(written.status, 200);
    // The token's lifetime is what is tested: wait it out.
    tokio::time::sleep(
        (issued + Duration::from_millis(1100)).saturating_duration_since(Instant::now()),
    )
    .await;
    let expired = answer(call().await.unwrap()).await;
    check_contract(&expired);
    assert_eq!(expired.status, 401);
    let body = expired.json();
    assert_eq!(body["category"], "EXPIRED_AUTHENTICATION");
    let counters: Value = client()
        .get(format!("{}/_emulator/oauth", running.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(counters["refreshes"], 2);
    assert_eq!(counters["expiredTokenRejections"], 1);
}
