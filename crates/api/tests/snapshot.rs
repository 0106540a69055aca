//! The committed snapshot and the packaged spec must match what the build really compiles.

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/generated.rs"));
const SNAPSHOT: &str = include_str!("../snapshot/generated.rs");

#[test]
fn the_snapshot_is_what_build_rs_generated() {
    assert!(
        GENERATED == SNAPSHOT,
        "crates/api/snapshot/generated.rs is stale: run `cargo xtask regen` and commit the result"
    );
}

#[test]
fn the_packaged_spec_is_the_contract() {
    let contract = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/projects.json");
    // Outside the workspace (a packaged crate) only the packaged copy exists.
    if let Ok(text) = std::fs::read_to_string(contract) {
        assert!(
            text == hubspot_projects_api::SPEC_JSON,
            "crates/api/spec/projects.json differs from openapi/projects.json: run `cargo xtask regen`"
        );
    }
    assert!(hubspot_projects_api::SPEC_JSON.contains("/crm/objects/v3/projects/batch/upsert"));
}
