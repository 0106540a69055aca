//! HubSpot's OAuth token endpoint: a refresh token in, an access token out.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::{AccessToken, AuthError, Issued, TokenEndpoint};
use crate::classify::{error_from_answer, error_from_transport};
use crate::error::Error;

/// The token operation's path.
const TOKEN_PATH: &str = "/oauth/v1/token";

/// The token endpoint of `base_url`, called through `http`.
pub(crate) fn endpoint(http: reqwest::Client, base_url: &str) -> TokenEndpoint {
    let url: Arc<str> = format!("{base_url}{TOKEN_PATH}").into();
    Arc::new(move |client_id, client_secret, refresh_token| {
        let http = http.clone();
        let url = url.clone();
        Box::pin(
            async move { refresh(&http, &url, &client_id, &client_secret, &refresh_token).await },
        )
    })
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: u64,
}

async fn refresh(
    http: &reqwest::Client,
    url: &str,
    client_id: &str,
    client_secret: &SecretString,
    refresh_token: &SecretString,
) -> Result<Issued, AuthError> {
    let form = serde_urlencoded::to_string([
        ("grant_type", "refresh_token"),
        ("client_id", client_id),
        ("client_secret", client_secret.expose_secret()),
        ("refresh_token", refresh_token.expose_secret()),
    ])
    .map_err(|e| AuthError::Refused {
        message: format!("the credentials cannot be encoded: {e}"),
    })?;
    let unavailable = |error: Error| AuthError::Unavailable {
        message: format!("HubSpot's token endpoint: {error}"),
    };
    let response = http
        .post(url)
        .header(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        )
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .body(form)
        .send()
        .await
        .map_err(|e| unavailable(error_from_transport(e)))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| unavailable(error_from_transport(e)))?;
    match status {
        200..=299 => {
            let answer: TokenAnswer =
                serde_json::from_slice(&body).map_err(|e| AuthError::Unavailable {
                    message: format!("HubSpot's token endpoint answered {status} with a body this client cannot read ({e})"),
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
            let kind = json
                .get("status")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("refused");
            let message = json
                .get("message")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("no message");
            Err(AuthError::Refused {
                message: format!(
                    "HubSpot's token endpoint refused the refresh ({status} {kind}: {message}); check the client id and secret, or authorize the app again for a new refresh token"
                ),
            })
        }
    }
}
