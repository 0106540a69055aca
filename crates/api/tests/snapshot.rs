//! The committed snapshots and the packaged specs must match what the build really compiles.

const GENERATED: [(&str, &str, &str); 2] = [
    (
        "projects",
        include_str!(concat!(env!("OUT_DIR"), "/projects.rs")),
        include_str!("../snapshot/projects.rs"),
    ),
    (
        "oauth",
        include_str!(concat!(env!("OUT_DIR"), "/oauth.rs")),
        include_str!("../snapshot/oauth.rs"),
    ),
];

#[test]
fn each_snapshot_is_what_build_rs_generated() {
    for (name, generated, snapshot) in GENERATED {
        assert!(
            generated == snapshot,
            "crates/api/snapshot/{name}.rs is stale: run `cargo xtask regen` and commit the result"
        );
    }
}

#[test]
fn each_packaged_spec_is_its_contract() {
    for (name, packaged) in [
        ("projects", hubspot_projects_api::SPEC_JSON),
        ("oauth", hubspot_projects_api::OAUTH_SPEC_JSON),
    ] {
        let contract = format!("{}/../../openapi/{name}.json", env!("CARGO_MANIFEST_DIR"));
        // Outside the workspace (a packaged crate) only the packaged copy exists.
        if let Ok(text) = std::fs::read_to_string(&contract) {
            assert!(
                text == packaged,
                "crates/api/spec/{name}.json differs from openapi/{name}.json: run `cargo xtask regen`"
            );
        }
    }
    for operation in hubspot_projects_api::operations::BATCH_UPSERT {
        assert!(hubspot_projects_api::SPEC_JSON.contains(operation.path));
    }
    for operation in hubspot_projects_api::operations::OAUTH_TOKEN {
        assert!(hubspot_projects_api::OAUTH_SPEC_JSON.contains(operation.path));
    }
}
