//! What the tests of the generated clients share: calling the generated method a descriptor
//! names (through the generated `*_by_version` methods, so no test lists the per-version
//! methods), and the versions the contract itself holds, read from its JSON, to compare the
//! descriptors with.

#![allow(dead_code)]

use hubspot_projects_api::{ByteStream, Client, Error, Operation, ResponseValue, oauth, types};
use hubspot_projects_codegen::version::ApiVersion;

/// The projects client's answer to a batch upsert.
pub type BatchAnswer = Result<
    ResponseValue<types::BatchResponseSimplePublicUpsertObjectWithErrors>,
    Error<ByteStream>,
>;

/// Calls the batch upsert method `operation` names.
pub async fn batch_upsert(
    client: &Client,
    operation: &Operation,
    body: &types::BatchInputSimplePublicObjectBatchInputUpsert,
) -> BatchAnswer {
    client.batch_upsert_by_version(operation, body).await
}

/// The OAuth client's answer to a token request.
pub type TokenAnswer =
    Result<ResponseValue<oauth::types::TokenResponseIf>, oauth::Error<oauth::ByteStream>>;

/// Calls the token method `operation` names.
pub async fn token(
    client: &oauth::Client,
    operation: &Operation,
    body: &oauth::types::TokenRequest,
) -> TokenAnswer {
    client.token_by_version(operation, body).await
}

/// The contract `name` (`projects`, `oauth`) as JSON: `openapi/<name>.json` of the workspace,
/// or, outside it (a packaged crate), the copy packaged with the crate, which `cargo xtask regen`
/// keeps identical.
pub fn contract(name: &str) -> serde_json::Value {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let workspace = format!("{manifest}/../../openapi/{name}.json");
    let packaged = format!("{manifest}/spec/{name}.json");
    let text = std::fs::read_to_string(&workspace)
        .or_else(|_| std::fs::read_to_string(&packaged))
        .unwrap_or_else(|e| panic!("cannot read {workspace} or {packaged}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}.json is not JSON: {e}"))
}

/// One version of an operation, as the contract's paths spell it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContractVersion {
    /// The version, as in the path.
    pub version: String,
    /// Whether it is a pre-release (`2026-09-beta`).
    pub beta: bool,
    /// The path.
    pub path: String,
}

/// Every versioned path of the contract `name` that ends with `suffix` (`/batch/upsert`,
/// `/token`), oldest version first.
pub fn contract_versions(name: &str, suffix: &str) -> Vec<ContractVersion> {
    let contract = contract(name);
    let paths = contract["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("{name}.json has no paths"));
    let mut versions: Vec<(ApiVersion, String)> = paths
        .keys()
        .filter(|path| path.ends_with(suffix))
        .filter_map(|path| Some((ApiVersion::in_path(path)?, path.clone())))
        .collect();
    versions.sort();
    versions
        .into_iter()
        .map(|(version, path)| ContractVersion {
            version: version.as_str().to_string(),
            beta: version.is_pre_release(),
            path,
        })
        .collect()
}

/// Checks that `descriptors` are the contract's versions of `suffix`, oldest first, and returns
/// those versions.
pub fn descriptors_match_contract(
    descriptors: &[Operation],
    name: &str,
    suffix: &str,
) -> Vec<ContractVersion> {
    let contract = contract_versions(name, suffix);
    let described: Vec<_> = descriptors
        .iter()
        .map(|o| (o.version, o.beta, o.path))
        .collect();
    let expected: Vec<_> = contract
        .iter()
        .map(|v| (v.version.as_str(), v.beta, v.path.as_str()))
        .collect();
    assert_eq!(
        described, expected,
        "the {name} contract's versions, oldest first"
    );
    contract
}

/// The newest generally available (not pre-release) version of [`contract_versions`].
pub fn newest_generally_available(versions: &[ContractVersion]) -> &ContractVersion {
    versions
        .iter()
        .rev()
        .find(|version| !version.beta)
        .expect("the contract has a generally available version")
}

/// A version the contract does not hold, spelled as HubSpot spells versions.
pub fn a_version_not_in(versions: &[ContractVersion]) -> &'static str {
    let absent = ["2019-01", "v2", "1999-12"]
        .into_iter()
        .find(|candidate| versions.iter().all(|v| v.version != *candidate));
    absent.expect("one of the candidates is not in the contract")
}
