//! Typed property values and HubSpot's answers to bad input data, in both batch error modes,
//! over loopback HTTP.

mod common;

use common::*;
use hubspot_projects_emulator::{
    BatchErrors, DEFAULT_PIPELINE_STAGES, EmulatorConfig, EmulatorHandle, PropertyDef, PropertyType,
};
use serde_json::{Value, json};

const T: Option<&str> = Some("any-token");

fn config(mode: BatchErrors) -> EmulatorConfig {
    EmulatorConfig {
        batch_errors: mode,
        properties: vec![
            PropertyDef::new("billable", PropertyType::Bool),
            PropertyDef::new("kickoff_at", PropertyType::Datetime),
            PropertyDef::new("external_ref", PropertyType::String).with_unique_values(),
        ],
        ..EmulatorConfig::default()
    }
}

/// Each kind of bad value: the property, the bad value, HubSpot's code, and how the message
/// starts.
const BAD_VALUES: [(&str, &str, &str, &str); 7] = [
    (
        "hubspot_owner_id",
        "owner-7",
        "INVALID_INTEGER",
        "owner-7 was not a valid number",
    ),
    (
        "billable",
        "yes",
        "INVALID_BOOLEAN",
        "yes was not a valid boolean",
    ),
    (
        "hs_target_due_date",
        "2027-13-45",
        "INVALID_DATE",
        "2027-13-45 is not a valid date",
    ),
    (
        "kickoff_at",
        "next monday",
        "INVALID_DATETIME",
        "next monday is not a valid datetime",
    ),
    (
        "hs_pipeline_stage",
        "someday",
        "INVALID_OPTION",
        "someday was not one of the allowed options: [",
    ),
    (
        "no_such_property",
        "x",
        "PROPERTY_DOESNT_EXIST",
        "Property \"no_such_property\" does not exist",
    ),
    (
        "hs_createdate",
        "2027-01-01T00:00:00Z",
        "READ_ONLY_VALUE",
        "\"hs_createdate\" is a read only property",
    ),
];

/// The entries of HubSpot's embedded report in `message`.
fn embedded(message: &str) -> Vec<Value> {
    let json = message
        .strip_prefix("Property values were not valid: ")
        .unwrap_or_else(|| panic!("not a property report: {message}"));
    serde_json::from_str(json).expect("the embedded report is JSON")
}

async fn upsert(emulator: &EmulatorHandle, inputs: Vec<Value>) -> Answer {
    post(emulator, T, batch(inputs)).await
}

#[tokio::test]
async fn whole_each_bad_value_rejects_the_batch_with_a_400_and_writes_nothing() {
    for (property, value, code, says) in BAD_VALUES {
        let emulator = start(config(BatchErrors::Whole)).await;
        let answer = upsert(
            &emulator,
            vec![
                input("GOOD", Some("g"), json!({"hs_name": "fine"})),
                input("BAD", Some("b"), json!({ property: value })),
                input("WORSE", Some("w"), json!({"hubspot_owner_id": "also bad"})),
            ],
        )
        .await;
        assert_eq!(answer.status, 400, "{property}: {}", answer.body);
        let body = answer.json();
        assert_eq!(body["category"], "VALIDATION_ERROR");
        assert_eq!(
            body["correlationId"].as_str(),
            answer.header("x-hubspot-correlation-id")
        );
        let entries = embedded(body["message"].as_str().unwrap());
        assert_eq!(entries.len(), 1, "only the first bad input: {entries:?}");
        let entry = &entries[0];
        assert_eq!(entry["isValid"], false);
        assert_eq!(entry["error"], code);
        assert_eq!(entry["name"], property);
        assert_eq!(entry["propertyValue"], value);
        assert_eq!(entry["localizedErrorMessage"], entry["message"]);
        let message = entry["message"].as_str().unwrap();
        assert!(message.starts_with(says), "{property}: {message}");
        assert_eq!(body["errors"][0]["code"], code);
        assert_eq!(
            body["errors"][0]["context"]["propertyName"],
            json!([property])
        );
        assert_eq!(body["context"]["propertyName"], json!([property]));
        assert_eq!(emulator.record_count(), 0, "{property}: nothing written");
    }
}

#[tokio::test]
async fn whole_reports_every_bad_property_of_the_first_bad_input() {
    let emulator = start(config(BatchErrors::Whole)).await;
    let answer = upsert(
        &emulator,
        vec![input(
            "BAD",
            None,
            json!({"hs_target_due_date": "1579179660000", "hs_pipeline_stage": "nowhere", "hs_name": "ok"}),
        )],
    )
    .await;
    assert_eq!(answer.status, 400);
    let entries = embedded(answer.json()["message"].as_str().unwrap());
    let codes: Vec<&str> = entries
        .iter()
        .map(|e| e["error"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["INVALID_OPTION", "INVALID_DATE"]);
    assert_eq!(
        entries[1]["message"],
        "1579179660000 is at 13:1:0.0 UTC, not midnight!"
    );
}

#[tokio::test]
async fn per_input_each_bad_value_fails_its_input_in_a_207_and_the_others_are_written() {
    for (property, value, code, says) in BAD_VALUES {
        let emulator = start(config(BatchErrors::PerInput)).await;
        let answer = upsert(
            &emulator,
            vec![
                input("GOOD", Some("g"), json!({"hs_name": "fine"})),
                input("BAD", Some("b"), json!({ property: value })),
            ],
        )
        .await;
        assert_eq!(answer.status, 207, "{property}: {}", answer.body);
        let body = answer.json();
        assert_eq!(body["numErrors"], 1);
        assert_eq!(body["results"][0]["objectWriteTraceId"], "g");
        let error = &body["errors"][0];
        assert_eq!(error["status"], "error");
        assert_eq!(error["category"], "VALIDATION_ERROR");
        assert_eq!(error["id"], "BAD");
        assert_eq!(
            error["context"],
            json!({"id": ["BAD"], "objectWriteTraceId": ["b"], "propertyName": [property]})
        );
        let entries = embedded(error["message"].as_str().unwrap());
        assert_eq!(entries[0]["error"], code);
        assert!(entries[0]["message"].as_str().unwrap().starts_with(says));
        let records = emulator.records();
        assert_eq!(records.len(), 1, "{property}");
        assert_eq!(records[0].properties["project_code"], "GOOD");
    }
}

#[tokio::test]
async fn whole_a_unique_value_held_by_another_record_is_a_409_and_nothing_is_written() {
    let emulator = start(config(BatchErrors::Whole)).await;
    let first = upsert(
        &emulator,
        vec![input("OWNER", None, json!({"external_ref": "REF-1"}))],
    )
    .await;
    assert_eq!(first.status, 200);
    let before = emulator.records();
    let answer = upsert(
        &emulator,
        vec![
            input("NEW", None, json!({"hs_name": "would be created"})),
            input("OWNER", None, json!({"hs_name": "would be renamed"})),
            input("THIEF", Some("t"), json!({"external_ref": "REF-1"})),
        ],
    )
    .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    let body = answer.json();
    assert_eq!(body["category"], "CONFLICT");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("propertyName=external_ref") && message.contains("value=REF-1"),
        "{message}"
    );
    assert!(message.contains("already has that value"), "{message}");
    assert_eq!(body["context"]["propertyName"], json!(["external_ref"]));
    assert_eq!(body["context"]["propertyValue"], json!(["REF-1"]));
    assert_eq!(emulator.records(), before, "the batch was taken back");

    // Two inputs of one batch taking one unique value collide too.
    let answer = upsert(
        &emulator,
        vec![
            input("A", None, json!({"external_ref": "REF-2"})),
            input("B", None, json!({"external_ref": "REF-2"})),
        ],
    )
    .await;
    assert_eq!(answer.status, 409);
    assert_eq!(emulator.records(), before);
}

#[tokio::test]
async fn per_input_a_unique_value_held_by_another_record_fails_its_input_in_a_207() {
    let emulator = start(config(BatchErrors::PerInput)).await;
    upsert(
        &emulator,
        vec![input("OWNER", None, json!({"external_ref": "REF-1"}))],
    )
    .await;
    let answer = upsert(
        &emulator,
        vec![
            input("NEW", None, json!({})),
            input("THIEF", Some("t"), json!({"external_ref": "REF-1"})),
        ],
    )
    .await;
    assert_eq!(answer.status, 207);
    let error = &answer.json()["errors"][0];
    assert_eq!(error["context"]["propertyName"], json!(["external_ref"]));
    assert_eq!(
        embedded(error["message"].as_str().unwrap())[0]["error"],
        "DUPLICATE_VALUE"
    );
    assert_eq!(emulator.record_count(), 2);
}

#[tokio::test]
async fn whole_batch_rejections_that_are_not_about_data_stay_400s_in_both_modes() {
    for mode in [BatchErrors::Whole, BatchErrors::PerInput] {
        let emulator = start(config(mode)).await;
        for body in [
            json!({"inputs": [{"id": "1", "idProperty": "hs_object_id", "properties": {}}]}),
            json!({"inputs": [{"id": "x", "idProperty": "hs_name", "properties": {}}]}),
            batch(vec![
                input("DUP", None, json!({})),
                input("DUP", None, json!({})),
            ]),
        ] {
            let answer = post(&emulator, T, body).await;
            assert_eq!(answer.status, 400, "{mode}: {}", answer.body);
            assert_eq!(answer.json()["category"], "VALIDATION_ERROR");
        }
        assert_eq!(emulator.record_count(), 0);
    }
}

#[tokio::test]
async fn the_values_the_project_writes_are_accepted_by_the_default_schema() {
    let emulator = start(EmulatorConfig::default()).await;
    // The demo's, the benchmarks' and the examples' stages, due dates and owners.
    let inputs: Vec<Value> = ["planned", "in_progress", "done", "planning"]
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            input(
                &format!("P-{i}"),
                None,
                json!({"hs_pipeline_stage": stage, "hs_target_due_date": format!("2027-{:02}-28", i + 1),
                       "hubspot_owner_id": "12345", "hs_description": "Sample project 1, v1"}),
            )
        })
        .collect();
    let answer = upsert(&emulator, inputs).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for stage in ["planned", "in_progress", "done", "planning"] {
        assert!(DEFAULT_PIPELINE_STAGES.contains(&stage));
    }
    // The empty value clears any property, whatever its type.
    let answer = upsert(
        &emulator,
        vec![input(
            "P-0",
            None,
            json!({"hs_pipeline_stage": "", "hubspot_owner_id": ""}),
        )],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        !emulator.records()[0]
            .properties
            .contains_key("hs_pipeline_stage")
    );
}
