//! What a careless or stalled client meets, over loopback HTTP: a body timeout, the 415 for a
//! body that is not JSON, and configurations refused at start.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use hubspot_projects_emulator::{Emulator, EmulatorConfig, Faults};
use serde_json::json;

#[tokio::test]
async fn a_stalled_body_gets_a_408_and_the_connection_is_closed() {
    let timeout = Duration::from_millis(300);
    let emulator = start(EmulatorConfig {
        body_timeout: timeout,
        ..EmulatorConfig::default()
    })
    .await;
    let addr = emulator.local_addr();
    let began = Instant::now();
    let raw = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        // Bounds the test if the server never answers.
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "POST {UPSERT} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer t\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"inputs\": ["
        )
        .unwrap();
        // Then nothing more: the rest of the body never comes.
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        (read.map_err(|e| e.kind()), answer)
    })
    .await
    .unwrap();
    let took = began.elapsed();
    let (read, answer) = raw;
    assert!(read.is_ok(), "the server closes the connection: {read:?}");
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(took >= timeout && took < Duration::from_secs(8), "{took:?}");
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        let (name, value) = line.split_once(':').unwrap();
        headers.insert(
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
            value.trim().parse().unwrap(),
        );
    }
    let answer = Answer {
        status: reqwest::StatusCode::REQUEST_TIMEOUT,
        headers,
        body: body.to_string(),
    };
    check_contract(&answer);
    assert_eq!(emulator.record_count(), 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_a_415() {
    let emulator = start(EmulatorConfig::default()).await;
    let body = batch(vec![input("A", None, json!({}))]).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = client()
            .post(format!("{}{UPSERT}", emulator.base_url()))
            .bearer_auth("t")
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        let answer = Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        };
        check_contract(&answer);
        assert_eq!(answer.status, 415, "{content_type:?}");
        let body = answer.json();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{body}"
        );
    }
    assert_eq!(emulator.record_count(), 0);
    // JSON with a charset, as HubSpot's clients send it, is fine.
    let response = client()
        .post(format!("{}{UPSERT}", emulator.base_url()))
        .bearer_auth("t")
        .header("content-type", "application/json; charset=UTF-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn start_refuses_fault_probabilities_that_sum_over_one() {
    let over = EmulatorConfig {
        faults: Faults {
            server_error: 0.5,
            rate_limited: 0.3,
            drop_connection: 0.3,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    };
    let error = Emulator::start(over).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("more than 1"), "{error}");
    let exactly_one = EmulatorConfig {
        faults: Faults {
            server_error: 0.5,
            rate_limited: 0.5,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start(exactly_one).await.unwrap();
    emulator.shutdown().await;
}
