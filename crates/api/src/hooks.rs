//! Request hooks for the generated client. They must live in this crate: the orphan rule
//! forbids implementing `ClientHooks` for `Client` anywhere else.

use crate::{CORRELATION_ID_HEADER, Client};
use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo};
use tracing::Instrument;

impl ClientHooks<()> for Client {
    /// Removes the `api-version` header progenitor adds from `info.version`: HubSpot versions
    /// this API by path and defines no such header.
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), Error<E>> {
        request.headers_mut().remove("api-version");
        Ok(())
    }

    /// Runs the request inside a `hubspot.request` span that records the method, the path, the
    /// status and HubSpot's correlation id.
    async fn exec(
        &self,
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
            let result = self.client().execute(request).await;
            let span = tracing::Span::current();
            match &result {
                Ok(response) => {
                    span.record("status", response.status().as_u16());
                    if let Some(id) = response
                        .headers()
                        .get(CORRELATION_ID_HEADER)
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
}
