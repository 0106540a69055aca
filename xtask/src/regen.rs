//! `cargo xtask regen [--check] [--from FILE]`.

use hubspot_projects_codegen::{canonical_json, generate, import::extract_batch_upsert};
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
    let root = workspace_root();
    if let Some(from) = &args.from {
        let upstream = std::fs::read_to_string(from)
            .map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let imported = extract_batch_upsert(&upstream)
            .map_err(|e| format!("{}: {e}. Nothing was written.", from.display()))?;
        let text = canonical_json(&imported);
        // Generate before writing anything, so a spec progenitor cannot take changes nothing.
        generate(&text).map_err(|e| format!("{}: {e}. Nothing was written.", from.display()))?;
        let old = read(&root, CONTRACT)?;
        match unified_diff(CONTRACT, &old, &text) {
            Some(diff) => {
                print!("{diff}");
                write(&root, CONTRACT, &text)?;
            }
            None => println!("{CONTRACT} is unchanged by the import"),
        }
    }

    let spec = read(&root, CONTRACT)?;
    if spec.is_empty() {
        return Err(format!("{CONTRACT} is missing or empty"));
    }
    // The contract itself is kept in canonical form, so that imports diff cleanly.
    let parsed = serde_json::from_str(&spec).map_err(|e| format!("{CONTRACT} is not JSON: {e}"))?;
    let spec = canonical_json(&parsed);
    let code = generate(&spec).map_err(|e| format!("{CONTRACT}: {e}"))?;
    let mut stale = false;
    for (relative, fresh) in [
        (CONTRACT, spec.as_str()),
        (PACKAGED_SPEC, spec.as_str()),
        (SNAPSHOT, code.as_str()),
    ] {
        let current = read(&root, relative)?;
        match unified_diff(relative, &current, fresh) {
            None => println!("{relative} is up to date"),
            Some(diff) => {
                stale = true;
                print!("{diff}");
                if !args.check {
                    write(&root, relative, fresh)?;
                    println!("{relative} regenerated");
                }
            }
        }
    }
    if stale && args.check {
        eprintln!("generated files are stale: run `cargo xtask regen` and commit the result");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
