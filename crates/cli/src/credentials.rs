//! How the CLI authenticates: a private app's token, or an OAuth app's client id, secret and
//! refresh token. Secrets come from the environment or from files, never from flags that show
//! in `ps`; a refresh token HubSpot rotates is written back to its file.

use hubspot_projects::{ExposeSecret, OAuthCredentials, SecretString, write_refresh_token_file};
use std::fmt;
use std::path::{Path, PathBuf};

/// The environment variable holding a private app's token.
pub const TOKEN_VAR: &str = "HUBSPOT_ACCESS_TOKEN";
/// The environment variable holding an OAuth app's client secret.
pub const CLIENT_SECRET_VAR: &str = "HUBSPOT_CLIENT_SECRET";
/// The environment variable holding an OAuth refresh token.
pub const REFRESH_TOKEN_VAR: &str = "HUBSPOT_REFRESH_TOKEN";

/// What a run authenticates with.
#[derive(Clone)]
pub enum Credentials {
    /// Nothing: a dry run sends nothing.
    None,
    /// A private app's token.
    Token(SecretString),
    /// An OAuth app's credentials.
    OAuth {
        /// The app's client id (not a secret).
        client_id: String,
        /// The app's client secret.
        client_secret: SecretString,
        /// The installation's refresh token.
        refresh_token: SecretString,
        /// The file the refresh token came from, where a rotated one is written back.
        refresh_token_file: Option<PathBuf>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Token(_) => f.write_str("Token(<redacted>)"),
            Self::OAuth { client_id, .. } => f
                .debug_struct("OAuth")
                .field("client_id", client_id)
                .finish_non_exhaustive(),
        }
    }
}

/// Reads a secret from a file: its first line, trimmed.
pub fn read_secret_file(path: &Path, what: &str) -> Result<SecretString, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the {what} file {}: {e}", path.display()))?;
    let secret = text.lines().next().unwrap_or("").trim().to_string();
    if secret.is_empty() {
        return Err(format!("the {what} file {} is empty", path.display()));
    }
    Ok(SecretString::from(secret))
}

/// A secret from `file` if given, else from the environment variable `var`.
pub fn secret_from(file: Option<&Path>, var: &str, what: &str) -> Result<SecretString, String> {
    if let Some(path) = file {
        return read_secret_file(path, what);
    }
    match std::env::var(var) {
        Ok(value) if !value.trim().is_empty() => Ok(SecretString::from(value.trim().to_string())),
        _ => Err(format!("no {what}: set {var} or pass its --…-file PATH")),
    }
}

impl Credentials {
    /// The client's OAuth credentials, with a rotated refresh token written back to its file
    /// (or, when it came from the environment, a warning that it could not be kept).
    pub fn oauth(&self) -> Option<OAuthCredentials> {
        let Self::OAuth {
            client_id,
            client_secret,
            refresh_token,
            refresh_token_file,
        } = self
        else {
            return None;
        };
        let file = refresh_token_file.clone();
        Some(
            OAuthCredentials::new(
                client_id.clone(),
                client_secret.expose_secret(),
                refresh_token.expose_secret(),
            )
            .on_refresh_token(move |rotated| match &file {
                Some(path) => {
                    if let Err(error) = write_refresh_token_file(path, rotated) {
                        tracing::error!(
                            path = %path.display(),
                            %error,
                            "HubSpot rotated the refresh token and the new one could not be written back; the next run needs it"
                        );
                    }
                }
                None => tracing::warn!(
                    "HubSpot rotated the refresh token, which came from {REFRESH_TOKEN_VAR}: the new one cannot be kept; pass --refresh-token-file to keep it"
                ),
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_file_gives_its_first_line_and_an_empty_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refresh");
        std::fs::write(&path, "  the-token  \nsecond line\n").unwrap();
        assert_eq!(
            read_secret_file(&path, "refresh token")
                .unwrap()
                .expose_secret(),
            "the-token"
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(read_secret_file(&path, "refresh token").is_err());
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let credentials = Credentials::OAuth {
            client_id: "app".into(),
            client_secret: SecretString::from("the-secret".to_string()),
            refresh_token: SecretString::from("the-refresh".to_string()),
            refresh_token_file: None,
        };
        let shown = format!(
            "{credentials:?} {:?}",
            Credentials::Token(SecretString::from("the-token".to_string()))
        );
        for secret in ["the-secret", "the-refresh", "the-token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
