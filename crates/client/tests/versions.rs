//! Every API version of the contract, chosen at run time, end to end against the emulator.

use hubspot_projects::{Client, ConfigError, RateBudget, UpsertInput};
use hubspot_projects_emulator::{Emulator, EmulatorConfig};

fn inputs(version: &str) -> Vec<UpsertInput> {
    (0..150)
        .map(|i| UpsertInput::new("project_code", format!("{version}-{i:03}")))
        .collect()
}

#[tokio::test]
async fn every_version_upserts_through_its_own_path() {
    let versions = hubspot_projects::api_versions();
    assert_eq!(
        versions.len(),
        hubspot_projects::api::operations::BATCH_UPSERT.len()
    );
    for version in &versions {
        // A HubSpot that serves this version alone: any other version's path answers 404, so
        // the records land only if the client sends them to this version's path.
        let emulator = Emulator::start(EmulatorConfig {
            api_versions: Some(vec![version.to_string()]),
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let client = Client::builder()
            .access_token("versions-test")
            .base_url(emulator.base_url())
            .api_version(*version)
            .rate_budget(RateBudget::Unlimited)
            .build()
            .unwrap();
        assert_eq!(client.api_version(), *version);
        let report = client.upsert(inputs(version)).await;
        assert_eq!(
            report.summary.created, 150,
            "{version}: {:?}",
            report.summary
        );
        assert_eq!(emulator.record_count(), 150, "{version}");
    }
}

#[tokio::test]
async fn the_default_is_the_newest_generally_available_version() {
    let newest = hubspot_projects::api::operations::BATCH_UPSERT
        .iter()
        .rev()
        .find(|operation| !operation.beta)
        .unwrap();
    assert_eq!(hubspot_projects::DEFAULT_API_VERSION, newest.version);
    let client = Client::builder().access_token("t").build().unwrap();
    assert_eq!(client.api_version(), newest.version);
}

#[tokio::test]
async fn a_version_the_server_no_longer_serves_fails_and_an_unknown_one_is_refused_before_sending()
{
    // A HubSpot that has retired the oldest version (v3) and serves only the default.
    let oldest = hubspot_projects::api_versions()[0];
    assert_ne!(oldest, hubspot_projects::DEFAULT_API_VERSION);
    let emulator = Emulator::start(EmulatorConfig {
        api_versions: Some(vec![hubspot_projects::DEFAULT_API_VERSION.to_string()]),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let retired = Client::builder()
        .access_token("versions-test")
        .base_url(emulator.base_url())
        .api_version(oldest)
        .rate_budget(RateBudget::Unlimited)
        .build()
        .unwrap();
    let report = retired.upsert(inputs(oldest)).await;
    assert_eq!(report.summary.failed, 150);
    assert_eq!(emulator.record_count(), 0);

    let unknown = Client::builder()
        .access_token("versions-test")
        .base_url(emulator.base_url())
        .api_version("2019-01")
        .build()
        .unwrap_err();
    assert!(
        matches!(&unknown, ConfigError::UnknownApiVersion { given, known }
            if given == "2019-01" && *known == hubspot_projects::api_versions().join(", ")),
        "{unknown}"
    );
    assert_eq!(
        emulator.request_count(),
        2,
        "only the retired version's two batches were sent"
    );
}
