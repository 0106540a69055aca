//! Micro-benchmarks of the per-batch work on the client's hot path: building and serializing
//! one request of 100 inputs, and decoding one answer of 100 results.
//!
//! `cargo bench -p hubspot-projects --bench batch`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hubspot_projects::{Client, UpsertInput, types};
use std::hint::black_box;

fn inputs() -> Vec<UpsertInput> {
    (0..100)
        .map(|i| {
            UpsertInput::new("project_code", format!("PRJ-{i:07}"))
                .property("hs_name", format!("Project {i}"))
                .property("hs_pipeline_stage", "in_progress")
                .property("hs_description", format!("Benchmark project number {i}"))
        })
        .collect()
}

fn answer() -> Vec<u8> {
    let results: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            serde_json::json!({
                "id": (1_000_000 + i).to_string(), "archived": false, "new": i % 2 == 0,
                "createdAt": "2026-11-28T10:00:00.000Z", "updatedAt": "2026-11-28T10:00:01.000Z",
                "objectWriteTraceId": format!("6f1c2a9e-0000-4000-8000-{i:012}"),
                "properties": { "project_code": format!("PRJ-{i:07}"), "hs_name": format!("Project {i}"),
                                "hs_pipeline_stage": "in_progress", "hs_lastmodifieddate": null }
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "status": "COMPLETE", "startedAt": "2026-11-28T10:00:00.000Z",
        "completedAt": "2026-11-28T10:00:01.000Z", "results": results
    }))
    .expect("serializes")
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_of_100");
    group.throughput(Throughput::Elements(100));
    let client = Client::builder()
        .access_token("bench-token")
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("a valid configuration");
    group.bench_function("build_and_serialize_request", |b| {
        b.iter_batched(
            inputs,
            |batch| serde_json::to_vec(&client.request_body(black_box(batch))).expect("serializes"),
            BatchSize::SmallInput,
        )
    });
    let bytes = answer();
    group.bench_function("decode_answer", |b| {
        b.iter(|| {
            serde_json::from_slice::<types::BatchResponseSimplePublicUpsertObjectWithErrors>(
                black_box(&bytes),
            )
            .expect("decodes")
        })
    });
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
