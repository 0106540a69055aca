//! `cargo xtask regen [--check] [--from FILE]`.

use hubspot_projects_codegen::{canonical_json, generate, import::extract_batch_upsert};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Options of `cargo xtask regen`.
#[derive(clap::Args)]
pub struct RegenArgs {
    /// Change nothing; fail with the diff when the snapshot or the packaged spec is stale.
    #[arg(long, conflicts_with = "from")]
    check: bool,
    /// Import a spec published by HubSpot (a whole projects spec, or the generic objects spec)
    /// into openapi/projects.json before regenerating.
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
}

/// The contract, and the files derived from it.
pub const CONTRACT: &str = "openapi/projects.json";
const PACKAGED_SPEC: &str = "crates/api/spec/projects.json";
const SNAPSHOT: &str = "crates/api/snapshot/generated.rs";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
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
        args.from.as_deref(),
        &mut std::io::stdout(),
    )?;
    if !fresh && args.check {
        eprintln!("generated files are stale: run `cargo xtask regen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Regenerates under `root`, writing diffs and notes to `out`. Returns whether everything was
/// already up to date. With `check`, writes no file.
pub fn regen(
    root: &Path,
    check: bool,
    from: Option<&Path>,
    out: &mut dyn Write,
) -> Result<bool, String> {
    let mut say = |text: &str| {
        out.write_all(text.as_bytes())
            .map_err(|e| format!("cannot write the output: {e}"))
    };
    if let Some(from) = from {
        let upstream = std::fs::read_to_string(from)
            .map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let imported = extract_batch_upsert(&upstream)
            .map_err(|e| format!("{}: {e}. Nothing was written.", from.display()))?;
        let text = canonical_json(&imported);
        // Generate before writing anything, so a spec progenitor cannot take changes nothing.
        generate(&text).map_err(|e| format!("{}: {e}. Nothing was written.", from.display()))?;
        let old = read(root, CONTRACT)?;
        match unified_diff(CONTRACT, &old, &text) {
            Some(diff) => {
                say(&diff)?;
                write(root, CONTRACT, &text)?;
            }
            None => say(&format!("{CONTRACT} is unchanged by the import\n"))?,
        }
    }

    let spec = read(root, CONTRACT)?;
    if spec.is_empty() {
        return Err(format!("{CONTRACT} is missing or empty"));
    }
    // The contract itself is kept in canonical form, so that imports diff cleanly.
    let parsed = serde_json::from_str(&spec).map_err(|e| format!("{CONTRACT} is not JSON: {e}"))?;
    let spec = canonical_json(&parsed);
    let code = generate(&spec).map_err(|e| format!("{CONTRACT}: {e}"))?;
    let mut fresh = true;
    for (relative, generated) in [
        (CONTRACT, spec.as_str()),
        (PACKAGED_SPEC, spec.as_str()),
        (SNAPSHOT, code.as_str()),
    ] {
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
        for relative in [CONTRACT, PACKAGED_SPEC, SNAPSHOT] {
            let text = std::fs::read_to_string(workspace_root().join(relative)).unwrap();
            write(dir.path(), relative, &text).unwrap();
        }
        dir
    }

    fn run_regen(root: &Path, check: bool, from: Option<&Path>) -> (Result<bool, String>, String) {
        let mut out = Vec::new();
        let result = regen(root, check, from, &mut out);
        (result, String::from_utf8(out).unwrap())
    }

    #[test]
    fn the_committed_files_are_fresh() {
        let dir = scratch();
        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(true), "{out}");
    }

    #[test]
    fn a_spec_edit_fails_the_check_with_a_diff_until_regen_runs() {
        let dir = scratch();
        let path = dir.path().join(CONTRACT);
        let mut spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        spec["components"]["schemas"]["SimplePublicUpsertObject"]["properties"]["pipelineLabel"] = serde_json::json!({ "type": "string", "description": "The label of the record's pipeline." });
        std::fs::write(&path, canonical_json(&spec)).unwrap();

        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(false), "{out}");
        assert!(
            out.contains("--- a/crates/api/snapshot/generated.rs"),
            "{out}"
        );
        assert!(
            out.contains("+++ b/crates/api/snapshot/generated.rs"),
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
        let snapshot = std::fs::read_to_string(dir.path().join(SNAPSHOT)).unwrap();
        assert!(!snapshot.contains("pipeline_label"));

        let (result, out) = run_regen(dir.path(), false, None);
        assert_eq!(result, Ok(false), "{out}");
        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(true), "{out}");
    }

    #[test]
    fn from_imports_an_upstream_file_and_shows_both_diffs() {
        let dir = scratch();
        let fixture = workspace_root().join("crates/codegen/tests/fixtures/upstream-objects.json");
        let (result, out) = run_regen(dir.path(), false, Some(&fixture));
        assert_eq!(result, Ok(false), "{out}");
        assert!(out.contains("+++ b/openapi/projects.json"), "{out}");
        assert!(
            out.contains("by unique property values"),
            "the new summary shows in the diffs: {out}"
        );
        assert!(
            out.contains("+++ b/crates/api/snapshot/generated.rs"),
            "{out}"
        );
        let (result, out) = run_regen(dir.path(), true, None);
        assert_eq!(result, Ok(true), "{out}");
    }

    #[test]
    fn a_bad_upstream_file_writes_nothing() {
        let dir = scratch();
        let before = std::fs::read_to_string(dir.path().join(CONTRACT)).unwrap();
        let bad = dir.path().join("spec.yaml");
        std::fs::write(&bad, "openapi: 3.0.1\n").unwrap();
        let (result, _) = run_regen(dir.path(), false, Some(&bad));
        let error = result.unwrap_err();
        assert!(
            error.contains("not JSON") && error.contains("Nothing was written"),
            "{error}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(CONTRACT)).unwrap(),
            before
        );
    }
}
