//! Each request runs in a `hubspot.request` span that records method, path, status and
//! HubSpot's correlation id.

mod common;

use httpmock::prelude::*;
use hubspot_projects_api::{Client, operations, types};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Clone, Default)]
struct Fields(Arc<Mutex<Vec<(String, String)>>>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .lock()
            .unwrap()
            .push((field.name().to_string(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .lock()
            .unwrap()
            .push((field.name().to_string(), value.to_string()));
    }
}

struct Capture(Fields);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        if attrs.metadata().name() == "hubspot.request" {
            attrs.record(&mut self.0.clone());
        }
    }
    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        values.record(&mut self.0.clone());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_span_records_method_path_status_and_correlation_id() {
    let fields = Fields::default();
    let subscriber = tracing_subscriber::registry().with(Capture(fields.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let operation = operations::default_batch_upsert();
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path(operation.path);
        then.status(429)
            .header(
                "X-HubSpot-Correlation-Id",
                "c0ffee00-0000-4000-8000-000000000001",
            )
            .body("{}");
    });
    let client = Client::new(&server.base_url());
    let body = types::BatchInputSimplePublicObjectBatchInputUpsert { inputs: vec![] };
    assert!(
        common::batch_upsert(&client, operation, &body)
            .await
            .is_err()
    );

    let recorded = fields.0.lock().unwrap().clone();
    let get = |name: &str| {
        recorded
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("operation").as_deref(), Some(operation.method_name));
    assert_eq!(get("method").as_deref(), Some("POST"));
    assert_eq!(get("path").as_deref(), Some(operation.path));
    assert_eq!(get("status").as_deref(), Some("429"));
    assert_eq!(
        get("correlation_id").as_deref(),
        Some("c0ffee00-0000-4000-8000-000000000001")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_oauth_client_records_its_span_without_the_secrets() {
    let fields = Fields::default();
    let subscriber = tracing_subscriber::registry().with(Capture(fields.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let operation = operations::default_oauth_token();
    let server = MockServer::start_async().await;
    server.mock(|when, then| {
        when.method(POST).path(operation.path);
        then.status(400).body("{}");
    });
    let client = hubspot_projects_api::oauth::Client::new(&server.base_url());
    let body = hubspot_projects_api::oauth::types::TokenRequest {
        client_secret: Some("secret-s3cr3t".into()),
        refresh_token: Some("refresh-r3fr3sh".into()),
        ..Default::default()
    };
    assert!(common::token(&client, operation, &body).await.is_err());

    let recorded = fields.0.lock().unwrap().clone();
    assert!(
        recorded.contains(&("path".to_string(), operation.path.to_string())),
        "{recorded:?}"
    );
    assert!(
        recorded.contains(&("status".to_string(), "400".to_string())),
        "{recorded:?}"
    );
    let all = format!("{recorded:?}");
    assert!(!all.contains("s3cr3t") && !all.contains("r3fr3sh"), "{all}");
}
