//! Every API version's path, over loopback HTTP, and versions left unserved.

mod common;

use common::*;
use hubspot_projects_emulator::{EmulatorConfig, UPSERT_PATHS, api_versions};
use serde_json::json;

const T: Option<&str> = Some("any-token");

#[tokio::test]
async fn every_path_upserts_and_reads_back_the_same_records() {
    let emulator = start(EmulatorConfig::default()).await;
    let mut ids = Vec::new();
    for (i, path) in UPSERT_PATHS.iter().enumerate() {
        let answer = post_raw(
            &emulator,
            path.path,
            T,
            batch(vec![input(
                "SAME",
                None,
                json!({"hs_name": format!("v{i}")}),
            )])
            .to_string(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}: {}", path.path, answer.body);
        ids.push(
            answer.json()["results"][0]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        let read = get(
            &emulator,
            &path
                .read_path()
                .replace("{id}", "SAME?idProperty=project_code"),
            T,
        )
        .await;
        assert_eq!(read.status, 200, "{}", path.read_path());
        assert_eq!(read.json()["properties"]["hs_name"], format!("v{i}"));
    }
    assert!(ids.iter().all(|id| *id == ids[0]));
    assert_eq!(emulator.record_count(), 1);
}

#[tokio::test]
async fn a_version_not_served_answers_like_an_unknown_route() {
    let served = api_versions()[api_versions().len() - 1];
    let emulator = start(EmulatorConfig {
        api_versions: Some(vec![served.to_string()]),
        ..EmulatorConfig::default()
    })
    .await;
    let body = || batch(vec![input("A", None, json!({}))]).to_string();
    let unknown = post_raw(
        &emulator,
        &format!("{}/elsewhere", UPSERT_PATHS[0].path),
        T,
        body(),
    )
    .await;
    assert_eq!(unknown.status, 404);
    for path in &UPSERT_PATHS {
        let answer = post_raw(&emulator, path.path, T, body()).await;
        if path.version == served {
            assert_eq!(answer.status, 200, "{}", path.path);
        } else {
            assert_eq!(answer.status, unknown.status, "{}", path.path);
            assert_eq!(answer.json()["category"], unknown.json()["category"]);
            assert!(
                answer.json()["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("No route")
            );
            let read = get(&emulator, &path.read_path().replace("{id}", "1"), T).await;
            assert_eq!(read.status, 404, "{}", path.read_path());
            assert!(
                read.json()["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("No route")
            );
        }
    }
    assert_eq!(emulator.record_count(), 1);
}
