//! `regen --from`: importing HubSpot-shaped upstream files.

use hubspot_projects_codegen::import::{CONTRACT_PATH, ImportError, extract_batch_upsert};
use hubspot_projects_codegen::{canonical_json, generate};
use serde_json::Value;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn contract() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/projects.json"
    ))
    .expect("the contract is readable")
}

fn schema_names(spec: &Value) -> Vec<String> {
    spec["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn a_whole_projects_spec_yields_exactly_the_operation_and_what_it_references() {
    let imported = extract_batch_upsert(&fixture("upstream-projects.json")).unwrap();
    let paths: Vec<_> = imported["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(paths, [CONTRACT_PATH]);
    let contract: Value = serde_json::from_str(&contract()).unwrap();
    assert_eq!(schema_names(&imported), schema_names(&contract));
    assert!(!canonical_json(&imported).contains("\"example\": null"));
    // Every OR-ed security requirement is kept, with the schemes it names and no others.
    let security = imported["paths"][CONTRACT_PATH]["post"]["security"]
        .as_array()
        .unwrap();
    assert_eq!(security.len(), 4);
    let schemes: Vec<_> = imported["components"]["securitySchemes"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(schemes, ["oauth2", "private_apps"]);
    assert_eq!(imported["tags"], serde_json::json!([{ "name": "Batch" }]));
}

#[test]
fn importing_hubspots_shape_generates_the_same_code_as_the_contract() {
    let imported =
        canonical_json(&extract_batch_upsert(&fixture("upstream-projects.json")).unwrap());
    assert_eq!(generate(&imported).unwrap(), generate(&contract()).unwrap());
}

#[test]
fn the_generic_objects_api_becomes_the_projects_path() {
    let imported = extract_batch_upsert(&fixture("upstream-objects.json")).unwrap();
    let op = &imported["paths"][CONTRACT_PATH]["post"];
    assert!(
        op.get("parameters").is_none(),
        "objectType must be gone: {op}"
    );
    let code = generate(&canonical_json(&imported)).unwrap();
    assert!(code.contains("pub async fn batch_upsert"));
    assert!(code.contains("/crm/objects/v3/projects/batch/upsert"));
}

#[test]
fn a_date_versioned_path_is_found_and_kept() {
    let text = fixture("upstream-projects.json")
        .replace("/crm/objects/v3/projects", "/crm/objects/2026-03/projects");
    let imported = extract_batch_upsert(&text).unwrap();
    assert!(
        imported["paths"]
            .get("/crm/objects/2026-03/projects/batch/upsert")
            .is_some()
    );
    let code = generate(&canonical_json(&imported)).unwrap();
    assert!(
        code.contains(
            r#"pub const BATCH_UPSERT: &str = "/crm/objects/2026-03/projects/batch/upsert";"#
        ),
        "the path constant follows the spec"
    );
    assert!(
        generate(&canonical_json(&imported))
            .unwrap()
            .contains("pub async fn batch_upsert")
    );
}

#[test]
fn bad_files_are_refused_with_a_clear_error() {
    assert!(matches!(
        extract_batch_upsert("openapi: 3.0.1\n"),
        Err(ImportError::NotJson(_))
    ));
    let v31 = fixture("upstream-projects.json").replacen("\"3.0.1\"", "\"3.1.0\"", 1);
    let err = extract_batch_upsert(&v31).unwrap_err();
    assert!(matches!(err, ImportError::NotOpenApi30(_)), "{err}");
    assert!(err.to_string().contains("3.1.0"), "{err}");
    let without = fixture("upstream-projects.json").replace("/batch/upsert", "/batch/upsert-old");
    let err = extract_batch_upsert(&without).unwrap_err();
    assert!(matches!(err, ImportError::MissingOperation { .. }), "{err}");
    assert!(err.to_string().contains(CONTRACT_PATH), "{err}");
}

#[test]
fn a_dangling_reference_is_named() {
    let text = fixture("upstream-projects.json").replace(
        "\"#/components/schemas/ValueWithTimestamp\"",
        "\"#/components/schemas/Missing\"",
    );
    let err = extract_batch_upsert(&text).unwrap_err();
    assert!(
        err.to_string().contains("#/components/schemas/Missing"),
        "{err}"
    );
}
