//! One batch, end to end, for both entry points ([`Client::upsert_batch`] and the streaming
//! engine): check the inputs, tag and serialize them, send, and tie HubSpot's answer back to
//! one outcome per input.
//!
//! [`Client::upsert_batch`]: crate::Client::upsert_batch

use bytes::Bytes;
use hubspot_projects_api::types;

use crate::correlate::{LeanAnswer, correlate};
use crate::error::{Error, ErrorCategory};
use crate::exchange::{self, Tally, Unanswered};
use crate::input::UpsertInput;
use crate::isolate::{Isolation, is_about_inputs};
use crate::outcome::{Outcome, RecordError};
use crate::shared::Shared;
use crate::stop::RunStop;

/// A batch ready to send: the inputs as HubSpot receives them (each tagged with a trace id)
/// and the serialized body.
pub(crate) struct Prepared {
    pub(crate) inputs: Vec<types::SimplePublicObjectBatchInputUpsert>,
    pub(crate) body: Bytes,
}

/// Tags each input that has no trace id and serializes the batch once, for every attempt.
pub(crate) fn prepare(shared: &Shared, inputs: Vec<UpsertInput>) -> Prepared {
    let inputs: Vec<_> = inputs
        .into_iter()
        .map(|mut input| {
            shared.trace_ids.tag(&mut input.object_write_trace_id);
            types::SimplePublicObjectBatchInputUpsert {
                id: input.id,
                id_property: input.id_property,
                object_write_trace_id: input.object_write_trace_id,
                properties: input.properties,
            }
        })
        .collect();
    let body = types::BatchInputSimplePublicObjectBatchInputUpsert { inputs };
    // Serializing the generated types into a Vec cannot fail: every key is a string.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Prepared {
        inputs: body.inputs,
        body: Bytes::from(bytes),
    }
}

/// What became of the inputs of one batch, in input order, and what it took.
pub(crate) struct BatchOutcomes {
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) tally: Tally,
    pub(crate) isolation_requests: u32,
}

/// Sends one planned batch of valid inputs and reports an outcome for each.
///
/// Only outcomes leave the engine, so a 2xx answer is read in place ([`LeanAnswer`]), not into
/// HubSpot's full record types.
pub(crate) async fn execute(
    shared: &Shared,
    stop: &RunStop,
    inputs: Vec<UpsertInput>,
) -> BatchOutcomes {
    let prepared = prepare(shared, inputs);
    let mut tally = Tally::default();
    let mut isolation_requests = 0;
    let result = exchange::send(shared, stop, &prepared.body, &mut tally).await;
    let outcomes = match result {
        Err(Unanswered::Failed(error))
            if shared.isolate && prepared.inputs.len() > 1 && is_about_inputs(&error) =>
        {
            tracing::info!(
                inputs = prepared.inputs.len(),
                category = %error.category(),
                "HubSpot rejected the whole batch for some inputs' data; splitting it to write the others"
            );
            let (outcomes, extra) = Isolation::new(shared, stop, &prepared.inputs)
                .run(error)
                .await;
            isolation_requests = extra.requests;
            tally += extra;
            outcomes
        }
        Ok(answer) => outcomes_of(
            &prepared.inputs,
            answer.status,
            answer.correlation_id.as_deref(),
            &answer.body,
        ),
        Err(Unanswered::Stopped(reason)) => {
            vec![Outcome::NotAttempted(reason); prepared.inputs.len()]
        }
        Err(Unanswered::Failed(error)) => {
            vec![Outcome::Failed(error.to_record_error()); prepared.inputs.len()]
        }
    };
    BatchOutcomes {
        outcomes,
        tally,
        isolation_requests,
    }
}

/// The outcomes a 2xx answer gives, read in place; an answer that cannot be read fails every
/// input with its status and correlation id.
pub(crate) fn outcomes_of(
    inputs: &[types::SimplePublicObjectBatchInputUpsert],
    status: u16,
    correlation_id: Option<&str>,
    body: &[u8],
) -> Vec<Outcome> {
    match serde_json::from_slice::<LeanAnswer<'_>>(body) {
        Ok(lean) => correlate(inputs, &lean.results, &lean.errors, status, correlation_id),
        Err(error) => {
            let error = undecodable(status, correlation_id, body, &error);
            vec![Outcome::Failed(error.to_record_error()); inputs.len()]
        }
    }
}

fn undecodable(
    status: u16,
    correlation_id: Option<&str>,
    body: &[u8],
    error: &serde_json::Error,
) -> Error {
    Error::Undecodable {
        status: Some(status),
        body_excerpt: crate::classify::excerpt(body),
        detail: error.to_string(),
        correlation_id: correlation_id.map(str::to_string),
    }
}

/// A 2xx answer decoded into the generated types, with one outcome per input: what
/// [`Client::upsert_batch`](crate::Client::upsert_batch) returns.
pub(crate) struct TypedAnswer {
    /// The inputs as sent, in order: each outcome is that of the input at its position.
    pub(crate) inputs: Vec<types::SimplePublicObjectBatchInputUpsert>,
    pub(crate) status: u16,
    pub(crate) correlation_id: Option<String>,
    pub(crate) answer: types::BatchResponseSimplePublicUpsertObjectWithErrors,
    pub(crate) outcomes: Vec<Outcome>,
    pub(crate) tally: Tally,
}

/// Sends one batch of checked inputs as one request and decodes the whole answer.
pub(crate) async fn execute_typed(
    shared: &Shared,
    inputs: Vec<UpsertInput>,
) -> Result<TypedAnswer, Error> {
    let prepared = prepare(shared, inputs);
    let stop = RunStop::new();
    let mut tally = Tally::default();
    let answer = match exchange::send(shared, &stop, &prepared.body, &mut tally).await {
        Ok(answer) => answer,
        Err(Unanswered::Failed(error)) => return Err(error),
        Err(Unanswered::Stopped(reason)) => return Err(Error::NotSent(reason)),
    };
    let decoded: types::BatchResponseSimplePublicUpsertObjectWithErrors =
        serde_json::from_slice(&answer.body).map_err(|e| {
            undecodable(
                answer.status,
                answer.correlation_id.as_deref(),
                &answer.body,
                &e,
            )
        })?;
    let outcomes = correlate(
        &prepared.inputs,
        &decoded.results,
        &decoded.errors,
        answer.status,
        answer.correlation_id.as_deref(),
    );
    Ok(TypedAnswer {
        inputs: prepared.inputs,
        status: answer.status,
        correlation_id: answer.correlation_id,
        answer: decoded,
        outcomes,
        tally,
    })
}

/// The outcome of an input refused before sending.
pub(crate) fn refused(problem: &str) -> Outcome {
    Outcome::Failed(RecordError::new(
        ErrorCategory::InvalidInput,
        format!(
            "{problem}; HubSpot would refuse this input, so it was not sent: fix it and send it again"
        ),
    ))
}
