//! Request hooks for the generated clients. They must live in this crate: the orphan rule
//! forbids implementing `ClientHooks` for a generated `Client` anywhere else.

use crate::headers;
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use tracing::Instrument;

/// Removes the `api-version` header progenitor adds from `info.version`: HubSpot versions its
/// APIs by path and defines no such header.
fn remove_api_version(request: &mut reqwest::Request) {
    request.headers_mut().remove("api-version");
}

/// Runs the request inside a `hubspot.request` span that records the operation, the method, the
/// path, the status and HubSpot's correlation id. Neither the query nor the body is recorded:
/// they can hold secrets.
async fn execute_in_span(
    client: &reqwest::Client,
    request: reqwest::Request,
    info: &OperationInfo,
) -> reqwest::Result<reqwest::Response> {
    let span = tracing::debug_span!(
        "hubspot.request",
        operation = info.operation_id,
        method = %request.method(),
        path = request.url().path(),
        status = tracing::field::Empty,
        correlation_id = tracing::field::Empty,
    );
    async {
        let result = client.execute(request).await;
        let span = tracing::Span::current();
        match &result {
            Ok(response) => {
                span.record("status", response.status().as_u16());
                if let Some(id) = response
                    .headers()
                    .get(headers::CORRELATION_ID)
                    .and_then(|v| v.to_str().ok())
                {
                    span.record("correlation_id", id);
                }
                tracing::debug!("answered");
            }
            Err(error) => tracing::debug!(error = %error, "no answer"),
        }
        result
    }
    .instrument(span)
    .await
}

/// The same hooks for every generated client.
macro_rules! hooks_for {
    ($($client:ty),+) => {$(
        impl ClientHooks<()> for $client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                _info: &OperationInfo,
            ) -> Result<(), Error<E>> {
                remove_api_version(request);
                Ok(())
            }

            async fn exec(
                &self,
                request: reqwest::Request,
                info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                execute_in_span(self.client(), request, info).await
            }
        }
    )+};
}

hooks_for!(crate::Client, crate::oauth::Client);
