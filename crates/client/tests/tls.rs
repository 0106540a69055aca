//! `https://` works: the client speaks TLS (rustls, ring) to a local server whose test
//! certificate it was told to trust, and refuses one it was not told to trust.

mod common;

use std::sync::Arc;

use common::*;
use hubspot_projects::{Client, Error, RateBudget};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A one-route HTTPS server: answers every request with a 200 batch answer that confirms the
/// request's inputs. Returns its port and the certificate (PEM) to trust.
async fn https_server() -> (u16, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let certificate_pem = certified.cert.pem();
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(certified.signing_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 8192];
                // Read the head, then the body its content-length announces.
                let body = loop {
                    let Ok(n) = tls.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length: usize = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break request[end + 4..end + 4 + length].to_vec();
                        }
                    }
                };
                let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let results: Vec<_> = sent["inputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|input| result_for(input, true))
                    .collect();
                let answer = serde_json::to_vec(&batch_body(results, vec![])).unwrap();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    answer.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(&answer).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, certificate_pem)
}

#[tokio::test]
async fn https_to_a_trusted_certificate_works_and_an_unknown_one_is_refused() {
    let (port, certificate) = https_server().await;
    let base_url = format!("https://localhost:{port}");
    let trusting = Client::builder()
        .access_token(TOKEN)
        .base_url(&base_url)
        .rate_budget(RateBudget::Unlimited)
        .add_root_certificate(certificate.into_bytes())
        .build()
        .unwrap();
    let answer = trusting.upsert_batch(inputs(3)).await.unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.outcomes.iter().all(|o| o.outcome.is_success()));

    let distrusting = Client::builder()
        .access_token(TOKEN)
        .base_url(&base_url)
        .rate_budget(RateBudget::Unlimited)
        .retry_policy(hubspot_projects::RetryPolicy::none())
        .build()
        .unwrap();
    let error = distrusting.upsert_batch(inputs(1)).await.unwrap_err();
    assert!(
        matches!(&error, Error::Transport { message, .. } if message.to_lowercase().contains("certificate")),
        "{error:?}"
    );
}
