//! `cargo xtask regen [--check] [--from FILE [--replace-shared]]`: every contract under
//! `openapi/` → its packaged copy in the generated crate → the reviewed snapshot of the generated
//! code.

use hubspot_projects_codegen::contract::{CONTRACTS, Contract};
use hubspot_projects_codegen::import::{ImportError, SharedComponents, read_upstream};
use hubspot_projects_codegen::{canonical_json, generate};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `cargo xtask regen`.
#[derive(clap::Args)]
pub struct RegenArgs {
    /// Change nothing; fail with the diff when a contract, a packaged spec or a snapshot is stale.
    #[arg(long, conflicts_with = "from")]
    check: bool,
    /// Import a file HubSpot publishes (its projects, generic objects or OAuth spec, any version)
    /// into the contract it belongs to before regenerating; the contract keeps its own
    /// descriptions.
    ///
    /// Only the file's facts are taken (paths, names, types, required lists, enums, formats);
    /// the contract keeps its own descriptions, summaries and titles, and what is new gets none
    /// of HubSpot's prose. When the file changes a schema that versions it does not carry also
    /// use, the import is refused and nothing is written: see --replace-shared.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// With --from: apply the file's definition of a shared schema to every version that uses
    /// it.
    ///
    /// The versions of a contract share its schemas by name. Without this flag, an import that
    /// changes a schema other versions use is refused, with each schema, the versions that share
    /// it and the fields added or removed. With it, the change applies to every version that
    /// uses the schema; review the diff it prints.
    #[arg(long, requires = "from")]
    replace_shared: bool,
}

impl RegenArgs {
    fn shared(&self) -> SharedComponents {
        if self.replace_shared {
            SharedComponents::Replace
        } else {
            SharedComponents::Refuse
        }
    }
}

/// The files of one contract, relative to the workspace.
#[derive(Debug)]
pub struct ContractFiles {
    /// The contract.
    pub contract: &'static Contract,
    /// `openapi/<name>.json`: the contract, in HubSpot's shape.
    pub spec: String,
    /// `crates/api/spec/<name>.json`: the copy the generated crate builds from.
    pub packaged: String,
    /// `crates/api/snapshot/<name>.rs`: the generated code, for review.
    pub snapshot: String,
}

/// The files of every contract.
pub fn contract_files() -> Vec<ContractFiles> {
    CONTRACTS
        .into_iter()
        .map(|contract| ContractFiles {
            contract,
            spec: contract.spec_file(),
            packaged: format!("crates/api/spec/{}.json", contract.name),
            snapshot: format!("crates/api/snapshot/{}.rs", contract.name),
        })
        .collect()
}

/// The workspace this xtask acts on: the parent of the `CARGO_MANIFEST_DIR` that `cargo run`
/// passes at run time, so that a build shared by two checkouts acts on the one it was run from;
/// the compiled-in one otherwise.
pub fn workspace_root() -> PathBuf {
    workspace_root_from(std::env::var_os("CARGO_MANIFEST_DIR"))
}

/// The workspace above xtask's manifest directory `at_run_time`, or above the compiled-in one.
fn workspace_root_from(at_run_time: Option<std::ffi::OsString>) -> PathBuf {
    let manifest_dir = at_run_time
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or(manifest_dir)
}

fn read(root: &Path, relative: &str) -> Result<String, String> {
    match std::fs::read_to_string(root.join(relative)) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("cannot read {relative}: {e}")),
    }
}

fn write(root: &Path, relative: &str, text: &str) -> Result<(), String> {
    let path = root.join(relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, text).map_err(|e| format!("cannot write {relative}: {e}"))
}

/// A unified diff with `a/` and `b/` headers, or `None` when the texts are equal.
pub fn unified_diff(relative: &str, old: &str, new: &str) -> Option<String> {
    (old != new).then(|| {
        similar::TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(3)
            .header(&format!("a/{relative}"), &format!("b/{relative}"))
            .to_string()
    })
}

/// Runs the command; the exit code is 1 when `--check` finds stale files.
pub fn run(args: &RegenArgs) -> Result<ExitCode, String> {
    let fresh = regen(
        &workspace_root(),
        args.check,
        args.from.as_deref().map(|file| (file, args.shared())),
        &mut std::io::stdout(),
    )?;
    if !fresh && args.check {
        eprintln!("generated files are stale: run `cargo xtask regen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports `from` into the contract it belongs to; returns that contract's name and new text.
fn import(
    root: &Path,
    from: &Path,
    shared: SharedComponents,
    say: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<(&'static str, String), String> {
    let refuse =
        |e: &dyn std::fmt::Display| format!("{}: {e}. Nothing was written.", from.display());
    let text = std::fs::read_to_string(from)
        .map_err(|e| format!("cannot read {}: {e}. Nothing was written.", from.display()))?;
    let upstream = read_upstream(&text).map_err(|e| refuse(&e))?;
    let contract = upstream.contract;
    let relative = contract.spec_file();
    let current = read(root, &relative)?;
    let current: Option<Value> = match current.trim() {
        "" => None,
        text => Some(serde_json::from_str(text).map_err(|e| {
            format!(
                "{relative} is not JSON ({e}); restore it (`git checkout {relative}`) before \
                 importing. Nothing was written."
            )
        })?),
    };
    let imported = upstream
        .merge_into(current.as_ref(), shared)
        .map_err(|e| match e {
            ImportError::SharedComponentsDiffer(_) => format!(
                "{}: {e}\nNothing was written. To apply the file's definitions to every version \
                 that uses them, re-run with `--replace-shared` (`cargo xtask regen --from {} \
                 --replace-shared`) and review the diff.",
                from.display(),
                from.display()
            ),
            e => refuse(&e),
        })?;
    for spelling in &imported.versions {
        let from_path = if spelling.generic {
            format!(" (from `{}`)", spelling.upstream_path)
        } else {
            String::new()
        };
        say(&format!(
            "importing the {} version {} into {relative}: `{}`{from_path}\n",
            contract.operation, spelling.version, spelling.path
        ))?;
    }
    for note in &imported.notes {
        say(&format!("note: {note}\n"))?;
    }
    Ok((contract.name, canonical_json(&imported.spec)))
}

/// Regenerates under `root`, writing diffs and notes to `out`. Returns whether everything was
/// already up to date. With `check`, writes no file. With `from`, imports that file first, doing
/// as told with the schemas other versions share. Every contract is read, checked and generated
/// before anything is written, so a failure writes nothing.
pub fn regen(
    root: &Path,
    check: bool,
    from: Option<(&Path, SharedComponents)>,
    out: &mut dyn Write,
) -> Result<bool, String> {
    let mut say = |text: &str| {
        out.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write the output: {e}"))
    };
    let mut imported: BTreeMap<&str, String> = BTreeMap::new();
    if let Some((from, shared)) = from {
        let (name, text) = import(root, from, shared, &mut say)?;
        imported.insert(name, text);
    }

    // Everything each contract's files should hold, computed before anything is written.
    let mut wanted: Vec<(String, String)> = Vec::new();
    for files in contract_files() {
        let contract = files.contract;
        let relative = files.spec.as_str();
        let text = match imported.remove(contract.name) {
            Some(text) => text,
            None => read(root, relative)?,
        };
        if text.trim().is_empty() {
            return Err(format!(
                "{relative} is missing or empty: restore it (`git checkout {relative}`) or import \
                 HubSpot's file with `cargo xtask regen --from FILE`. Nothing was written."
            ));
        }
        let parsed: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{relative} is not JSON: {e}. Nothing was written."))?;
        if contract.versions_in(&parsed).is_empty() {
            return Err(format!(
                "{relative} has no {} (looked for {}): restore it (`git checkout {relative}`) or \
                 import HubSpot's file with `cargo xtask regen --from FILE`. Nothing was written.",
                contract.operation,
                contract.spellings_for_people()
            ));
        }
        // The contract itself is kept in canonical form, so that imports diff cleanly.
        let spec = canonical_json(&parsed);
        let code = generate(contract, &spec)
            .map_err(|e| format!("{relative}: {e}. Nothing was written."))?;
        wanted.push((files.spec.clone(), spec.clone()));
        wanted.push((files.packaged.clone(), spec));
        wanted.push((files.snapshot.clone(), code));
    }

    let mut fresh = true;
    for (relative, generated) in &wanted {
        let current = read(root, relative)?;
        match unified_diff(relative, &current, generated) {
            None => say(&format!("{relative} is up to date\n"))?,
            Some(diff) => {
                fresh = false;
                say(&diff)?;
                if !check {
                    write(root, relative, generated)?;
                    say(&format!("{relative} regenerated\n"))?;
                }
            }
        }
    }
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch copy of the files regen reads and writes.
    fn scratch() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for files in contract_files() {
            for relative in [&files.spec, &files.packaged, &files.snapshot] {
                let text = std::fs::read_to_string(workspace_root().join(relative)).unwrap();
                write(dir.path(), relative, &text).unwrap();
            }
        }
        dir
    }

    fn run_regen(root: &Path, check: bool, from: Option<&Path>) -> (Result<bool, String>, String) {
        let mut out = Vec::new();
        let result = regen(
            root,
            check,
            from.map(|f| (f, SharedComponents::Refuse)),
            &mut out,
        );
        (result, String::from_utf8(out).unwrap())
    }

    fn fixture(name: &str) -> PathBuf {
        workspace_root()
            .join("crates/codegen/tests/fixtures")
            .join(name)
    }

    fn read_scratch(dir: &tempfile::TempDir, relative: &str) -> String {
        std::fs::read_to_string(dir.path().join(relative)).unwrap()
    }

    #[test]
    fn the_committed_files_are_fresh() {
        let dir = scratch();
        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(true), "{out}");
        assert!(
            out.contains("crates/api/snapshot/oauth.rs is up to date"),
            "{out}"
        );
    }

    #[test]
    fn the_workspace_is_the_one_cargo_runs_from() {
        let elsewhere = Path::new("/somewhere/else/xtask");
        assert_eq!(
            workspace_root_from(Some(elsewhere.as_os_str().to_owned())),
            Path::new("/somewhere/else")
        );
        let compiled_in = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert_eq!(workspace_root_from(None), compiled_in);
        assert_eq!(workspace_root_from(Some("".into())), compiled_in);
    }

    #[test]
    fn a_spec_edit_fails_the_check_with_a_diff_until_regen_runs() {
        let dir = scratch();
        let path = dir.path().join("openapi/projects.json");
        let mut spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        spec["components"]["schemas"]["SimplePublicUpsertObject"]["properties"]["pipelineLabel"] = serde_json::json!({ "type": "string", "description": "The label of the record's pipeline." });
        std::fs::write(&path, canonical_json(&spec)).unwrap();

        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(false), "{out}");
        assert!(
            out.contains("--- a/crates/api/snapshot/projects.rs"),
            "{out}"
        );
        assert!(
            out.contains("+++ b/crates/api/snapshot/projects.rs"),
            "{out}"
        );
        assert!(
            out.contains(
                "+        pub pipeline_label: ::std::option::Option<::std::string::String>,"
            ),
            "{out}"
        );
        assert!(out.contains("+++ b/crates/api/spec/projects.json"), "{out}");
        // --check wrote nothing.
        let snapshot = read_scratch(&dir, "crates/api/snapshot/projects.rs");
        assert!(!snapshot.contains("pipeline_label"));

        let (result, out) = run_regen(dir.path(), false, None);
        assert_eq!(result, Ok(false), "{out}");
        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(true), "{out}");
    }

    #[test]
    fn from_imports_an_upstream_file_and_shows_both_diffs() {
        let dir = scratch();
        let (result, out) = run_regen(dir.path(), false, Some(&fixture("objects-2026-09.json")));
        assert_eq!(result, Ok(false), "{out}");
        assert!(
            out.contains(
                "importing the projects batch upsert version 2026-09 into openapi/projects.json: \
                 `/crm/objects/2026-09/projects/batch/upsert` (from \
                 `/crm/objects/2026-09/{objectType}/batch/upsert`)"
            ),
            "{out}"
        );
        assert!(out.contains("+++ b/openapi/projects.json"), "{out}");
        // The file's operation id is a fact and shows in both diffs; its wording does not.
        assert!(
            out.contains(
                "+        \"operationId\": \"post-/crm/objects/2026-09/projects/batch/upsert\","
            ),
            "{out}"
        );
        assert!(
            out.contains("+++ b/crates/api/snapshot/projects.rs"),
            "{out}"
        );
        assert!(
            !out.contains("Fixture wording"),
            "the file's texts never reach the contract: {out}"
        );
        assert!(
            out.contains("crates/api/snapshot/oauth.rs is up to date"),
            "{out}"
        );
        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(true), "{out}");
    }

    #[test]
    fn a_file_that_changes_a_shared_schema_is_refused_unless_told_to_replace_it() {
        let dir = scratch();
        let before = read_scratch(&dir, "openapi/projects.json");
        let file = fixture("objects-2026-09-shared-changed.json");
        let mut out = Vec::new();
        let error = regen(
            dir.path(),
            false,
            Some((&file, SharedComponents::Refuse)),
            &mut out,
        )
        .unwrap_err();
        assert!(
            error.contains("schemas/SimplePublicUpsertObject (shared with v3, 2026-03): fields removed: warnings"),
            "{error}"
        );
        assert!(
            error.contains("Nothing was written") && error.contains("--replace-shared"),
            "{error}"
        );
        assert_eq!(read_scratch(&dir, "openapi/projects.json"), before);

        let mut out = Vec::new();
        let result = regen(
            dir.path(),
            false,
            Some((&file, SharedComponents::Replace)),
            &mut out,
        );
        let out = String::from_utf8(out).unwrap();
        assert_eq!(result, Ok(false), "{out}");
        assert!(
            out.contains("note: schemas/SimplePublicUpsertObject differs from the contract's (fields removed: warnings); v3, 2026-03 share it"),
            "{out}"
        );
        assert!(
            out.contains("-        pub warnings: ::std::vec::Vec<PublicObjectWarning>,"),
            "{out}"
        );
        assert!(!read_scratch(&dir, "openapi/projects.json").contains("PublicObjectWarning"));
    }

    #[test]
    fn an_oauth_file_goes_into_the_oauth_contract() {
        let dir = scratch();
        let (result, out) = run_regen(dir.path(), false, Some(&fixture("oauth-v1.json")));
        assert!(
            out.contains("importing the OAuth token request version v1 into openapi/oauth.json"),
            "{out}"
        );
        // The file carries v1 as the contract has it, and the contract keeps its own texts: the
        // import changes nothing.
        assert_eq!(result, Ok(true), "{out}");
        assert!(out.contains("openapi/oauth.json is up to date"), "{out}");
        assert!(out.contains("openapi/projects.json is up to date"), "{out}");
    }

    #[test]
    fn a_bad_upstream_file_writes_nothing() {
        let dir = scratch();
        let before = read_scratch(&dir, "openapi/projects.json");
        let bad = dir.path().join("spec.yaml");
        std::fs::write(&bad, "openapi: 3.0.1\n").unwrap();
        let (result, _) = run_regen(dir.path(), false, Some(&bad));
        let error = result.unwrap_err();
        assert!(
            error.contains("not JSON") && error.contains("Nothing was written"),
            "{error}"
        );
        assert_eq!(read_scratch(&dir, "openapi/projects.json"), before);
    }

    #[test]
    fn a_contract_without_its_operation_is_refused_and_nothing_is_written() {
        let dir = scratch();
        // Something else is stale, so that a write would show.
        let stale = "crates/api/snapshot/oauth.rs";
        std::fs::write(dir.path().join(stale), "stale\n").unwrap();
        let path = dir.path().join("openapi/projects.json");
        let mut spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        spec["paths"] = serde_json::json!({});
        let emptied = canonical_json(&spec);
        std::fs::write(&path, &emptied).unwrap();

        let (result, out) = run_regen(dir.path(), false, None);
        let error = result.unwrap_err();
        assert!(
            error.contains("openapi/projects.json has no projects batch upsert"),
            "{error}"
        );
        assert!(
            error.contains("git checkout openapi/projects.json"),
            "{error}"
        );
        assert!(error.contains("--from"), "{error}");
        assert!(error.contains("Nothing was written"), "{error}");
        assert!(!out.contains("regenerated"), "{out}");
        assert_eq!(read_scratch(&dir, stale), "stale\n");
        assert_eq!(read_scratch(&dir, "openapi/projects.json"), emptied);
    }
}
