//! `regen --from`: importing files in the layout HubSpot publishes, into the contracts.
//!
//! The fixtures are small files of our own in HubSpot's current layout (projects and generic
//! objects, `v3` and dated, a beta, OAuth `v1`), each with operations an import must leave out,
//! and a generic objects `2026-09` file whose batch upsert answer changed as HubSpot's did (the
//! 200 answer with the errors, no 207, records without warnings). Their descriptions are all
//! "Fixture wording", which must never reach a contract.

use hubspot_projects_codegen::contract::{Contract, OAUTH, PROJECTS};
use hubspot_projects_codegen::import::{
    Import, ImportError, SharedChange, SharedComponents, read_upstream,
};
use hubspot_projects_codegen::{canonical_json, generate};
use proc_macro2::{TokenStream, TokenTree};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn contract_text(contract: &Contract) -> String {
    let path = format!(
        "{}/../../{}",
        env!("CARGO_MANIFEST_DIR"),
        contract.spec_file()
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn contract(contract: &Contract) -> Value {
    serde_json::from_str(&contract_text(contract)).unwrap()
}

fn import(name: &str) -> Import {
    let upstream = read_upstream(&fixture(name)).unwrap();
    let current = contract(upstream.contract);
    upstream
        .merge_into(Some(&current), SharedComponents::Refuse)
        .unwrap()
}

/// Every fixture, and how to import it.
const FIXTURES: [(&str, SharedComponents); 7] = [
    ("projects-v3.json", SharedComponents::Refuse),
    ("projects-2026-03.json", SharedComponents::Refuse),
    ("projects-2026-09-beta.json", SharedComponents::Refuse),
    ("objects-v3.json", SharedComponents::Refuse),
    ("objects-2026-09.json", SharedComponents::Refuse),
    (
        "objects-2026-09-shared-changed.json",
        SharedComponents::Replace,
    ),
    ("oauth-v1.json", SharedComponents::Refuse),
];

/// The descriptions, summaries and titles of a document, wherever they are.
fn texts(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("description" | "summary" | "title", Value::String(text)) => {
                        out.push(text.clone())
                    }
                    _ => texts(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
        _ => {}
    }
}

fn paths(spec: &Value) -> Vec<String> {
    spec["paths"].as_object().unwrap().keys().cloned().collect()
}

fn keys(value: &Value) -> Vec<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// The generated code with its doc comments left out: the public API (names, types,
/// signatures, descriptors) and everything else that compiles.
fn without_docs(code: &str) -> String {
    fn strip(stream: TokenStream) -> TokenStream {
        let mut out = Vec::new();
        let mut tokens = stream.into_iter().peekable();
        while let Some(token) = tokens.next() {
            if let TokenTree::Punct(p) = &token
                && p.as_char() == '#'
            {
                let mut attribute = vec![token.clone()];
                if let Some(TokenTree::Punct(bang)) = tokens.peek()
                    && bang.as_char() == '!'
                {
                    attribute.push(tokens.next().unwrap());
                }
                if let Some(TokenTree::Group(group)) = tokens.peek() {
                    let is_doc = matches!(group.stream().into_iter().next(),
                        Some(TokenTree::Ident(ident)) if ident == "doc");
                    let group = tokens.next().unwrap();
                    if !is_doc {
                        out.extend(attribute);
                        out.push(group);
                    }
                    continue;
                }
                out.extend(attribute);
                continue;
            }
            match token {
                TokenTree::Group(group) => {
                    let mut inner =
                        proc_macro2::Group::new(group.delimiter(), strip(group.stream()));
                    inner.set_span(group.span());
                    out.push(TokenTree::Group(inner));
                }
                other => out.push(other),
            }
        }
        out.into_iter().collect()
    }
    let file: syn::File = syn::parse_str(code).unwrap();
    strip(quote::ToTokens::to_token_stream(&file)).to_string()
}

#[test]
fn importing_hubspots_current_v3_layout_leaves_the_public_api_unchanged() {
    let imported = import("projects-v3.json");
    let before = generate(&PROJECTS, &contract_text(&PROJECTS)).unwrap();
    let after = generate(&PROJECTS, &canonical_json(&imported.spec)).unwrap();
    assert_eq!(without_docs(&before), without_docs(&after));
    // The contract keeps its own descriptions: the doc comments do not change either.
    assert_eq!(before, after);
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    // The check itself sees a change of API.
    let renamed =
        contract_text(&PROJECTS).replace("PublicObjectWarning", "SimplePublicObjectWarning");
    let older = generate(&PROJECTS, &renamed).unwrap();
    assert_ne!(without_docs(&before), without_docs(&older));
}

#[test]
fn an_import_replaces_its_version_and_keeps_the_others() {
    let imported = import("projects-2026-03.json");
    assert_eq!(paths(&imported.spec), paths(&contract(&PROJECTS)));
    let versions: Vec<_> = imported
        .versions
        .iter()
        .map(|s| s.version.to_string())
        .collect();
    assert_eq!(versions, ["2026-03"]);
    // The replaced operation keeps the contract's texts; the file's never arrive.
    let op = &imported.spec["paths"]["/crm/objects/2026-03/projects/batch/upsert"]["post"];
    let before =
        &contract(&PROJECTS)["paths"]["/crm/objects/2026-03/projects/batch/upsert"]["post"];
    assert_eq!(op["description"], before["description"]);
    assert_eq!(op["summary"], before["summary"]);
    assert_eq!(
        op["responses"]["200"]["description"],
        "Every input was written."
    );
    assert!(
        !canonical_json(&imported.spec).contains("Fixture wording: create or update"),
        "the file's description was copied"
    );
    let untouched = &imported.spec["paths"]["/crm/objects/v3/projects/batch/upsert"]["post"];
    assert_eq!(
        untouched,
        &contract(&PROJECTS)["paths"]["/crm/objects/v3/projects/batch/upsert"]["post"]
    );
    // Exactly what the operations reference: not the schemas of the other operations, and only
    // the security schemes they require.
    let schemas = keys(&imported.spec["components"]["schemas"]);
    assert_eq!(schemas, keys(&contract(&PROJECTS)["components"]["schemas"]));
    assert_eq!(
        keys(&imported.spec["components"]["securitySchemes"]),
        ["oauth2"]
    );
    assert_eq!(imported.spec["tags"], json!([{ "name": "Batch" }]));
    assert_eq!(
        imported.spec["info"]["version"], "2026-09",
        "the newest GA version"
    );
    assert!(!canonical_json(&imported.spec).contains("\"example\": null"));
}

#[test]
fn the_generic_objects_api_becomes_the_projects_path_of_its_version() {
    for (name, version) in [
        ("objects-v3.json", "v3"),
        ("objects-2026-09.json", "2026-09"),
    ] {
        let imported = import(name);
        let path = format!("/crm/objects/{version}/projects/batch/upsert");
        assert_eq!(imported.versions[0].path, path, "{name}");
        assert!(imported.versions[0].generic, "{name}");
        let op = &imported.spec["paths"][&path]["post"];
        assert_eq!(op["parameters"], json!([]), "objectType must be gone: {op}");
        assert_eq!(op["operationId"], format!("post-{path}"), "{name}");
        assert!(
            paths(&imported.spec)
                .iter()
                .all(|p| !p.contains("{objectType}")),
            "{name}"
        );
        // HubSpot's generic files OR many scopes; all of them stay, with their scheme.
        assert_eq!(op["security"].as_array().unwrap().len(), 5, "{name}");
        let code = generate(&PROJECTS, &canonical_json(&imported.spec)).unwrap();
        let method = format!("pub async fn batch_upsert_{}", version.replace('-', "_"));
        assert!(code.contains(&method), "{name}");
        assert!(code.contains(&format!("path: \"{path}\"")), "{name}");
    }
}

#[test]
fn a_beta_is_added_beside_the_generally_available_versions() {
    let imported = import("projects-2026-09-beta.json");
    let mut expected = paths(&contract(&PROJECTS));
    expected.push("/crm/objects/2026-09-beta/projects/batch/upsert".to_string());
    expected.sort();
    assert_eq!(paths(&imported.spec), expected);
    assert_eq!(
        imported.spec["info"]["version"], "2026-09",
        "a beta is never the newest"
    );
    let code = generate(&PROJECTS, &canonical_json(&imported.spec)).unwrap();
    assert!(code.contains("pub async fn batch_upsert_2026_09_beta"));
    assert!(
        code.contains("version: \"2026-09-beta\",\n            beta: true,"),
        "{code}"
    );
    // A new operation has no texts of the file's: no summary, no description, and answers
    // described by their status only.
    let op = &imported.spec["paths"]["/crm/objects/2026-09-beta/projects/batch/upsert"]["post"];
    assert!(op.get("summary").is_none(), "{op}");
    assert!(op.get("description").is_none(), "{op}");
    assert_eq!(op["responses"]["200"]["description"], "The 200 answer.");
    assert_eq!(op["responses"]["207"]["description"], "The 207 answer.");
    assert_eq!(
        op["responses"]["default"],
        json!({ "$ref": "#/components/responses/Error" })
    );
}

#[test]
fn no_text_of_the_file_reaches_the_contract() {
    for (name, shared) in FIXTURES {
        let upstream = read_upstream(&fixture(name)).unwrap();
        let current = contract(upstream.contract);
        let imported = upstream.merge_into(Some(&current), shared).unwrap();
        let mut ours = Vec::new();
        texts(&current, &mut ours);
        // Ours, made from a response's status or name.
        let neutral = |text: &str| {
            text == "Any other answer." || (text.starts_with("The ") && text.ends_with(" answer."))
        };
        let mut after = Vec::new();
        texts(&imported.spec, &mut after);
        for text in after {
            assert!(
                ours.contains(&text) || neutral(&text),
                "{name}: {text:?} is not the contract's"
            );
        }
        let text = canonical_json(&imported.spec);
        assert!(!text.contains("Fixture"), "{name}: {text}");
        // Nor does the file's wording reach a contract started from the file.
        let started = read_upstream(&fixture(name))
            .unwrap()
            .merge_into(None, shared)
            .unwrap();
        let mut texts_of_started = Vec::new();
        texts(&started.spec, &mut texts_of_started);
        for text in texts_of_started {
            assert!(
                neutral(&text)
                    || text == "HubSpot projects batch upsert"
                    || text == "HubSpot OAuth token request",
                "{name}: {text:?} in a new contract"
            );
        }
    }
}

#[test]
fn the_oauth_v1_file_goes_into_the_oauth_contract() {
    let upstream = read_upstream(&fixture("oauth-v1.json")).unwrap();
    assert_eq!(upstream.contract.name, OAUTH.name);
    let imported = upstream
        .merge_into(Some(&contract(&OAUTH)), SharedComponents::Refuse)
        .unwrap();
    assert_eq!(paths(&imported.spec), paths(&contract(&OAUTH)));
    let schemas = keys(&imported.spec["components"]["schemas"]);
    assert!(
        !schemas.contains(&"AccessTokenInfoResponse".to_string()),
        "{schemas:?}"
    );
    let before = generate(&OAUTH, &contract_text(&OAUTH)).unwrap();
    let after = generate(&OAUTH, &canonical_json(&imported.spec)).unwrap();
    // The query parameters that repeat form fields never reach the generated method.
    assert!(after.contains("pub async fn token_v1<'a>(\n        &'a self,\n        body: &'a types::TokenRequest,\n    )"), "{after}");
    assert!(after.contains(".form_urlencoded(&body)?"));
    assert_eq!(without_docs(&before), without_docs(&after));
    assert_eq!(before, after, "the contract keeps its own descriptions");
}

#[test]
fn a_file_without_a_success_answer_is_refused() {
    let mut spec: Value = serde_json::from_str(&fixture("oauth-v1.json")).unwrap();
    spec["paths"]["/oauth/v1/token"]["post"]["responses"]
        .as_object_mut()
        .unwrap()
        .remove("200");
    let err = read_upstream(&spec.to_string())
        .unwrap()
        .merge_into(Some(&contract(&OAUTH)), SharedComponents::Refuse)
        .unwrap_err();
    assert!(matches!(err, ImportError::NoSuccessAnswer { .. }), "{err}");
    assert!(err.to_string().contains("version v1"), "{err}");
}

#[test]
fn a_shared_schema_that_changes_is_refused_naming_the_versions_that_share_it() {
    // As HubSpot's current generic objects 2026-09 file: records without `warnings`, the 200
    // answer with `errors` and `numErrors`. v3 and 2026-03 use both schemas too.
    let current = contract(&PROJECTS);
    let upstream = read_upstream(&fixture("objects-2026-09-shared-changed.json")).unwrap();
    let err = upstream
        .merge_into(Some(&current), SharedComponents::Refuse)
        .unwrap_err();
    let ImportError::SharedComponentsDiffer(changes) = &err else {
        panic!("{err}");
    };
    assert_eq!(
        changes,
        &[
            SharedChange {
                component: "schemas/BatchResponseSimplePublicUpsertObject".to_string(),
                shared_with: vec!["v3".to_string(), "2026-03".to_string()],
                difference: "fields added: errors, numErrors".to_string(),
            },
            SharedChange {
                component: "schemas/SimplePublicUpsertObject".to_string(),
                shared_with: vec!["v3".to_string(), "2026-03".to_string()],
                difference: "fields removed: warnings".to_string(),
            },
        ]
    );
    let message = err.to_string();
    assert!(
        message.contains(
            "schemas/SimplePublicUpsertObject (shared with v3, 2026-03): fields removed: warnings"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "schemas/BatchResponseSimplePublicUpsertObject (shared with v3, 2026-03): fields \
             added: errors, numErrors"
        ),
        "{message}"
    );

    // Asked to, the import applies the file's definitions to every version, and says so.
    let imported = upstream
        .merge_into(Some(&current), SharedComponents::Replace)
        .unwrap();
    let schemas = &imported.spec["components"]["schemas"];
    assert!(
        schemas["SimplePublicUpsertObject"]["properties"]
            .get("warnings")
            .is_none()
    );
    assert!(
        schemas.get("PublicObjectWarning").is_none(),
        "no longer used"
    );
    let answer = &schemas["BatchResponseSimplePublicUpsertObject"]["properties"];
    assert_eq!(
        answer["numErrors"],
        json!({ "format": "int32", "type": "integer" }),
        "a new field has no description of the file's"
    );
    assert_eq!(
        answer["completedAt"]["description"],
        current["components"]["schemas"]["BatchResponseSimplePublicUpsertObject"]["properties"]["completedAt"]
            ["description"]
    );
    assert_eq!(imported.notes.len(), 2, "{:?}", imported.notes);
    assert!(
        imported.notes[1].contains("schemas/SimplePublicUpsertObject")
            && imported.notes[1].contains("fields removed: warnings")
            && imported.notes[1].contains("v3, 2026-03"),
        "{:?}",
        imported.notes
    );
    // v3 and 2026-03 keep their operations, with their 207 answers.
    for version in ["v3", "2026-03"] {
        let path = format!("/crm/objects/{version}/projects/batch/upsert");
        assert_eq!(
            imported.spec["paths"][&path], current["paths"][&path],
            "{version}"
        );
    }
    generate(&PROJECTS, &canonical_json(&imported.spec)).unwrap();
}

#[test]
fn a_change_of_required_fields_is_named_too() {
    let mut spec: Value = serde_json::from_str(&fixture("projects-2026-03.json")).unwrap();
    spec["components"]["schemas"]["SimplePublicUpsertObject"]["required"] = json!([
        "archived",
        "createdAt",
        "id",
        "properties",
        "updatedAt",
        "url"
    ]);
    let err = read_upstream(&spec.to_string())
        .unwrap()
        .merge_into(Some(&contract(&PROJECTS)), SharedComponents::Refuse)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(
            "schemas/SimplePublicUpsertObject (shared with v3, 2026-09): now required: url; no \
             longer required: new"
        ),
        "{message}"
    );
}

#[test]
fn a_schema_only_the_imported_version_uses_is_replaced_without_asking() {
    // The contract as it would be if v3 and 2026-09 answered with a schema of their own.
    let mut current = contract(&PROJECTS);
    let own = current["components"]["schemas"]["BatchResponseSimplePublicUpsertObject"].clone();
    current["components"]["schemas"]["BatchResponseOfTheOthers"] = own;
    for version in ["v3", "2026-09"] {
        let path = format!("/crm/objects/{version}/projects/batch/upsert");
        current["paths"][&path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["$ref"] = json!("#/components/schemas/BatchResponseOfTheOthers");
    }
    let mut spec: Value = serde_json::from_str(&fixture("projects-2026-03.json")).unwrap();
    spec["components"]["schemas"]["BatchResponseSimplePublicUpsertObject"]["properties"]["numErrors"] =
        json!({ "type": "integer", "format": "int32", "description": "Fixture." });
    let imported = read_upstream(&spec.to_string())
        .unwrap()
        .merge_into(Some(&current), SharedComponents::Refuse)
        .unwrap();
    assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    let schemas = &imported.spec["components"]["schemas"];
    assert_eq!(
        schemas["BatchResponseSimplePublicUpsertObject"]["properties"]["numErrors"],
        json!({ "type": "integer", "format": "int32" })
    );
    assert_eq!(
        schemas["BatchResponseOfTheOthers"],
        current["components"]["schemas"]["BatchResponseOfTheOthers"]
    );
}

#[test]
fn bad_files_are_refused_with_a_clear_error() {
    assert!(matches!(
        read_upstream("openapi: 3.0.1\n"),
        Err(ImportError::NotJson(_))
    ));
    let v31 = fixture("projects-v3.json").replacen("\"3.0.1\"", "\"3.1.0\"", 1);
    let err = read_upstream(&v31).unwrap_err();
    assert!(matches!(err, ImportError::NotOpenApi30(_)), "{err}");
    assert!(err.to_string().contains("3.1.0"), "{err}");
    let without = fixture("projects-v3.json").replace("/batch/upsert", "/batch/upsert-old");
    let err = read_upstream(&without).unwrap_err();
    assert!(matches!(err, ImportError::MissingOperation { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("POST /crm/objects/<version>/projects/batch/upsert"),
        "{message}"
    );
    assert!(message.contains("POST /oauth/<version>/token"), "{message}");
}

#[test]
fn a_dangling_reference_is_named() {
    let text = fixture("projects-v3.json").replace(
        "\"#/components/schemas/ValueWithTimestamp\"",
        "\"#/components/schemas/Missing\"",
    );
    let err = read_upstream(&text)
        .unwrap()
        .merge_into(Some(&contract(&PROJECTS)), SharedComponents::Refuse)
        .unwrap_err();
    assert!(
        err.to_string().contains("#/components/schemas/Missing"),
        "{err}"
    );
}

#[test]
fn an_import_without_a_contract_starts_one() {
    let imported = read_upstream(&fixture("projects-v3.json"))
        .unwrap()
        .merge_into(None, SharedComponents::Refuse)
        .unwrap();
    assert_eq!(
        paths(&imported.spec),
        ["/crm/objects/v3/projects/batch/upsert"]
    );
    assert_eq!(imported.spec["info"]["version"], "v3");
    // A title of our own, and none of the file's descriptions.
    assert_eq!(
        imported.spec["info"],
        json!({ "title": "HubSpot projects batch upsert", "version": "v3" })
    );
    let op = &imported.spec["paths"]["/crm/objects/v3/projects/batch/upsert"]["post"];
    assert!(op.get("description").is_none(), "{op}");
    assert_eq!(imported.spec["tags"], json!([{ "name": "Batch" }]));
    generate(&PROJECTS, &canonical_json(&imported.spec)).unwrap();
}

#[test]
fn enums_hubspot_may_add_to_answers_become_strings() {
    let mut spec = contract(&PROJECTS);
    let schemas = &mut spec["components"]["schemas"];
    schemas["StandardError"]["properties"]["category"]["enum"] = json!(["VALIDATION_ERROR"]);
    schemas["ErrorDetail"]["properties"]["code"]["enum"] = json!(["INVALID_EMAIL"]);
    let code = generate(&PROJECTS, &canonical_json(&spec)).unwrap();
    assert!(!code.contains("pub enum StandardErrorCategory"), "{code}");
    assert!(!code.contains("pub enum ErrorDetailCode"), "{code}");
    assert!(code.contains("Known values: `INVALID_EMAIL`"), "{code}");
}
