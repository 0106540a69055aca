//! The paths the emulator serves: the batch upsert in every API version's spelling (the one
//! list routes and tests take them from), and the OAuth token endpoint.

/// One path of the batch upsert and the API version it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UpsertPath {
    /// The API version: `v3`, `2026-03` or `2026-09`.
    pub version: &'static str,
    /// The path of `POST …/batch/upsert`.
    pub path: &'static str,
}

impl UpsertPath {
    /// The path, in the same spelling, of the read of one record: `…/projects/{id}`.
    ///
    /// ```
    /// use hubspot_projects_emulator::UPSERT_PATHS;
    /// assert_eq!(UPSERT_PATHS[0].read_path(), "/crm/objects/v3/projects/{id}");
    /// ```
    pub fn read_path(&self) -> String {
        let base = self.path.strip_suffix("batch/upsert").unwrap_or(self.path);
        format!("{base}{{id}}")
    }
}

/// Every path of the batch upsert: HubSpot's per-object path in each version, and the
/// generic objects path (`/crm/v3/objects/{objectType}/…`) that HubSpot's official clients
/// use. The date-versioned generic path, `/crm/objects/<date>/{objectType}/…`, spells the
/// same as the per-object one.
pub const UPSERT_PATHS: [UpsertPath; 4] = [
    // The contract's own path, first.
    UpsertPath {
        version: "v3",
        path: hubspot_projects_api::paths::BATCH_UPSERT,
    },
    UpsertPath {
        version: "2026-03",
        path: "/crm/objects/2026-03/projects/batch/upsert",
    },
    UpsertPath {
        version: "2026-09",
        path: "/crm/objects/2026-09/projects/batch/upsert",
    },
    UpsertPath {
        version: "v3",
        path: "/crm/v3/objects/projects/batch/upsert",
    },
];

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

/// The paths of HubSpot's OAuth token endpoint, in each of its versions.
pub const TOKEN_PATHS: [&str; 4] = [
    "/oauth/v1/token",
    "/oauth/v3/token",
    "/oauth/2026-03/token",
    "/oauth/2026-09/token",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_once_and_reads_beside_upserts() {
        assert_eq!(api_versions(), ["v3", "2026-03", "2026-09"]);
        assert_eq!(UPSERT_PATHS[3].read_path(), "/crm/v3/objects/projects/{id}");
    }
}
