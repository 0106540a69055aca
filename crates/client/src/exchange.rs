//! One request body, sent until HubSpot answers it with a 2xx, it fails for good, or the run
//! stops: a slot in flight, a pacing slot, the attempt, and the retry decision.

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::auth::{AccessToken, AuthError};
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

/// Sends `body` (a serialized batch) until it is answered with a 2xx, fails for good, or the
/// run stops. Each attempt takes a slot in flight, then a pacing slot, then goes out at once.
///
/// Stops the run (for every batch) on HubSpot's daily limit, a refused token (401, 403), and an
/// endpoint (the API's, or the OAuth token endpoint's) that has answered nothing for longer
/// than the client's `unreachable_after`.
pub(crate) async fn send(
    shared: &Shared,
    stop: &RunStop,
    body: &Bytes,
    tally: &mut Tally,
) -> Result<Answer, Unanswered> {
    let mut ceilings = shared.retry.ceilings();
    let mut attempts = 0u32;
    // An expired token's request is resent once with a fresh token, not retried.
    let mut resent_for_expiry = false;
    loop {
        if let Some(reason) = stop.reason() {
            return Err(Unanswered::Stopped(reason));
        }
        let slot = tokio::select! {
            slot = shared.in_flight.acquire() => slot,
            () = stop.stopped() => continue,
        };
        tokio::select! {
            paced = shared.pacer.ready() => if let Err(reason) = paced {
                // HubSpot's daily stop, shared with other processes; or a budget store that
                // cannot be reached, which is never a licence to send unpaced.
                stop.set(reason);
                continue;
            },
            () = stop.stopped() => continue,
        }
        if let Some(reason) = stop.reason() {
            return Err(Unanswered::Stopped(reason));
        }
        let token = match token(shared).await {
            Ok(token) => token,
            Err(AuthError::Refused { message }) => {
                return Err(Unanswered::Stopped(refused(stop, message)));
            }
            Err(failure @ (AuthError::Unavailable { .. } | AuthError::Unreachable { .. })) => {
                drop(slot);
                let unanswered = matches!(failure, AuthError::Unreachable { .. });
                let error = Error::TokenUnavailable {
                    message: failure.to_string(),
                };
                // A token endpoint that answers nothing stops the run like an API that answers
                // nothing. Nothing of this batch was sent: it is not attempted, like the rest.
                if unanswered && let Some(reason) = unreachable(shared, stop, &error) {
                    return Err(Unanswered::Stopped(reason));
                }
                match retry_wait(shared, stop, &mut ceilings, &error, None, attempts).await {
                    Some(()) => continue,
                    None => return Err(Unanswered::Failed(error)),
                }
            }
        };
        tally.requests += 1;
        if attempts > 0 {
            tally.retries += 1;
        }
        attempts += 1;
        let sent = tokio::time::Instant::now();
        let outcome = attempt(shared, body, token.as_ref()).await;
        drop(slot);
        // Any answer, whatever its status, shows the endpoint is up and how long it takes.
        if outcome
            .as_ref()
            .err()
            .is_none_or(|(error, _)| !is_unanswered(error))
        {
            stop.answered();
            shared
                .in_flight
                .observe(sent.elapsed(), shared.pacer.current());
        }
        let (mut error, asked) = match outcome {
            Ok(answer) => return Ok(answer),
            Err(failure) => failure,
        };
        if matches!(error, Error::RateLimited { .. }) {
            tally.rate_limited += 1;
        }
        if error.is_expired_token()
            && !resent_for_expiry
            && let (Some(auth), Some(expired)) = (&shared.auth, &token)
            && auth.source().can_refresh()
        {
            match auth.source().refresh(expired).await {
                Ok(_) => {
                    resent_for_expiry = true;
                    tracing::info!("the access token expired; resending with a fresh one");
                    continue;
                }
                Err(AuthError::Refused { message }) => {
                    return Err(Unanswered::Stopped(refused(stop, message)));
                }
                Err(AuthError::Unavailable { message } | AuthError::Unreachable { message }) => {
                    error = Error::TokenUnavailable { message };
                }
            }
        }
        match decide(&error) {
            Decision::GiveUp => return Err(Unanswered::Failed(error)),
            Decision::Stop => return Err(stop_for(shared, stop, error).await),
            Decision::Retry => {}
        }
        if is_unanswered(&error) && unreachable(shared, stop, &error).is_some() {
            return Err(Unanswered::Failed(error));
        }
        if retry_wait(shared, stop, &mut ceilings, &error, asked, attempts)
            .await
            .is_none()
        {
            return Err(Unanswered::Failed(error));
        }
    }
}

/// The access token to send, if the client sends one.
async fn token(shared: &Shared) -> Result<Option<AccessToken>, AuthError> {
    match &shared.auth {
        Some(auth) => auth.source().token().await.map(Some),
        None => Ok(None),
    }
}

/// Stops the run when nothing has answered for the client's `unreachable_after`, the last
/// failure being `error` (one that got no answer); returns the stop's reason.
fn unreachable(shared: &Shared, stop: &RunStop, error: &Error) -> Option<NotAttempted> {
    let silent = stop.silent_for();
    if silent < shared.unreachable_after {
        return None;
    }
    stop.set(NotAttempted::EndpointUnreachable {
        message: error.to_string(),
        after: silent,
    });
    stop.reason()
}

/// No access token can be had, for good: the run stops.
fn refused(stop: &RunStop, message: String) -> NotAttempted {
    stop.set(NotAttempted::AuthenticationFailed { message });
    stop.reason().unwrap_or(NotAttempted::Cancelled)
}

/// Waits before the next attempt, if the retry policy allows one: the jittered backoff, or
/// HubSpot's `Retry-After` (capped); a stop ends the wait early.
async fn retry_wait(
    shared: &Shared,
    stop: &RunStop,
    ceilings: &mut impl Iterator<Item = std::time::Duration>,
    error: &Error,
    asked: Option<std::time::Duration>,
    attempts: u32,
) -> Option<()> {
    let ceiling = ceilings.next()?;
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
    Some(())
}

/// Stops the run for a failure that every further request would meet too.
async fn stop_for(shared: &Shared, stop: &RunStop, error: Error) -> Unanswered {
    match &error {
        Error::RateLimited {
            daily: true,
            message,
            ..
        } => {
            shared.pacer.stop_daily(message).await;
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
    token: Option<&AccessToken>,
) -> Result<Answer, (Error, Option<std::time::Duration>)> {
    let transport = |e| (error_from_transport(e), None);
    let operation = shared.operation;
    let info = OperationInfo {
        operation_id: operation.method_name,
    };
    let mut request = ClientInfo::client(&shared.api)
        .request(shared.method.clone(), &shared.upsert_url)
        .header(ACCEPT, HeaderValue::from_static(operation.accept))
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static(operation.content_type),
        )
        .body(body.clone())
        .build()
        .map_err(transport)?;
    if let Some(token) = token {
        let header = token.header().map_err(|e| {
            (
                Error::TokenUnavailable {
                    message: e.to_string(),
                },
                None,
            )
        })?;
        request.headers_mut().insert(AUTHORIZATION, header);
    }
    // The generated client's hooks: the pre-hook cannot fail, the exec hook wraps the request
    // in its tracing span.
    let _ = shared.api.pre::<()>(&mut request, &info).await;
    let mut response = shared.api.exec(request, &info).await.map_err(transport)?;
    let status = response.status().as_u16();
    // Reading the body does not need the headers: take them rather than copy them.
    let headers = std::mem::take(response.headers_mut());
    shared.pacer.observe(&headers).await;
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
