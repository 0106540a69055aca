//! The descriptor of one operation, as the generated client sends it.

/// One operation of a contract, as the generated client sends it.
///
/// The generated `operations` modules hold one per operation and version, so that code which
/// builds its own request (the client's engine, the emulator's routes) takes the method, the path
/// and the headers from the contract rather than repeating them. A test checks, against a real
/// server, that each generated method sends exactly what its descriptor says.
///
/// ```
/// use hubspot_projects_api::operations;
/// // The newest generally available version, e.g. `2026-09`.
/// let op = operations::batch_upsert(operations::default_batch_upsert().version).unwrap();
/// assert_eq!(op.method, "POST");
/// assert_eq!(op.path, format!("/crm/objects/{}/projects/batch/upsert", op.version));
/// assert_eq!(op.method_name, format!("batch_upsert_{}", op.version.replace('-', "_")));
/// ```
///
/// The generated clients call the method a descriptor names with `*_by_version`
/// ([`Client::batch_upsert_by_version`](crate::Client::batch_upsert_by_version)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The operation id, as in the spec (HubSpot's spelling).
    pub operation_id: &'static str,
    /// The generated `Client` method, e.g. `batch_upsert_2026_03`.
    pub method_name: &'static str,
    /// The HTTP method, upper case: `POST`.
    pub method: &'static str,
    /// The path, from the server's root.
    pub path: &'static str,
    /// The API version in the path: `v3`, `2026-03`, `2026-09-beta`, `v1`…
    pub version: &'static str,
    /// Whether the version is a pre-release (`2026-09-beta`); such a version is never a default.
    pub beta: bool,
    /// The media type of the request body the generated method sends (empty without a body).
    pub content_type: &'static str,
    /// The `Accept` header the generated method sends (empty when it sends none).
    pub accept: &'static str,
}

impl Operation {
    /// The entry of `operations` for `version`, spelled as HubSpot spells it.
    pub const fn find(
        operations: &'static [Operation],
        version: &str,
    ) -> Option<&'static Operation> {
        let mut i = 0;
        while i < operations.len() {
            if same(operations[i].version, version) {
                return Some(&operations[i]);
            }
            i += 1;
        }
        None
    }

    /// The newest generally available entry of `operations`, which the generated modules list
    /// oldest first: the last one that is not a pre-release.
    pub const fn newest_generally_available(
        operations: &'static [Operation],
    ) -> Option<&'static Operation> {
        let mut i = operations.len();
        while i > 0 {
            i -= 1;
            if !operations[i].beta {
                return Some(&operations[i]);
            }
        }
        None
    }
}

/// `a == b`, in a `const fn`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn op(version: &'static str, beta: bool) -> Operation {
        Operation {
            operation_id: "",
            method_name: "",
            method: "POST",
            path: "",
            version,
            beta,
            content_type: "",
            accept: "",
        }
    }

    const OPS: &[Operation] = &[
        op("v3", false),
        op("2026-03", false),
        op("2026-09-beta", true),
    ];

    #[test]
    fn versions_are_found_by_exact_spelling() {
        assert_eq!(
            Operation::find(OPS, "2026-03").map(|o| o.version),
            Some("2026-03")
        );
        assert_eq!(Operation::find(OPS, "2026-0"), None);
        assert_eq!(Operation::find(OPS, "V3"), None);
    }

    #[test]
    fn the_newest_generally_available_version_skips_betas() {
        let newest = Operation::newest_generally_available(OPS).map(|o| o.version);
        assert_eq!(newest, Some("2026-03"));
        assert_eq!(Operation::newest_generally_available(&OPS[2..]), None);
    }
}
