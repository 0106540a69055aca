//! HubSpot's OAuth token endpoint: a refresh token in, an access token out. The request is the
//! OAuth contract's (its path, media types and `TokenRequest` type, through the generated
//! client's hooks); the answer is read for the three fields a refresh needs.

use std::sync::Arc;
use std::time::Duration;

use hubspot_projects_api::oauth;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{AccessToken, AuthError, Issued, TokenEndpoint};
use crate::classify::{error_from_answer, error_from_transport, is_unanswered};
use crate::error::Error;

/// The token endpoint of `base_url` in the OAuth contract's default version, called through
/// `http`.
pub(crate) fn endpoint(http: reqwest::Client, base_url: &str) -> TokenEndpoint {
    let operation = hubspot_projects_api::operations::default_oauth_token();
    let api = Arc::new(oauth::Client::new_with_client(base_url, http));
    let url: Arc<str> = format!("{base_url}{}", operation.path).into();
    Arc::new(move |client_id, client_secret, refresh_token| {
        let api = api.clone();
        let url = url.clone();
        Box::pin(async move {
            let request = oauth::types::TokenRequest {
                grant_type: Some(oauth::types::TokenRequestGrantType::RefreshToken),
                client_id: Some(client_id),
                client_secret: Some(client_secret.expose_secret().to_string()),
                refresh_token: Some(refresh_token.expose_secret().to_string()),
                client_assertion: None,
                client_assertion_type: None,
                code: None,
                code_verifier: None,
                redirect_uri: None,
                scope: None,
            };
            refresh(&api, &url, operation, &request).await
        })
    })
}

/// The fields of HubSpot's answer a refresh uses. HubSpot's other fields (`scopes`, `hub_id`,
/// `token_use`…) come and go between versions and are not needed here.
#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: u64,
}

async fn refresh(
    api: &oauth::Client,
    url: &str,
    operation: &'static hubspot_projects_api::Operation,
    request: &oauth::types::TokenRequest,
) -> Result<Issued, AuthError> {
    // Nothing answered (no connection, or no answer in time) counts toward the client's
    // `unreachable_after`, as it does for the API; a failing answer is only retried.
    let unavailable = |error: Error| {
        let message = format!("HubSpot's token endpoint: {error}");
        if is_unanswered(&error) {
            AuthError::Unreachable { message }
        } else {
            AuthError::Unavailable { message }
        }
    };
    let form = serde_urlencoded::to_string(request).map_err(|e| AuthError::Refused {
        message: format!("the OAuth credentials cannot be form-encoded: {e}"),
    })?;
    let info = OperationInfo {
        operation_id: operation.method_name,
    };
    let mut built = ClientInfo::client(api)
        .post(url)
        .header(ACCEPT, HeaderValue::from_static(operation.accept))
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static(operation.content_type),
        )
        .body(form)
        .build()
        .map_err(|e| unavailable(error_from_transport(e)))?;
    let _ = api.pre::<()>(&mut built, &info).await;
    let mut response = api
        .exec(built, &info)
        .await
        .map_err(|e| unavailable(error_from_transport(e)))?;
    let status = response.status().as_u16();
    // Reading the body does not need the headers: take them rather than copy them.
    let headers = std::mem::take(response.headers_mut());
    let body = response
        .bytes()
        .await
        .map_err(|e| unavailable(error_from_transport(e)))?;
    match status {
        200..=299 => {
            let answer: TokenAnswer =
                serde_json::from_slice(&body).map_err(|e| AuthError::Unavailable {
                    message: format!(
                        "HubSpot's token endpoint answered {status} with a body this client cannot read ({e})"
                    ),
                })?;
            Ok(Issued {
                access_token: AccessToken::new(answer.access_token),
                expires_in: Duration::from_secs(answer.expires_in),
                refresh_token: answer.refresh_token.map(SecretString::from),
            })
        }
        408 | 429 | 500..=599 => Err(unavailable(error_from_answer(status, &headers, &body))),
        _ => {
            // HubSpot's token errors name what is wrong (`BAD_REFRESH_TOKEN`,
            // `BAD_CLIENT_ID`…) in `status` and say why in `message`; neither holds a secret.
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let text = |key: &str| {
                json.get(key)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_string)
            };
            let kind = text("status").unwrap_or_else(|| "refused".into());
            let message = text("message").unwrap_or_else(|| "no message".into());
            Err(AuthError::Refused {
                message: format!(
                    "HubSpot's token endpoint refused the refresh ({status} {kind}: {message}); check the client id and secret, or authorize the app again for a new refresh token"
                ),
            })
        }
    }
}
