//! The HTTP client every part of this workspace builds: reqwest over rustls with the ring
//! provider and webpki's roots, compiled in, so that nothing needs OpenSSL to build and nothing
//! reads the system's root bundle at start-up.

use std::sync::Arc;

/// Why a TLS setup could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(String);

/// A reqwest client builder with this workspace's TLS: rustls and the ring provider, trusting
/// webpki's roots and `extra_roots` (DER or PEM certificates, for a proxy or a test server).
///
/// Use it instead of `reqwest::Client::builder()`: reqwest is built here without a default
/// crypto provider, so a client built without this TLS setup cannot speak TLS.
///
/// ```
/// let http = hubspot_projects_api::http::client_builder(&[])?.build()?;
/// # let _ = http;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn client_builder(extra_roots: &[Vec<u8>]) -> Result<reqwest::ClientBuilder, TlsError> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls_config(extra_roots)?))
}

/// [`client_builder`] without extra roots: what the generated `Client::new` builds its HTTP
/// client from.
pub fn default_client_builder() -> reqwest::ClientBuilder {
    // Without extra roots nothing can fail: ring supports the safe default protocol versions
    // (a unit test below checks it).
    let config = tls_config(&[]).expect("ring supports TLS 1.2 and 1.3");
    reqwest::Client::builder().tls_backend_preconfigured(config)
}

/// The rustls client configuration [`client_builder`] uses.
pub fn tls_config(extra_roots: &[Vec<u8>]) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for certificate in extra_roots {
        for der in certificate_ders(certificate)? {
            roots
                .add(der)
                .map_err(|e| TlsError(format!("an added root certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of a DER or PEM text.
fn certificate_ders(
    certificate: &[u8],
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    if certificate.starts_with(b"-----BEGIN") {
        rustls::pki_types::CertificateDer::pem_slice_iter(certificate)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError(format!("an added root certificate's PEM: {e}")))
    } else {
        Ok(vec![rustls::pki_types::CertificateDer::from(
            certificate.to_vec(),
        )])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_added_root_is_refused_with_a_message() {
        let bad = b"-----BEGIN CERTIFICATE-----\nnot base64\n".to_vec();
        let error = tls_config(&[bad]).unwrap_err();
        assert!(error.to_string().contains("root certificate"), "{error}");
        assert!(tls_config(&[]).is_ok());
        assert!(client_builder(&[]).unwrap().build().is_ok());
    }
}
