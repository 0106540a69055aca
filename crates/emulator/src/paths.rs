//! The paths the emulator serves: the batch upsert in every API version's spelling (the one
//! list routes and tests take them from), and the OAuth token endpoint.

/// One path of the batch upsert and the API version it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UpsertPath {
    /// The API version: `v3`, `2026-03`, `2026-09`… (one of the contract's).
    pub version: &'static str,
    /// The path of `POST …/batch/upsert`.
    pub path: &'static str,
}

impl UpsertPath {
    /// The path, in the same spelling, of the read of one record: `…/projects/{id}`.
    ///
    /// ```
    /// use hubspot_projects_emulator::UPSERT_PATHS;
    /// let oldest = UPSERT_PATHS[0]; // v3
    /// assert_eq!(
    ///     oldest.read_path(),
    ///     format!("/crm/objects/{}/projects/{{id}}", oldest.version)
    /// );
    /// ```
    pub fn read_path(&self) -> String {
        let base = self.path.strip_suffix("batch/upsert").unwrap_or(self.path);
        format!("{base}{{id}}")
    }
}

use hubspot_projects_api::operations::{BATCH_UPSERT, OAUTH_TOKEN};

/// Every path of the batch upsert: HubSpot's per-object path in each version of the contract
/// (`hubspot_projects_api::operations::BATCH_UPSERT`, oldest first), then the generic objects
/// path (`/crm/v3/objects/{objectType}/…`) that HubSpot's official clients use. The
/// date-versioned generic path, `/crm/objects/<date>/{objectType}/…`, spells the same as the
/// per-object one.
pub const UPSERT_PATHS: [UpsertPath; BATCH_UPSERT.len() + 1] = upsert_paths();

const fn upsert_paths() -> [UpsertPath; BATCH_UPSERT.len() + 1] {
    let mut paths = [UpsertPath {
        version: "v3",
        path: "/crm/v3/objects/projects/batch/upsert",
    }; BATCH_UPSERT.len() + 1];
    let mut at = 0;
    while at < BATCH_UPSERT.len() {
        paths[at] = UpsertPath {
            version: BATCH_UPSERT[at].version,
            path: BATCH_UPSERT[at].path,
        };
        at += 1;
    }
    paths
}

/// The API versions of [`UPSERT_PATHS`], each once, in order.
pub fn api_versions() -> Vec<&'static str> {
    let mut versions: Vec<&'static str> = Vec::new();
    for path in &UPSERT_PATHS {
        if !versions.contains(&path.version) {
            versions.push(path.version);
        }
    }
    versions
}

/// The paths of HubSpot's OAuth token endpoint, in each version of the OAuth contract
/// (`hubspot_projects_api::operations::OAUTH_TOKEN`).
pub const TOKEN_PATHS: [&str; OAUTH_TOKEN.len()] = token_paths();

const fn token_paths() -> [&'static str; OAUTH_TOKEN.len()] {
    let mut paths = [""; OAUTH_TOKEN.len()];
    let mut at = 0;
    while at < OAUTH_TOKEN.len() {
        paths[at] = OAUTH_TOKEN[at].path;
        at += 1;
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_once_and_reads_beside_upserts() {
        let contract: Vec<&str> = BATCH_UPSERT.iter().map(|op| op.version).collect();
        assert_eq!(api_versions(), contract);
        for (path, operation) in UPSERT_PATHS.iter().zip(BATCH_UPSERT) {
            assert_eq!(
                (path.version, path.path),
                (operation.version, operation.path)
            );
            let collection = operation.path.strip_suffix("/batch/upsert").unwrap();
            assert_eq!(path.read_path(), format!("{collection}/{{id}}"));
        }
        // The generic path comes after every version of the contract.
        let generic = UPSERT_PATHS[BATCH_UPSERT.len()];
        assert_eq!(UPSERT_PATHS.last(), Some(&generic));
        assert_eq!(generic.read_path(), "/crm/v3/objects/projects/{id}");
    }
}
