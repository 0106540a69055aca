//! `cargo xtask fuzz`: the fuzz targets (`crates/fuzz-targets`) under cargo-fuzz and libFuzzer,
//! or their stable smoke run.
//!
//! cargo-fuzz needs unstable compiler flags (`-Z sanitizer`, sanitizer coverage). With a
//! nightly toolchain installed (`rustup toolchain list`), targets build with it and
//! AddressSanitizer. Otherwise the stable toolchain builds them with `RUSTC_BOOTSTRAP=1`,
//! which lets it take those flags; AddressSanitizer is tried first and, when its build fails,
//! the targets build without a sanitizer (safe Rust needs none to find panics, overflows and
//! hangs). When cargo-fuzz is missing or no build works, the command says why and runs the
//! smoke run instead.
//!
//! The fuzzer starts from `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/`, reads
//! `fuzz/dict/<target>.dict`, and grows its corpus in `fuzz/corpus/<target>/` (not committed).
//! An input that fails is written to `fuzz/artifacts/<target>/`; the command ends non-zero
//! and lists them.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Options of `cargo xtask fuzz`.
#[derive(clap::Args)]
pub struct FuzzArgs {
    /// Seconds of fuzzing per target.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    time: u64,
    /// Fuzz only this target (default: every target).
    #[arg(long, value_name = "NAME")]
    target: Option<String>,
    /// Run the stable smoke run (what CI runs) instead of cargo-fuzz.
    #[arg(long)]
    smoke: bool,
}

/// How the targets are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Build {
    /// The nightly toolchain, with AddressSanitizer.
    Nightly,
    /// The stable toolchain with `RUSTC_BOOTSTRAP=1`, with AddressSanitizer.
    StableAddressSanitizer,
    /// The stable toolchain with `RUSTC_BOOTSTRAP=1`, without a sanitizer.
    StableNoSanitizer,
}

impl Build {
    /// `cargo` with the toolchain, environment and options that select this build.
    fn cargo_fuzz(self, root: &Path, subcommand: &str) -> Command {
        let mut command = Command::new("cargo");
        command.current_dir(root);
        if self == Self::Nightly {
            command.arg("+nightly");
        } else {
            command.env("RUSTC_BOOTSTRAP", "1");
        }
        // `-a`: debug assertions, so that arithmetic overflow fails as it does in tests.
        command.args(["fuzz", subcommand, "-a"]);
        if self == Self::StableNoSanitizer {
            command.args(["--sanitizer", "none"]);
        }
        command
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Nightly => "nightly toolchain, AddressSanitizer",
            Self::StableAddressSanitizer => {
                "stable toolchain with RUSTC_BOOTSTRAP=1, AddressSanitizer"
            }
            Self::StableNoSanitizer => "stable toolchain with RUSTC_BOOTSTRAP=1, no sanitizer",
        }
    }
}

/// Runs `cargo xtask fuzz`.
pub fn run(args: &FuzzArgs, root: &Path) -> Result<ExitCode, String> {
    let targets = targets(root)?;
    if let Some(name) = &args.target
        && !targets.contains(name)
    {
        return Err(format!(
            "no fuzz target {name:?}: choose among {}",
            targets.join(", ")
        ));
    }
    if args.smoke {
        return smoke(root, args.target.as_deref());
    }
    let build = match choose_build(root, args.target.as_deref()) {
        Ok(build) => build,
        Err(why) => {
            eprintln!("cargo fuzz cannot run here: {why}.");
            eprintln!("Running the stable smoke run of the same targets instead.");
            return smoke(root, args.target.as_deref());
        }
    };
    eprintln!("fuzzing with cargo-fuzz ({})", build.describe());
    let chosen: Vec<&String> = targets
        .iter()
        .filter(|t| args.target.as_ref().is_none_or(|only| only == *t))
        .collect();
    let mut found = Vec::new();
    for target in chosen {
        let started = Instant::now();
        let before = artifacts(root, target);
        let status = fuzz_one(root, build, target, args.time)?;
        let new: Vec<PathBuf> = artifacts(root, target)
            .into_iter()
            .filter(|path| !before.contains(path))
            .collect();
        eprintln!(
            "{target}: {} after {:.0?}",
            if status { "no failure" } else { "FAILED" },
            started.elapsed()
        );
        if !status {
            found.push((target.clone(), new));
        }
    }
    if found.is_empty() {
        eprintln!("no target failed");
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("\nfailing inputs (minimize with `cargo fuzz tmin TARGET FILE`, fix, then add them");
    eprintln!("to fuzz/regressions/TARGET/ so that the smoke run keeps checking them):");
    for (target, paths) in &found {
        if paths.is_empty() {
            eprintln!("  {target}: the fuzzer stopped without an artifact (see its output)");
        }
        for path in paths {
            eprintln!("  {target}: {}", path.display());
        }
    }
    Ok(ExitCode::FAILURE)
}

/// The cargo-fuzz targets, from `cargo fuzz list`, or else from `fuzz/fuzz_targets/`.
fn targets(root: &Path) -> Result<Vec<String>, String> {
    let dir = root.join("fuzz/fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!("no fuzz target in {}", dir.display()));
    }
    Ok(names)
}

/// The first build that works, or why none does.
fn choose_build(root: &Path, target: Option<&str>) -> Result<Build, String> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        return Err(
            "cargo-fuzz is not installed (`cargo install cargo-fuzz` installs it from crates.io)"
                .to_string(),
        );
    }
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    let candidates: &[Build] = if nightly {
        &[Build::Nightly]
    } else {
        eprintln!("no nightly toolchain: building with the stable one and RUSTC_BOOTSTRAP=1");
        &[Build::StableAddressSanitizer, Build::StableNoSanitizer]
    };
    let mut failures = Vec::new();
    for build in candidates {
        eprintln!("building the fuzz targets ({})", build.describe());
        let mut command = build.cargo_fuzz(root, "build");
        if let Some(target) = target {
            command.arg(target);
        }
        match command.status() {
            Ok(status) if status.success() => return Ok(*build),
            Ok(status) => failures.push(format!(
                "`cargo fuzz build` with the {} failed ({status}; its output is above)",
                build.describe()
            )),
            Err(e) => failures.push(format!("cannot run cargo: {e}")),
        }
    }
    Err(failures.join("; "))
}

/// Fuzzes `target` for `seconds`; whether it ended without a failing input.
fn fuzz_one(root: &Path, build: Build, target: &str, seconds: u64) -> Result<bool, String> {
    let fuzz = root.join("fuzz");
    // libFuzzer writes new inputs to the first directory only: the seeds stay as committed.
    let corpus = fuzz.join("corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut command = build.cargo_fuzz(root, "run");
    command.arg(target).arg(&corpus);
    for kind in ["seeds", "regressions"] {
        let dir = fuzz.join(kind).join(target);
        if dir.is_dir() {
            command.arg(dir);
        }
    }
    command.arg("--");
    command.arg(format!("-max_total_time={seconds}"));
    // A single input that takes this long is a hang.
    command.arg("-timeout=10");
    command.arg("-print_final_stats=1");
    let dictionary = fuzz.join("dict").join(format!("{target}.dict"));
    if dictionary.is_file() {
        command.arg(format!("-dict={}", dictionary.display()));
    }
    eprintln!("\n==> {target}: {seconds} s");
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    Ok(status.success())
}

/// The files in `fuzz/artifacts/<target>/`.
fn artifacts(root: &Path, target: &str) -> Vec<PathBuf> {
    let dir = root.join("fuzz/artifacts").join(target);
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default()
}

/// The smoke run: the `smoke` test of `crates/fuzz-targets` (what `cargo test --workspace`
/// runs in CI), for one target or all.
fn smoke(root: &Path, target: Option<&str>) -> Result<ExitCode, String> {
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(root).args([
        "test",
        "-p",
        "hubspot-projects-fuzz-targets",
        "--test",
        "smoke",
        "--",
        "--nocapture",
    ]);
    if let Some(target) = target {
        command.args(["--exact", target]);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
