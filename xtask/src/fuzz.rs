//! `cargo xtask fuzz`: the fuzz targets (`crates/fuzz-targets`) under cargo-fuzz and libFuzzer,
//! or their stable smoke run.
//!
//! cargo-fuzz needs unstable compiler flags (sanitizer coverage). With a nightly toolchain
//! installed (`rustup toolchain list`), the targets build with it; otherwise the stable
//! toolchain builds them with `RUSTC_BOOTSTRAP=1`, which lets it take those flags
//! (`--toolchain` chooses). Both work here, with or without AddressSanitizer.
//!
//! The targets build without a sanitizer unless `--sanitizer address` is given: they are safe
//! Rust, where a fuzzer finds panics, arithmetic overflow (the build has debug assertions) and
//! hangs, none of which needs one; AddressSanitizer made the emulator target six times slower
//! (400 against 2,500 inputs a second). When the AddressSanitizer build fails, the targets are
//! built without it. When cargo-fuzz is missing or no build works, the command says why and
//! runs the smoke run instead.
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
    /// The toolchain to build the targets with.
    #[arg(long, value_enum, default_value_t = Toolchain::Auto)]
    toolchain: Toolchain,
    /// The sanitizer to build the targets with.
    #[arg(long, value_enum, default_value_t = Sanitizer::None)]
    sanitizer: Sanitizer,
}

/// The toolchain `cargo xtask fuzz` builds with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Toolchain {
    /// Nightly when `rustup` has it, else stable.
    Auto,
    /// The nightly toolchain.
    Nightly,
    /// The stable toolchain, with `RUSTC_BOOTSTRAP=1`.
    Stable,
}

/// The sanitizer `cargo xtask fuzz` builds with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Sanitizer {
    /// None: the fastest runs.
    None,
    /// AddressSanitizer, cargo-fuzz's default.
    Address,
}

/// How the targets are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Build {
    /// Nightly, or stable with `RUSTC_BOOTSTRAP=1`.
    nightly: bool,
    sanitizer: Sanitizer,
}

impl Build {
    /// `cargo fuzz <subcommand>` with the toolchain, environment and options of this build.
    fn cargo_fuzz(self, root: &Path, subcommand: &str) -> Command {
        let mut command = Command::new("cargo");
        command.current_dir(root);
        if self.nightly {
            command.arg("+nightly");
        } else {
            command.env("RUSTC_BOOTSTRAP", "1");
        }
        // `-a`: debug assertions, so that arithmetic overflow fails as it does in tests.
        command.args(["fuzz", subcommand, "-a"]);
        command.args([
            "--sanitizer",
            match self.sanitizer {
                Sanitizer::None => "none",
                Sanitizer::Address => "address",
            },
        ]);
        command
    }

    fn describe(self) -> String {
        format!(
            "{}, {}",
            if self.nightly {
                "nightly toolchain"
            } else {
                "stable toolchain with RUSTC_BOOTSTRAP=1"
            },
            match self.sanitizer {
                Sanitizer::None => "no sanitizer",
                Sanitizer::Address => "AddressSanitizer",
            }
        )
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
    let build = match choose_build(root, args.target.as_deref(), args.toolchain, args.sanitizer) {
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

/// The cargo-fuzz targets: the `.rs` files of `fuzz/fuzz_targets/`, by name.
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
fn choose_build(
    root: &Path,
    target: Option<&str>,
    toolchain: Toolchain,
    sanitizer: Sanitizer,
) -> Result<Build, String> {
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
    let nightly_installed = || {
        Command::new("rustup")
            .args(["run", "nightly", "rustc", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    let nightly = match toolchain {
        Toolchain::Nightly if !nightly_installed() => {
            return Err("no nightly toolchain is installed (`rustup toolchain list`)".to_string());
        }
        Toolchain::Nightly => true,
        Toolchain::Stable => false,
        Toolchain::Auto => nightly_installed(),
    };
    if !nightly && toolchain == Toolchain::Auto {
        eprintln!("no nightly toolchain: building with the stable one and RUSTC_BOOTSTRAP=1");
    }
    let mut candidates = vec![Build { nightly, sanitizer }];
    if sanitizer == Sanitizer::Address {
        candidates.push(Build {
            nightly,
            sanitizer: Sanitizer::None,
        });
    }
    let mut failures = Vec::new();
    for build in candidates {
        eprintln!("building the fuzz targets ({})", build.describe());
        let mut command = build.cargo_fuzz(root, "build");
        if let Some(target) = target {
            command.arg(target);
        }
        match command.status() {
            Ok(status) if status.success() => return Ok(build),
            Ok(status) => failures.push(format!(
                "`cargo fuzz build` ({}) failed ({status}; its output is above)",
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
