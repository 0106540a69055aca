//! One request body, sent until HubSpot answers it with a 2xx, it fails for good, or the run
//! stops: a slot in flight, a pacing slot, the attempt, and the retry decision.

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::classify::{
    Decision, correlation_header, decide, error_from_answer, error_from_transport, excerpt,
    is_unanswered,
};
use crate::error::Error;
use crate::outcome::NotAttempted;
use crate::retry::{next_delay, retry_after};
use crate::shared::Shared;
use crate::stop::RunStop;

/// A 2xx answer, not yet decoded.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) correlation_id: Option<String>,
    pub(crate) body: Bytes,
}

/// Why a body got no 2xx answer.
pub(crate) enum Unanswered {
    /// The request failed for good.
    Failed(Error),
    /// The run stopped before the request could be answered; nothing of it was written.
    Stopped(NotAttempted),
}

/// What sending took.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    /// HTTP requests sent, retries included.
    pub(crate) requests: u32,
    /// Requests that were retries.
    pub(crate) retries: u32,
    /// 429 answers seen.
    pub(crate) rate_limited: u32,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        self.requests += other.requests;
        self.retries += other.retries;
        self.rate_limited += other.rate_limited;
    }
}

const OPERATION: OperationInfo = OperationInfo {
    operation_id: "batch_upsert",
};

/// Sends `body` (a serialized batch) until it is answered with a 2xx, fails for good, or the
/// run stops. Each attempt takes a slot in flight, then a pacing slot, then goes out at once.
///
/// Stops the run (for every batch) on HubSpot's daily limit, a refused token (401, 403), and an
/// endpoint that has answered nothing for longer than the client's `unreachable_after`.
pub(crate) async fn send(
    shared: &Shared,
    stop: &RunStop,
    body: &Bytes,
    tally: &mut Tally,
) -> Result<Answer, Unanswered> {
    let mut ceilings = shared.retry.ceilings();
    let mut attempts = 0u32;
    loop {
        if let Some(message) = shared.pacer.daily_stop() {
            stop.set(NotAttempted::DailyLimitReached { message });
        }
        if let Some(reason) = stop.reason() {
            return Err(Unanswered::Stopped(reason));
        }
        let slot = tokio::select! {
            slot = shared.in_flight.acquire() => slot,
            () = stop.stopped() => continue,
        };
        tokio::select! {
            () = shared.pacer.ready() => {}
            () = stop.stopped() => continue,
        }
        if let Some(reason) = stop.reason() {
            return Err(Unanswered::Stopped(reason));
        }
        tally.requests += 1;
        if attempts > 0 {
            tally.retries += 1;
        }
        attempts += 1;
        let sent = tokio::time::Instant::now();
        let outcome = attempt(shared, body).await;
        drop(slot);
        let answered = match &outcome {
            Ok(_) => true,
            Err((error, _)) => !is_unanswered(error),
        };
        if answered {
            shared
                .in_flight
                .observe(sent.elapsed(), shared.pacer.current());
        }
        let (error, asked) = match outcome {
            Ok(answer) => {
                stop.answered();
                return Ok(answer);
            }
            Err(failure) => failure,
        };
        if !is_unanswered(&error) {
            stop.answered();
        }
        if matches!(error, Error::RateLimited { .. }) {
            tally.rate_limited += 1;
        }
        match decide(&error) {
            Decision::GiveUp => return Err(Unanswered::Failed(error)),
            Decision::Stop => return Err(stop_for(shared, stop, error)),
            Decision::Retry => {}
        }
        if is_unanswered(&error) && stop.silent_for() >= shared.unreachable_after {
            stop.set(NotAttempted::EndpointUnreachable {
                message: error.to_string(),
                after: stop.silent_for(),
            });
            return Err(Unanswered::Failed(error));
        }
        let Some(ceiling) = ceilings.next() else {
            return Err(Unanswered::Failed(error));
        };
        let delay = next_delay(
            shared.jitter.full(ceiling),
            asked,
            shared.retry.max_retry_after(),
        );
        tracing::warn!(
            status = error.status(),
            category = %error.category(),
            correlation_id = error.correlation_id(),
            attempt = attempts,
            delay_ms = delay.as_millis() as u64,
            "request failed; retrying"
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = stop.stopped() => {}
        }
    }
}

/// Stops the run for a failure that every further request would meet too.
fn stop_for(shared: &Shared, stop: &RunStop, error: Error) -> Unanswered {
    match &error {
        Error::RateLimited {
            daily: true,
            message,
            ..
        } => {
            shared.pacer.stop_daily(message);
            let reason = NotAttempted::DailyLimitReached {
                message: message.clone(),
            };
            stop.set(reason.clone());
            // Nothing of this batch was written: it is not attempted, like the rest.
            Unanswered::Stopped(reason)
        }
        Error::MissingScopes {
            scopes, message, ..
        } => {
            let message = if scopes.is_empty() {
                message.clone()
            } else {
                format!("{message}; missing scopes: {}", scopes.join(", "))
            };
            stop.set(NotAttempted::Forbidden { message });
            Unanswered::Failed(error)
        }
        Error::Unauthorized { message, .. } => {
            stop.set(NotAttempted::Unauthorized {
                message: message.clone(),
            });
            Unanswered::Failed(error)
        }
        _ => Unanswered::Failed(error),
    }
}

/// One attempt: the same request the generated client sends for the batch upsert (URL,
/// headers, body, hooks), with the answer's body left undecoded. Returns the failure and the
/// wait HubSpot asked for, if any.
async fn attempt(
    shared: &Shared,
    body: &Bytes,
) -> Result<Answer, (Error, Option<std::time::Duration>)> {
    let transport = |e| (error_from_transport(e), None);
    let mut request = ClientInfo::client(&shared.api)
        .post(&shared.upsert_url)
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .body(body.clone())
        .build()
        .map_err(transport)?;
    if let Some(auth) = &shared.auth {
        request.headers_mut().insert(AUTHORIZATION, auth.clone());
    }
    // The generated client's hooks: the pre-hook cannot fail, the exec hook wraps the request
    // in its tracing span.
    let _ = shared.api.pre::<()>(&mut request, &OPERATION).await;
    let response = shared
        .api
        .exec(request, &OPERATION)
        .await
        .map_err(transport)?;
    let status = response.status().as_u16();
    shared.pacer.observe(response.headers());
    let headers = response.headers().clone();
    let correlation_id = correlation_header(&headers);
    let body = response.bytes().await.map_err(transport)?;
    match status {
        200..=299 => Ok(Answer {
            status,
            correlation_id,
            body,
        }),
        400..=599 => {
            let asked = retry_after(&headers, std::time::SystemTime::now());
            Err((error_from_answer(status, &headers, &body), asked))
        }
        _ => Err((
            Error::Undecodable {
                status: Some(status),
                body_excerpt: excerpt(&body),
                detail: "an unexpected status".into(),
                correlation_id,
            },
            None,
        )),
    }
}
