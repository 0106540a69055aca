//! The contracts of this workspace: one OpenAPI file per HubSpot API we call, each carrying its
//! one operation in every version HubSpot publishes.
//!
//! | contract | operation | paths |
//! |---|---|---|
//! | [`PROJECTS`] | the projects batch upsert | `/crm/objects/<version>/projects/batch/upsert` |
//! | [`OAUTH`] | the OAuth token request | `/oauth/<version>/token` |
//!
//! A [`Contract`] knows every spelling of its operation in HubSpot's files, so that an import can
//! find it and store it under the contract's own path.

use crate::version::ApiVersion;
use serde_json::Value;

/// One contract: a file under `openapi/` and the operation it is about.
#[derive(Debug)]
pub struct Contract {
    /// The contract's name, also the stem of its files: `projects` for `openapi/projects.json`.
    pub name: &'static str,
    /// What the operation is, for messages: "projects batch upsert".
    pub operation: &'static str,
    /// The HTTP method of the operation, lower case as in OpenAPI.
    pub method: &'static str,
    /// The contract's path for a version, with `{version}` in place of it.
    pub path_template: &'static str,
    /// Every spelling of the operation's path in HubSpot's files, with `{version}` in place of
    /// the version. The first is the contract's own.
    pub spellings: &'static [&'static str],
}

/// The projects batch upsert.
pub const PROJECTS: Contract = Contract {
    name: "projects",
    operation: "projects batch upsert",
    method: "post",
    path_template: "/crm/objects/{version}/projects/batch/upsert",
    spellings: &[
        "/crm/objects/{version}/projects/batch/upsert",
        "/crm/objects/{version}/{objectType}/batch/upsert",
        "/crm/{version}/objects/{objectType}/batch/upsert",
        "/crm/{version}/objects/projects/batch/upsert",
    ],
};

/// The OAuth token request (refresh, authorization code and client credentials grants).
pub const OAUTH: Contract = Contract {
    name: "oauth",
    operation: "OAuth token request",
    method: "post",
    path_template: "/oauth/{version}/token",
    spellings: &["/oauth/{version}/token"],
};

/// Every contract, in the order `cargo xtask regen` treats them.
pub const CONTRACTS: [&Contract; 2] = [&PROJECTS, &OAUTH];

/// A path of a HubSpot file recognized as one version of a contract's operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spelling {
    /// The version in the path.
    pub version: ApiVersion,
    /// The path as the file spells it.
    pub upstream_path: String,
    /// The contract's path for that version.
    pub path: String,
    /// Whether the file spells it differently from the contract (HubSpot's generic objects API).
    pub generic: bool,
}

impl Contract {
    /// The contract file, relative to the workspace: `openapi/projects.json`.
    pub fn spec_file(&self) -> String {
        format!("openapi/{}.json", self.name)
    }

    /// The contract's path for `version`.
    pub fn path(&self, version: &ApiVersion) -> String {
        self.path_template.replace("{version}", version.as_str())
    }

    /// Whether `path` is one of the operation's spellings, and for which version.
    pub fn recognize(&self, path: &str) -> Option<Spelling> {
        self.spellings
            .iter()
            .enumerate()
            .find_map(|(index, template)| {
                let version = match_template(template, path)?;
                Some(Spelling {
                    path: self.path(&version),
                    upstream_path: path.to_string(),
                    generic: index > 0,
                    version,
                })
            })
    }

    /// The versions of the operation a spec carries (any spelling, with the contract's method),
    /// oldest first.
    pub fn versions_in(&self, spec: &Value) -> Vec<Spelling> {
        let mut found: Vec<Spelling> = spec
            .get("paths")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(_, item)| item.get(self.method).is_some())
            .filter_map(|(path, _)| self.recognize(path))
            .collect();
        found.sort_by(|a, b| a.version.cmp(&b.version).then(a.generic.cmp(&b.generic)));
        found
    }

    /// The spellings as a person reads them, for messages.
    pub fn spellings_for_people(&self) -> String {
        self.spellings
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    self.method.to_ascii_uppercase(),
                    s.replace("{version}", "<version>")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The contract whose operation `spec` carries, if any.
pub fn contract_of(spec: &Value) -> Option<&'static Contract> {
    CONTRACTS
        .into_iter()
        .find(|contract| !contract.versions_in(spec).is_empty())
}

/// Matches `path` against a template whose one `{version}` segment must be a version and whose
/// other segments must be equal.
fn match_template(template: &str, path: &str) -> Option<ApiVersion> {
    let expected: Vec<&str> = template.split('/').collect();
    let actual: Vec<&str> = path.split('/').collect();
    if expected.len() != actual.len() {
        return None;
    }
    let mut version = None;
    for (e, a) in expected.iter().zip(&actual) {
        if *e == "{version}" {
            version = Some(ApiVersion::parse(a)?);
        } else if e != a {
            return None;
        }
    }
    version
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_the_batch_upsert_maps_to_the_projects_path() {
        let cases = [
            (
                "/crm/objects/v3/projects/batch/upsert",
                "v3",
                "/crm/objects/v3/projects/batch/upsert",
                false,
            ),
            (
                "/crm/objects/2026-09-beta/projects/batch/upsert",
                "2026-09-beta",
                "/crm/objects/2026-09-beta/projects/batch/upsert",
                false,
            ),
            (
                "/crm/objects/2026-03/{objectType}/batch/upsert",
                "2026-03",
                "/crm/objects/2026-03/projects/batch/upsert",
                true,
            ),
            (
                "/crm/v3/objects/{objectType}/batch/upsert",
                "v3",
                "/crm/objects/v3/projects/batch/upsert",
                true,
            ),
            (
                "/crm/v3/objects/projects/batch/upsert",
                "v3",
                "/crm/objects/v3/projects/batch/upsert",
                true,
            ),
        ];
        for (upstream, version, path, generic) in cases {
            let spelling = PROJECTS
                .recognize(upstream)
                .unwrap_or_else(|| panic!("{upstream}"));
            assert_eq!(spelling.version.as_str(), version, "{upstream}");
            assert_eq!(spelling.path, path, "{upstream}");
            assert_eq!(spelling.generic, generic, "{upstream}");
        }
        for other in [
            "/crm/objects/v3/projects/batch/create",
            "/crm/objects/projects/batch/upsert",
            "/crm/objects/latest/projects/batch/upsert",
            "/oauth/v1/token",
        ] {
            assert!(PROJECTS.recognize(other).is_none(), "{other}");
        }
    }

    #[test]
    fn a_spec_belongs_to_the_contract_whose_operation_it_carries() {
        let projects = serde_json::json!({ "paths": {
            "/crm/objects/2026-03/projects/batch/upsert": { "post": {} },
            "/crm/objects/2026-03/projects/batch/create": { "post": {} },
        } });
        let oauth = serde_json::json!({ "paths": {
            "/oauth/v3/token": { "post": {} },
            "/oauth/v3/token/introspect": { "post": {} },
        } });
        let neither = serde_json::json!({ "paths": {
            "/oauth/v3/token": { "get": {} },
        } });
        assert_eq!(contract_of(&projects).map(|c| c.name), Some("projects"));
        assert_eq!(contract_of(&oauth).map(|c| c.name), Some("oauth"));
        assert!(contract_of(&neither).is_none());
    }
}
