//! Sending one batch request: bounded concurrency, pacing, and retries of what is retryable.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use hubspot_projects_api::types;
use progenitor_client::Error as ApiError;
use tokio::sync::Semaphore;

use crate::classify::{
    Decision, correlation_header, decide, error_from_answer, error_from_transport, excerpt,
};
use crate::error::Error;
use crate::pace::Pacer;
use crate::retry::{Jitter, RetryPolicy, next_delay, retry_after};

/// What sending took.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Exchange {
    pub(crate) requests: u32,
    pub(crate) rate_limited: u32,
}

/// A 2xx answer, decoded by the caller's decoder.
pub(crate) struct Answered<A> {
    pub(crate) status: u16,
    pub(crate) correlation_id: Option<String>,
    pub(crate) body: A,
}

/// The batch upsert's path, generated from `openapi/projects.json` with the client.
const BATCH_UPSERT_PATH: &str = match hubspot_projects_api::operations::batch_upsert("v3") {
    Some(operation) => operation.path,
    None => panic!("openapi/projects.json has no v3 batch upsert"),
};

/// Why a batch got no 2xx answer.
pub(crate) enum Unanswered {
    /// The request failed for good.
    Failed(Error),
    /// Nothing was sent: HubSpot's daily limit was reached meanwhile (the message says so).
    NotSent(String),
}

/// Set once when HubSpot says its daily limit is reached; every batch of the run checks it
/// before each attempt.
pub(crate) type DailyStop = OnceLock<String>;

/// What every request of a client shares.
pub(crate) struct Sender {
    pub(crate) api: hubspot_projects_api::Client,
    pub(crate) pacer: Pacer,
    pub(crate) in_flight: Semaphore,
    pub(crate) retry: RetryPolicy,
    pub(crate) jitter: Jitter,
}

impl Sender {
    /// Sends `body` until it is answered with a 2xx, fails for good, or the retry policy is
    /// spent. Each attempt takes an in-flight slot, then a pacing slot, then goes out at once.
    ///
    /// A 2xx body is read whole and handed to `decode`; a body it refuses is an
    /// [`Error::Undecodable`] answer, exactly as when the generated client decodes it.
    pub(crate) async fn send<A>(
        &self,
        body: &types::BatchInputSimplePublicObjectBatchInputUpsert,
        stop: Option<&DailyStop>,
        decode: impl Fn(&[u8], u16, Option<&str>) -> Result<A, serde_json::Error>,
    ) -> (Result<Answered<A>, Unanswered>, Exchange) {
        let mut exchange = Exchange::default();
        let mut ceilings = self.retry.ceilings();
        loop {
            if let Some(message) = stop.and_then(OnceLock::get) {
                return (Err(Unanswered::NotSent(message.clone())), exchange);
            }
            let permit = match self.in_flight.acquire().await {
                Ok(permit) => permit,
                Err(_) => {
                    let error = Error::Config("the client's request slots are closed".into());
                    return (Err(Unanswered::Failed(error)), exchange);
                }
            };
            self.pacer.ready().await;
            if let Some(message) = stop.and_then(OnceLock::get) {
                return (Err(Unanswered::NotSent(message.clone())), exchange);
            }
            exchange.requests += 1;
            let answered = match self.attempt(body).await {
                Ok(response) => {
                    self.pacer.observe(response.headers());
                    let status = response.status().as_u16();
                    let correlation_id = correlation_header(response.headers());
                    match response.bytes().await {
                        Ok(bytes) => match decode(&bytes, status, correlation_id.as_deref()) {
                            Ok(body) => Ok(Answered {
                                status,
                                correlation_id,
                                body,
                            }),
                            Err(e) => Err(ApiError::InvalidResponsePayload(bytes, e)),
                        },
                        Err(e) => Err(ApiError::ResponseBodyError(e)),
                    }
                }
                Err(error) => Err(error),
            };
            let (error, asked) = match answered {
                Ok(answered) => return (Ok(answered), exchange),
                Err(error) => self.read_error(error).await,
            };
            drop(permit);
            if matches!(error, Error::RateLimited { .. }) {
                exchange.rate_limited += 1;
            }
            match decide(&error) {
                Decision::Stop => {
                    if let Error::RateLimited { message, .. } = &error {
                        let _ = stop.map(|s| s.set(message.clone()));
                    }
                    tracing::warn!(
                        category = error.category(),
                        correlation_id = error.correlation_id(),
                        "HubSpot's daily limit is reached; sending stops"
                    );
                    return (Err(Unanswered::Failed(error)), exchange);
                }
                Decision::GiveUp => return (Err(Unanswered::Failed(error)), exchange),
                Decision::Retry => {
                    let Some(ceiling) = ceilings.next() else {
                        return (Err(Unanswered::Failed(error)), exchange);
                    };
                    let delay = next_delay(self.jitter.full(ceiling), asked);
                    tracing::warn!(
                        status = error.status(),
                        category = error.category(),
                        correlation_id = error.correlation_id(),
                        attempt = exchange.requests,
                        delay_ms = delay.as_millis() as u64,
                        "request failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    /// One attempt: the generated client's request for the batch upsert (same URL, headers and
    /// hooks), with a 2xx answer left undecoded so that the caller decodes only what it needs.
    async fn attempt(
        &self,
        body: &types::BatchInputSimplePublicObjectBatchInputUpsert,
    ) -> Result<reqwest::Response, ApiError<progenitor_client::ByteStream>> {
        use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
        let url = format!("{}{BATCH_UPSERT_PATH}", self.api.baseurl());
        let mut request = self
            .api
            .client()
            .post(url)
            .header(
                reqwest::header::ACCEPT,
                reqwest::header::HeaderValue::from_static("application/json"),
            )
            .json(body)
            .build()?;
        let info = OperationInfo {
            operation_id: "batch_upsert",
        };
        self.api.pre(&mut request, &info).await?;
        let result = self.api.exec(request, &info).await;
        self.api.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {
            200..=299 => Ok(response),
            400..=599 => Err(ApiError::ErrorResponse(ResponseValue::stream(response))),
            _ => Err(ApiError::UnexpectedResponse(response)),
        }
    }

    /// Reads a failed attempt into an [`Error`] and the wait HubSpot asked for, if any.
    async fn read_error(
        &self,
        error: ApiError<progenitor_client::ByteStream>,
    ) -> (Error, Option<Duration>) {
        match error {
            ApiError::ErrorResponse(answer) => {
                self.pacer.observe(answer.headers());
                let status = answer.status().as_u16();
                let headers = answer.headers().clone();
                let asked = retry_after(&headers, std::time::SystemTime::now());
                let mut stream = answer.into_inner().into_inner();
                let mut body = BytesMut::new();
                while let Some(chunk) = stream.next().await {
                    match chunk {
                        Ok(chunk) => body.extend_from_slice(&chunk),
                        Err(e) => return (error_from_transport(&e), None),
                    }
                }
                (error_from_answer(status, &headers, &body), asked)
            }
            ApiError::CommunicationError(e)
            | ApiError::ResponseBodyError(e)
            | ApiError::InvalidUpgrade(e) => (error_from_transport(&e), None),
            ApiError::InvalidResponsePayload(body, e) => (
                Error::Undecodable {
                    status: None,
                    body_excerpt: excerpt(&body),
                    detail: e.to_string(),
                    correlation_id: None,
                },
                None,
            ),
            ApiError::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                let correlation_id = correlation_header(response.headers());
                let body = response.bytes().await.unwrap_or_default();
                (
                    Error::Undecodable {
                        status: Some(status),
                        body_excerpt: excerpt(&body),
                        detail: "an unexpected status".into(),
                        correlation_id,
                    },
                    None,
                )
            }
            ApiError::InvalidRequest(message) | ApiError::Custom(message) => (
                Error::Config(format!("the request could not be built: {message}")),
                None,
            ),
        }
    }
}
