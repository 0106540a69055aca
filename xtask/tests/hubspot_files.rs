//! `cargo xtask regen --from` on every kind of file HubSpot publishes (projects and generic
//! objects, `v3` and dated, a beta, OAuth), end to end: the xtask binary imports each fixture into
//! a scratch copy of the workspace (found through `CARGO_MANIFEST_DIR`, as `cargo run` passes it),
//! regenerates, and `--check` then finds everything fresh; none of the fixture's wording reaches
//! the contract. A file that changes a schema other versions share is refused, and applied with
//! `--replace-shared`. Every generated client is then
//! compiled, once, as a module of one scratch crate whose program prints each module's
//! descriptors: the generated paths and versions are checked from compiled code.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A scratch workspace with the files regen reads and writes.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for folder in ["openapi", "crates/api/spec", "crates/api/snapshot"] {
        std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        for entry in std::fs::read_dir(workspace().join(folder)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(
                entry.path(),
                dir.path().join(folder).join(entry.file_name()),
            )
            .unwrap();
        }
    }
    std::fs::create_dir_all(dir.path().join("xtask")).unwrap();
    dir
}

/// Runs the xtask binary in `root`, as `cargo run` would from that checkout.
fn xtask(root: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("CARGO_MANIFEST_DIR", root.join("xtask"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

struct Case {
    fixture: &'static str,
    contract: &'static str,
    operation: &'static str,
    version: &'static str,
    path: &'static str,
    method_name: &'static str,
    beta: bool,
}

const CASES: [Case; 6] = [
    Case {
        fixture: "projects-v3.json",
        contract: "projects",
        operation: "projects batch upsert",
        version: "v3",
        path: "/crm/objects/v3/projects/batch/upsert",
        method_name: "batch_upsert_v3",
        beta: false,
    },
    Case {
        fixture: "projects-2026-03.json",
        contract: "projects",
        operation: "projects batch upsert",
        version: "2026-03",
        path: "/crm/objects/2026-03/projects/batch/upsert",
        method_name: "batch_upsert_2026_03",
        beta: false,
    },
    Case {
        fixture: "objects-v3.json",
        contract: "projects",
        operation: "projects batch upsert",
        version: "v3",
        path: "/crm/objects/v3/projects/batch/upsert",
        method_name: "batch_upsert_v3",
        beta: false,
    },
    Case {
        fixture: "objects-2026-09.json",
        contract: "projects",
        operation: "projects batch upsert",
        version: "2026-09",
        path: "/crm/objects/2026-09/projects/batch/upsert",
        method_name: "batch_upsert_2026_09",
        beta: false,
    },
    Case {
        fixture: "projects-2026-09-beta.json",
        contract: "projects",
        operation: "projects batch upsert",
        version: "2026-09-beta",
        path: "/crm/objects/2026-09-beta/projects/batch/upsert",
        method_name: "batch_upsert_2026_09_beta",
        beta: true,
    },
    Case {
        fixture: "oauth-v1.json",
        contract: "oauth",
        operation: "OAuth token request",
        version: "v1",
        path: "/oauth/v1/token",
        method_name: "token_v1",
        beta: false,
    },
];

/// The line of an import in regen's output.
fn import_line(case: &Case) -> String {
    format!(
        "importing the {} version {} into openapi/{}.json: `{}`",
        case.operation, case.version, case.contract, case.path
    )
}

/// The `[dependencies]` lines of the workspace for `names`, as the root manifest spells them,
/// so that the scratch crate builds the generated code against the same crates.
fn workspace_dependencies(names: &[&str]) -> String {
    let manifest = std::fs::read_to_string(workspace().join("Cargo.toml")).unwrap();
    names
        .iter()
        .map(|name| {
            manifest
                .lines()
                .find(|line| line.starts_with(&format!("{name} = ")))
                .unwrap_or_else(|| panic!("the workspace declares no {name}"))
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Compiles every generated module in one scratch crate and returns what its program prints:
/// one line per descriptor, `module method_name path version beta`.
fn compile_and_list(modules: &[(String, String, &str)]) -> String {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated-clients");
    let src = root.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let api_src = workspace().join("crates/api/src");
    let mut main = String::from(
        "//! Every generated client of the regen test, compiled together.\n#![allow(dead_code, unused)]\n\n",
    );
    for (file, name) in [
        ("operation.rs", "operation"),
        ("status.rs", "status"),
        ("http.rs", "http"),
    ] {
        main.push_str(&format!(
            "#[path = {:?}]\nmod {name};\n",
            api_src.join(file).display().to_string()
        ));
    }
    main.push_str("pub use operation::Operation;\npub use status::BatchStatus;\n\n");
    let mut calls = String::new();
    for (module, code, group) in modules {
        std::fs::write(src.join(format!("{module}.rs")), code).unwrap();
        main.push_str(&format!("mod {module};\n"));
        calls.push_str(&format!(
            "    for op in {module}::operations::{group} {{ println!(\"{module} {{}} {{}} {{}} {{}}\", op.method_name, op.path, op.version, op.beta); }}\n"
        ));
    }
    main.push_str(&format!("\nfn main() {{\n{calls}}}\n"));
    std::fs::write(src.join("main.rs"), main).unwrap();
    let manifest = format!(
        "[package]\nname = \"generated-clients\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n{}\n",
        workspace_dependencies(&[
            "progenitor-client",
            "reqwest",
            "serde",
            "serde_json",
            "chrono",
            "uuid",
            "rustls",
            "webpki-roots",
            "thiserror"
        ])
    );
    std::fs::write(root.join("Cargo.toml"), manifest).unwrap();
    // The same versions as the workspace, without asking the registry.
    std::fs::copy(workspace().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("target"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the generated code does not compile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_kind_of_hubspot_file_imports_regenerates_and_compiles() {
    let mut modules = Vec::new();
    for case in &CASES {
        let dir = scratch();
        let fixture = workspace()
            .join("crates/codegen/tests/fixtures")
            .join(case.fixture);
        let (ok, out) = xtask(dir.path(), &["regen", "--from", fixture.to_str().unwrap()]);
        assert!(ok, "{}: {out}", case.fixture);
        assert!(out.contains(&import_line(case)), "{}: {out}", case.fixture);
        let (ok, out) = xtask(dir.path(), &["regen", "--check"]);
        assert!(ok, "{}: not fresh after the import: {out}", case.fixture);
        // The fixtures' descriptions are all "Fixture wording": none may reach the contract.
        let spec =
            std::fs::read_to_string(dir.path().join(format!("openapi/{}.json", case.contract)))
                .unwrap();
        assert!(!spec.contains("Fixture"), "{}: {spec}", case.fixture);

        let code = std::fs::read_to_string(
            dir.path()
                .join(format!("crates/api/snapshot/{}.rs", case.contract)),
        )
        .unwrap();
        let module = case.fixture.trim_end_matches(".json").replace('-', "_");
        let group = if case.contract == "oauth" {
            "TOKEN"
        } else {
            "BATCH_UPSERT"
        };
        modules.push((module, code, group));
    }

    let listing = compile_and_list(&modules);
    let lines: BTreeSet<&str> = listing.lines().collect();
    for case in &CASES {
        let module = case.fixture.trim_end_matches(".json").replace('-', "_");
        let expected = format!(
            "{module} {} {} {} {}",
            case.method_name, case.path, case.version, case.beta
        );
        assert!(
            lines.contains(expected.as_str()),
            "{expected} in\n{listing}"
        );
        // The versions the file does not carry are still there.
        let others: &[&str] = if case.contract == "oauth" {
            &["token_v3", "token_2026_03"]
        } else {
            &[
                "batch_upsert_v3",
                "batch_upsert_2026_03",
                "batch_upsert_2026_09",
            ]
        };
        for other in others {
            assert!(
                lines
                    .iter()
                    .any(|l| l.starts_with(&format!("{module} {other} "))),
                "{module} lost {other}:\n{listing}"
            );
        }
    }
}

#[test]
fn a_file_hubspot_left_incomplete_is_refused_and_nothing_is_written() {
    let dir = scratch();
    let before = std::fs::read_to_string(dir.path().join("openapi/oauth.json")).unwrap();
    let mut spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workspace().join("crates/codegen/tests/fixtures/oauth-v1.json"))
            .unwrap(),
    )
    .unwrap();
    // As HubSpot's first 2026-09 OAuth file: the token operation without a success answer.
    let text = spec.to_string().replace("/oauth/v1/", "/oauth/2026-09/");
    spec = serde_json::from_str(&text).unwrap();
    spec["paths"]["/oauth/2026-09/token"]["post"]["responses"]
        .as_object_mut()
        .unwrap()
        .remove("200");
    let file = dir.path().join("oauth-2026-09.json");
    std::fs::write(&file, spec.to_string()).unwrap();
    let (ok, out) = xtask(dir.path(), &["regen", "--from", file.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(out.contains("version 2026-09"), "{out}");
    assert!(out.contains("Nothing was written"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("openapi/oauth.json")).unwrap(),
        before
    );
}

/// The files regen writes, as they are in `root`.
fn written(root: &Path) -> Vec<(String, String)> {
    ["openapi", "crates/api/spec", "crates/api/snapshot"]
        .iter()
        .flat_map(|folder| {
            std::fs::read_dir(root.join(folder))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect::<Vec<_>>()
        })
        .map(|path| {
            (
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_file_that_changes_a_schema_other_versions_share_is_refused_unless_replace_shared() {
    // As HubSpot's current generic objects 2026-09 file: records without `warnings` (which the
    // emulator sets) and the 200 answer with `errors` and `numErrors`. v3 and 2026-03 share both.
    let dir = scratch();
    let before = written(dir.path());
    let fixture =
        workspace().join("crates/codegen/tests/fixtures/objects-2026-09-shared-changed.json");
    let fixture = fixture.to_str().unwrap();
    let (ok, out) = xtask(dir.path(), &["regen", "--from", fixture]);
    assert!(!ok, "{out}");
    for expected in [
        "schemas/SimplePublicUpsertObject (shared with v3, 2026-03): fields removed: warnings",
        "schemas/BatchResponseSimplePublicUpsertObject (shared with v3, 2026-03): fields added: \
         errors, numErrors",
        "Nothing was written",
        "re-run with `--replace-shared`",
    ] {
        assert!(out.contains(expected), "{expected} in {out}");
    }
    assert!(
        written(dir.path()) == before,
        "the refused import wrote something"
    );

    let (ok, out) = xtask(
        dir.path(),
        &["regen", "--from", fixture, "--replace-shared"],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains("note: schemas/SimplePublicUpsertObject differs from the contract's"),
        "{out}"
    );
    assert!(
        out.contains("+++ b/crates/api/snapshot/projects.rs"),
        "{out}"
    );
    let spec = std::fs::read_to_string(dir.path().join("openapi/projects.json")).unwrap();
    assert!(!spec.contains("\"warnings\""), "{spec}");
    assert!(!spec.contains("Fixture"), "{spec}");
    let (ok, out) = xtask(dir.path(), &["regen", "--check"]);
    assert!(ok, "not fresh after the import: {out}");
}

#[test]
fn regen_help_describes_replace_shared_and_our_own_descriptions() {
    let dir = scratch();
    let (ok, out) = xtask(dir.path(), &["regen", "--help"]);
    assert!(ok, "{out}");
    assert!(out.contains("--replace-shared"), "{out}");
    assert!(out.contains("keeps its own descriptions"), "{out}");
    // The flag only makes sense with an import.
    let (ok, out) = xtask(dir.path(), &["regen", "--replace-shared"]);
    assert!(!ok, "{out}");
    assert!(out.contains("--from"), "{out}");
}
