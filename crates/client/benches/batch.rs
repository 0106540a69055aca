//! Micro-benchmarks of the per-batch work on the engine's hot path: tagging and serializing
//! one request of 100 inputs, and reading one answer of 100 results into outcomes (in place, as
//! the engine does), beside the full typed decode that `upsert_batch` does.
//!
//! `cargo bench -p hubspot-projects --bench batch`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use hubspot_projects::bench_support::{read_answer, serialize_batch};
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

fn trace_id(i: usize) -> String {
    format!("6f1c2a9e-0000-4000-8000-{i:012}")
}

fn answer() -> Vec<u8> {
    let results: Vec<serde_json::Value> = (0..100usize)
        .map(|i| {
            serde_json::json!({
                "id": (1_000_000 + i).to_string(), "archived": false, "new": i % 2 == 0,
                "createdAt": "2026-11-28T10:00:00.000Z", "updatedAt": "2026-11-28T10:00:01.000Z",
                "objectWriteTraceId": trace_id(i),
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
            |batch| serialize_batch(&client, black_box(batch)),
            BatchSize::SmallInput,
        )
    });
    let bytes = answer();
    // The inputs as sent, with the trace ids the answer echoes.
    let sent: Vec<types::SimplePublicObjectBatchInputUpsert> = inputs()
        .into_iter()
        .enumerate()
        .map(|(i, input)| types::SimplePublicObjectBatchInputUpsert {
            id: input.id,
            id_property: input.id_property,
            object_write_trace_id: Some(trace_id(i)),
            properties: input.properties,
        })
        .collect();
    group.bench_function("read_answer_into_outcomes", |b| {
        b.iter(|| read_answer(black_box(&sent), black_box(&bytes)))
    });
    group.bench_function("decode_answer_typed", |b| {
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
