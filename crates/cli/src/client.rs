//! The client a run sends through, built from the command line's options, with errors that
//! name the command line's flags.

use crate::options::UpsertOptions;
use hubspot_projects::Client;

/// Builds the client for `options`.
pub fn build(options: &UpsertOptions) -> Result<Client, String> {
    let builder = Client::builder()
        .access_token(options.token.clone())
        .base_url(options.base_url.clone())
        .rate_budget(options.rate)
        .max_in_flight(options.concurrency)
        .timeout(options.timeout)
        .allow_insecure_http(options.allow_insecure_http);
    match builder.clone().build() {
        Ok(client) => Ok(client),
        // The library names its own setting; say which flag allows it.
        Err(_)
            if !options.allow_insecure_http
                && builder.allow_insecure_http(true).build().is_ok() =>
        {
            Err(format!(
                "--base-url {} is plain http to a host that is not loopback: the token would \
                 travel in clear. Use https, or pass --allow-insecure-http if the network is \
                 yours",
                options.base_url
            ))
        }
        Err(error) => Err(error.to_string()),
    }
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
            token: "pat-test".into(),
            rate: Default::default(),
            concurrency: 4,
            timeout: hubspot_projects::DEFAULT_TIMEOUT,
            dry_run: false,
            quiet: true,
            report: None,
            journal: None,
            resume: false,
            strict: false,
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
