//! The client a run sends through, built from the command line's options, with errors that
//! name the command line's flags.

use crate::credentials::Credentials;
use crate::options::UpsertOptions;
use hubspot_projects::{Client, ClientBuilder, ConfigError, ExposeSecret};

/// Builds the client for `options`.
pub fn build(options: &UpsertOptions) -> Result<Client, String> {
    let mut builder = Client::builder()
        .base_url(options.base_url.clone())
        .rate_budget(options.rate)
        .timeout(options.timeout)
        .allow_insecure_http(options.allow_insecure_http)
        .isolate_rejected_inputs(options.isolate);
    if let Credentials::Token(token) = &options.credentials {
        builder = builder.access_token(token.expose_secret());
    }
    if let Some(oauth) = options.credentials.oauth() {
        builder = builder.oauth(oauth);
    }
    if let Some(version) = &options.api_version {
        builder = builder.api_version(version.clone());
    }
    if let Some(n) = options.concurrency {
        builder = builder.fixed_in_flight(n);
    }
    if let Some((url, key)) = &options.rate_store {
        builder = with_shared_budget(builder, url, key.as_deref())?;
    }
    builder.build().map_err(|error| match error {
        // The library names its own setting; say which flag allows it.
        ConfigError::InsecureBaseUrl { url } => format!(
            "--base-url {url} is plain http to a host that is not loopback: the token would \
             travel in clear. Use https, or pass --allow-insecure-http if the network is yours"
        ),
        ConfigError::UnknownApiVersion { given, known } => {
            format!("--api-version {given} is not a version this tool knows; known: {known}")
        }
        other => other.to_string(),
    })
}

/// Keeps the rate budget in the Redis at `url`, under `key` (default: a hash of the
/// credentials), shared with every process using the same key.
#[cfg(feature = "redis")]
fn with_shared_budget(
    builder: ClientBuilder,
    url: &str,
    key: Option<&str>,
) -> Result<ClientBuilder, String> {
    let budget =
        hubspot_projects::RedisBudget::new(url).map_err(|e| format!("--rate-store: {e}"))?;
    Ok(builder.rate_store(match key {
        Some(key) => budget.key(key),
        None => budget,
    }))
}

#[cfg(not(feature = "redis"))]
fn with_shared_budget(
    _builder: ClientBuilder,
    _url: &str,
    _key: Option<&str>,
) -> Result<ClientBuilder, String> {
    Err("--rate-store needs this tool built with its `redis` feature (on by default)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Source;
    use hubspot_projects_cli::input::{InputFormat, ReadOptions};

    fn options(base_url: &str, allow_insecure_http: bool) -> UpsertOptions {
        UpsertOptions {
            source: Source::Stdin,
            format: InputFormat::Csv,
            read: ReadOptions::new("project_code"),
            base_url: base_url.into(),
            allow_insecure_http,
            credentials: Credentials::Token("pat-test".to_string().into()),
            api_version: None,
            rate: Default::default(),
            concurrency: None,
            rate_store: None,
            timeout: hubspot_projects::DEFAULT_TIMEOUT,
            dry_run: false,
            quiet: true,
            report: None,
            journal: None,
            resume: false,
            strict: false,
            isolate: true,
        }
    }

    #[test]
    fn plain_http_is_refused_naming_the_flag_that_allows_it() {
        let message = build(&options("http://projects.example", false)).unwrap_err();
        assert!(message.contains("--allow-insecure-http"), "{message}");
        assert!(!message.contains("allow_insecure_http("), "{message}");
        assert!(build(&options("http://projects.example", true)).is_ok());
        assert!(build(&options("http://127.0.0.1:1", false)).is_ok());
        let message = build(&options("ftp://projects.example", true)).unwrap_err();
        assert!(message.contains("https"), "{message}");
    }
}
