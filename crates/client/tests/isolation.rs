//! One bad record never sinks its batch: against the emulator in HubSpot's whole-batch mode
//! (a 400 for an invalid value, a 409 for a unique-value conflict, nothing of the batch
//! written), every good input is written and every bad one fails alone with HubSpot's
//! property and code.

use hubspot_projects::{Client, Outcome, RateBudget, UpsertInput, UpsertReport};
use hubspot_projects_emulator::{
    BatchErrors, Emulator, EmulatorConfig, EmulatorHandle, PropertyDef, PropertyType,
};

async fn hubspot() -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        batch_errors: BatchErrors::Whole,
        properties: vec![
            PropertyDef::new("external_ref", PropertyType::String).with_unique_values(),
        ],
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn client(emulator: &EmulatorHandle) -> Client {
    Client::builder()
        .access_token("isolation-test")
        .base_url(emulator.base_url())
        .rate_budget(RateBudget::Unlimited)
        .build()
        .unwrap()
}

/// 100 good inputs: a valid due date and stage each.
fn inputs() -> Vec<UpsertInput> {
    (0..100)
        .map(|i| {
            UpsertInput::new("project_code", format!("PRJ-{i:03}"))
                .property("hs_name", format!("Project {i}"))
                .property("hs_target_due_date", format!("2027-{:02}-15", i % 12 + 1))
                .property("hs_pipeline_stage", "in_progress")
        })
        .collect()
}

fn bad_date(input: UpsertInput, i: usize) -> UpsertInput {
    input.property("hs_target_due_date", format!("2027-13-{:02}", i % 28 + 1))
}

/// The inputs that failed, by index, with their property and code.
fn failures(report: &UpsertReport) -> Vec<(usize, Option<String>, Option<String>)> {
    report
        .outcomes
        .iter()
        .filter_map(|record| match &record.outcome {
            Outcome::Failed(error) => {
                Some((record.tag, error.property.clone(), error.code.clone()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn one_bad_value_among_100_fails_alone() {
    let emulator = hubspot().await;
    let mut list = inputs();
    list[37] = bad_date(list[37].clone(), 37);
    let report = client(&emulator).upsert(list).await;
    assert_eq!(report.summary.created, 99, "{:?}", report.summary);
    let failed = failures(&report);
    assert_eq!(
        failed,
        [(
            37,
            Some("hs_target_due_date".into()),
            Some("INVALID_DATE".into())
        )]
    );
    let Outcome::Failed(error) = &report.outcomes[37].outcome else {
        unreachable!()
    };
    assert_eq!(error.status, Some(400));
    assert_eq!(error.category, "VALIDATION_ERROR");
    assert!(error.message.contains("2027-13-10"), "{}", error.message);
    assert_eq!(emulator.record_count(), 99);
    // The first request was rejected whole; isolating took at most a few more.
    assert!(
        (1..=4).contains(&report.summary.isolation_requests),
        "{:?}",
        report.summary
    );
}

#[tokio::test]
async fn two_bad_values_fail_alone() {
    let emulator = hubspot().await;
    let mut list = inputs();
    list[3] = list[3].clone().property("hs_pipeline_stage", "someday");
    list[88] = bad_date(list[88].clone(), 88);
    let report = client(&emulator).upsert(list).await;
    assert_eq!(report.summary.created, 98);
    let failed = failures(&report);
    assert_eq!(
        failed,
        [
            (
                3,
                Some("hs_pipeline_stage".into()),
                Some("INVALID_OPTION".into())
            ),
            (
                88,
                Some("hs_target_due_date".into()),
                Some("INVALID_DATE".into())
            ),
        ]
    );
    assert!(
        report.summary.isolation_requests <= 2 * 8,
        "{:?}",
        report.summary
    );
    assert_eq!(emulator.record_count(), 98);
}

/// 100 inputs whose `property` is `value(i)`, one of them (`bad_at`) not valid: the 99 others
/// are written, the bad one fails alone with `property` and `code`, within 8 isolation
/// requests.
async fn one_bad_among_100(
    property: &str,
    bad_at: usize,
    value: impl Fn(usize) -> String,
    code: &str,
) {
    let emulator = hubspot().await;
    let list: Vec<_> = (0..100)
        .map(|i| {
            UpsertInput::new("project_code", format!("PRJ-{i:03}"))
                .property("hs_name", format!("Project {i}"))
                .property(property, value(i))
        })
        .collect();
    let report = client(&emulator).upsert(list).await;
    assert_eq!(report.summary.created, 99, "{:?}", report.summary);
    assert_eq!(
        failures(&report),
        [(bad_at, Some(property.into()), Some(code.into()))]
    );
    assert_eq!(emulator.record_count(), 99);
    assert!(
        report.summary.isolation_requests <= 8,
        "{:?}",
        report.summary
    );
}

/// HubSpot's message for a bad option lists every allowed option: the rows holding a valid one
/// are no suspects. 60 rows at `planned`, 39 blank, one at `someday`.
#[tokio::test]
async fn a_bad_option_is_found_without_sending_the_valid_options_alone() {
    let stage = |i| match i {
        43 => "someday".to_string(),
        _ if i % 5 < 3 => "planned".to_string(),
        _ => String::new(),
    };
    one_bad_among_100("hs_pipeline_stage", 43, stage, "INVALID_OPTION").await;
}

/// A bad number whose text holds the good ones (`owner-7` and owners `0` to `9`): only the
/// input holding exactly the value HubSpot names is a suspect.
#[tokio::test]
async fn a_bad_number_is_found_without_sending_its_digits_alone() {
    let owner = |i: usize| match i {
        57 => "owner-7".to_string(),
        _ => (i % 10).to_string(),
    };
    one_bad_among_100("hubspot_owner_id", 57, owner, "INVALID_INTEGER").await;
}

#[tokio::test]
async fn all_bad_values_fail_and_nothing_is_written() {
    let emulator = hubspot().await;
    let list: Vec<_> = inputs()
        .into_iter()
        .enumerate()
        .take(20)
        .map(|(i, input)| bad_date(input, i))
        .collect();
    let report = client(&emulator).upsert(list).await;
    assert_eq!(report.summary.failed, 20);
    assert!(
        failures(&report)
            .iter()
            .all(
                |(_, property, code)| property.as_deref() == Some("hs_target_due_date")
                    && code.as_deref() == Some("INVALID_DATE")
            )
    );
    assert_eq!(emulator.record_count(), 0);
}

#[tokio::test]
async fn a_unique_value_conflict_fails_alone() {
    let emulator = hubspot().await;
    let client = client(&emulator);
    // A record that already holds EXT-1.
    let first = client
        .upsert(vec![
            UpsertInput::new("project_code", "OWNER").property("external_ref", "EXT-1"),
        ])
        .await;
    assert_eq!(first.summary.created, 1);
    let mut list = inputs();
    for (i, input) in list.iter_mut().enumerate() {
        *input = input.clone().property("external_ref", format!("REF-{i}"));
    }
    list[50] = list[50].clone().property("external_ref", "EXT-1");
    let report = client.upsert(list).await;
    assert_eq!(report.summary.created, 99, "{:?}", report.summary);
    let failed = failures(&report);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, 50);
    assert_eq!(failed[0].1.as_deref(), Some("external_ref"));
    let Outcome::Failed(error) = &report.outcomes[50].outcome else {
        unreachable!()
    };
    assert_eq!(
        (error.status, error.category.as_str()),
        (Some(409), "CONFLICT")
    );
    assert_eq!(emulator.record_count(), 100);
}

#[tokio::test]
async fn an_unknown_property_fails_every_input_that_sets_it() {
    let emulator = hubspot().await;
    let mut list = inputs();
    for at in [5, 6, 70] {
        list[at] = list[at].clone().property("colour", "red");
    }
    let report = client(&emulator).upsert(list).await;
    assert_eq!(report.summary.created, 97);
    let failed = failures(&report);
    assert_eq!(failed.iter().map(|f| f.0).collect::<Vec<_>>(), [5, 6, 70]);
    assert!(failed.iter().all(
        |f| f.1.as_deref() == Some("colour") && f.2.as_deref() == Some("PROPERTY_DOESNT_EXIST")
    ));
    // Condemned without a request each: the rest went out once.
    assert!(
        report.summary.isolation_requests <= 2,
        "{:?}",
        report.summary
    );
}

#[tokio::test]
async fn isolation_can_be_turned_off() {
    let emulator = hubspot().await;
    let mut list = inputs();
    list[0] = bad_date(list[0].clone(), 0);
    let client = Client::builder()
        .access_token("isolation-test")
        .base_url(emulator.base_url())
        .rate_budget(RateBudget::Unlimited)
        .isolate_rejected_inputs(false)
        .build()
        .unwrap();
    let report = client.upsert(list).await;
    assert_eq!(report.summary.failed, 100);
    assert_eq!(report.summary.requests, 1);
    assert_eq!(report.summary.isolation_requests, 0);
    assert_eq!(emulator.record_count(), 0);
}

#[tokio::test]
async fn a_rejection_that_is_not_about_inputs_is_never_resent() {
    let emulator = hubspot().await;
    // An idProperty that is not unique: the whole batch is refused, for every input alike.
    let list: Vec<_> = (0..10)
        .map(|i| UpsertInput::new("hs_name", format!("Name {i}")))
        .collect();
    let report = client(&emulator).upsert(list).await;
    assert_eq!(report.summary.failed, 10);
    assert_eq!(report.summary.requests, 1);
    assert_eq!(report.summary.isolation_requests, 0);
}
