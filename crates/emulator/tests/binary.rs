//! The binary: prints its `listening on` line quickly and serves.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn binary_prints_listening_line_within_a_second_and_serves() {
    let began = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hubspot-projects-emulator"))
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
fn binary_refuses_bad_options() {
    let output = Command::new(env!("CARGO_BIN_EXE_hubspot-projects-emulator"))
        .args(["--fault-500", "1.5"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
}
