//! The HubSpot routes: the batch upsert, and the read of one record.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use hubspot_projects_api::BatchStatus;
use hubspot_projects_api::types::{
    BatchInputSimplePublicObjectBatchInputUpsert, BatchResponseSimplePublicUpsertObject,
    BatchResponseSimplePublicUpsertObjectWithErrors,
};
use uuid::Uuid;

use crate::answers::{error_response, json_response, rejection_response, to_json};
use crate::body::{self, read_body};
use crate::state::AppState;
use crate::store::{self, Precheck};
use crate::time::now_millis;

/// The largest request body the batch upsert accepts, in bytes; larger bodies get a 413.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Bodies up to this size are read to the end before a 413.
const DRAIN_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The correlation id the gate gave the request being handled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CorrelationId(pub Uuid);

pub(crate) fn correlation_of(request: &Request) -> Uuid {
    request
        .extensions()
        .get::<CorrelationId>()
        .map_or_else(Uuid::new_v4, |c| c.0)
}

/// `POST …/batch/upsert`.
pub(crate) async fn upsert(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let correlation = correlation_of(&request);
    if let Err(response) = body::require_json(request.headers(), correlation) {
        return *response;
    }
    let started = now_millis();
    let bytes = match read_body(
        request,
        MAX_BODY_BYTES,
        DRAIN_BODY_BYTES,
        state.body_timeout,
    )
    .await
    {
        Ok(bytes) => bytes,
        Err(failure) => return body::failure_response(failure, MAX_BODY_BYTES, correlation),
    };
    let batch: BatchInputSimplePublicObjectBatchInputUpsert = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                format!(
                    "Invalid input JSON on line {}, column {}: {error}",
                    error.line(),
                    error.column()
                ),
                BTreeMap::new(),
                correlation,
            );
        }
    };
    let inputs = batch.inputs;
    // Answers run to about twice the size of the request; size the buffer once.
    let capacity = bytes.len() * 2 + 1024;
    drop(bytes);
    let mode = state.batch_errors;
    let checks: Vec<Precheck> = match store::precheck(&state.schema, &inputs, mode) {
        Ok(checks) => checks,
        Err(rejection) => return rejection_response(rejection, correlation),
    };
    let now = now_millis();
    let outcome = state.store().upsert(inputs, checks, mode, now);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(rejection) => return rejection_response(rejection, correlation),
    };
    let completed = now_millis();
    if outcome.errors.is_empty() {
        let body = BatchResponseSimplePublicUpsertObject {
            completed_at: completed,
            links: BTreeMap::new(),
            requested_at: Some(started),
            results: outcome.results,
            started_at: started,
            status: BatchStatus::Complete,
        };
        json_response(StatusCode::OK, to_json(&body, capacity))
    } else {
        let body = BatchResponseSimplePublicUpsertObjectWithErrors {
            completed_at: completed,
            num_errors: Some(i32::try_from(outcome.errors.len()).unwrap_or(i32::MAX)),
            errors: outcome.errors,
            links: BTreeMap::new(),
            requested_at: Some(started),
            results: outcome.results,
            started_at: started,
            status: BatchStatus::Complete,
        };
        json_response(StatusCode::MULTI_STATUS, to_json(&body, capacity))
    }
}

/// `GET …/projects/{id}`: HubSpot's read of one record, with `idProperty` and `properties`
/// (comma-separated, repeatable).
pub(crate) async fn read(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> Response {
    let correlation = correlation_of(&request);
    let params = match query {
        Ok(Query(params)) => params,
        Err(error) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                format!("Invalid query: {error}"),
                BTreeMap::new(),
                correlation,
            );
        }
    };
    let mut id_property: Option<&str> = None;
    let mut wanted: Vec<&str> = Vec::new();
    for (key, value) in &params {
        match key.as_str() {
            "idProperty" if !value.is_empty() => id_property = Some(value),
            "properties" => {
                wanted.extend(value.split(',').map(str::trim).filter(|s| !s.is_empty()))
            }
            _ => {}
        }
    }
    if let Some(name) = id_property
        && let Err(rejection) = store::check_read_id_property(&state.schema, name)
    {
        return rejection_response(rejection, correlation);
    }
    let body = {
        let store = state.store();
        let Some(record) = store.find(id_property, &id) else {
            drop(store);
            return error_response(
                StatusCode::NOT_FOUND,
                "OBJECT_NOT_FOUND",
                "resource not found".into(),
                BTreeMap::new(),
                correlation,
            );
        };
        let properties = if wanted.is_empty() {
            record.api_properties()
        } else {
            let mut properties: BTreeMap<String, Option<String>> = wanted
                .iter()
                .filter(|name| state.schema.knows(name))
                .map(|name| (name.to_string(), record.value(name)))
                .collect();
            record.add_system_properties(&mut properties);
            properties
        };
        serde_json::json!({
            "id": record.id_text(),
            "properties": properties,
            "createdAt": record.created_at(),
            "updatedAt": record.updated_at(),
            "archived": false,
        })
    };
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// Any other route.
pub(crate) async fn not_found(request: Request) -> Response {
    let correlation = correlation_of(&request);
    error_response(
        StatusCode::NOT_FOUND,
        "OBJECT_NOT_FOUND",
        format!("No route for {} {}", request.method(), request.uri().path()),
        BTreeMap::new(),
        correlation,
    )
}
