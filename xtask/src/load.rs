//! A load generator for the emulator's capacity: how many batch upserts of 100 inputs a second
//! the emulator binary serves, so that it never becomes the bottleneck when clients are
//! measured against it.
//!
//! Request bodies are serialized once, up front, so the generator spends its time on HTTP only.
//! The emulator's own CPU time is read around the measured window, which gives its capacity per
//! CPU-second independently of the generator sharing the machine.

use bytes::Bytes;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What one capacity run measured.
pub struct Capacity {
    /// Requests answered 200 per wall-clock second.
    pub requests_per_s: f64,
    /// Requests answered per second of the emulator's CPU time.
    pub requests_per_cpu_s: f64,
    /// Answers that were not 200.
    pub errors: u64,
    /// Connections used.
    pub connections: usize,
}

const POOL: usize = 64;

fn bodies() -> Vec<Bytes> {
    (0..POOL)
        .map(|b| {
            let inputs: Vec<serde_json::Value> = (0..100)
                .map(|i| {
                    serde_json::json!({
                        "id": format!("LOAD-{b:03}-{i:03}"), "idProperty": "project_code",
                        "objectWriteTraceId": format!("t-{b}-{i}"),
                        "properties": { "hs_name": format!("Load {b}/{i}"), "hs_pipeline_stage": "in_progress" }
                    })
                })
                .collect();
            Bytes::from(serde_json::to_vec(&serde_json::json!({ "inputs": inputs })).unwrap_or_default())
        })
        .collect()
}

/// Drives `connections` keep-alive connections against `base_url` for `warmup + window`, and
/// measures the `window`.
pub fn measure(
    base_url: &str,
    emulator_cpu: impl Fn() -> Duration,
    connections: usize,
    warmup: Duration,
    window: Duration,
) -> Result<Capacity, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let operation = hubspot_projects_api::operations::default_batch_upsert();
    let url = format!("{base_url}{}", operation.path);
    runtime.block_on(async move {
        let http = hubspot_projects_api::http::client_builder(&[])
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?
            .pool_max_idle_per_host(connections)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let bodies = Arc::new(bodies());
        let ok = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let end = Instant::now() + warmup + window;
        let mut tasks = Vec::new();
        for c in 0..connections {
            let (http, url, bodies, ok, errors) = (
                http.clone(),
                url.clone(),
                bodies.clone(),
                ok.clone(),
                errors.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut n = c;
                while Instant::now() < end {
                    let body = bodies[n % POOL].clone();
                    n += connections;
                    let sent = http
                        .post(&url)
                        .bearer_auth("load-token")
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == 200 => {
                            let _ = response.bytes().await;
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(warmup).await;
        let (ok_before, cpu_before, started) =
            (ok.load(Ordering::Relaxed), emulator_cpu(), Instant::now());
        tokio::time::sleep(window).await;
        let (ok_after, cpu_after, elapsed) = (
            ok.load(Ordering::Relaxed),
            emulator_cpu(),
            started.elapsed(),
        );
        for task in tasks {
            let _ = task.await;
        }
        let answered = (ok_after - ok_before) as f64;
        let cpu = cpu_after.saturating_sub(cpu_before).as_secs_f64();
        Ok(Capacity {
            requests_per_s: answered / elapsed.as_secs_f64(),
            requests_per_cpu_s: if cpu > 0.0 { answered / cpu } else { 0.0 },
            errors: errors.load(Ordering::Relaxed),
            connections,
        })
    })
}
