//! `--baseline REV`: the raw-throughput rows of this tree's client against the same client built
//! from an earlier commit, in one run, so that a change can be shown not to make them worse.
//!
//! The earlier client is the `bulk_upsert` example of `REV`, exported with `git archive` and
//! built in release beside the bench's own build (a target directory of its own per commit:
//! cargo names a workspace's crates by their path within it, so two checkouts sharing one
//! target directory would take each other's builds). Both clients run against this tree's
//! emulator, a fresh one per run, alternating which goes first, several times at each
//! concurrency; the table gives the medians.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::{Release, throughput_run, written};

/// Builds the `bulk_upsert` example of `rev` and returns its path and the commit it names.
fn build(root: &Path, target: &Path, rev: &str) -> Result<(PathBuf, String), String> {
    let git = |args: &[&str]| -> Result<String, String> {
        let output = Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--verify", &format!("{rev}^{{commit}}")])?;
    let dir = target.join("baseline").join(&commit);
    let source = dir.join("src");
    if !source.join("Cargo.toml").exists() {
        std::fs::create_dir_all(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        let archive = Command::new("git")
            .current_dir(root)
            .args(["archive", "--format=tar", &commit])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run git archive: {e}"))?;
        let status = Command::new("tar")
            .current_dir(&source)
            .arg("-x")
            .stdin(archive.stdout.ok_or("git archive has no output")?)
            .status()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        if !status.success() {
            let _ = std::fs::remove_dir_all(&source);
            return Err(format!("cannot export {commit} into {}", source.display()));
        }
    }
    println!("building the baseline client of {commit} (a first build takes some minutes)");
    let status = Command::new(env!("CARGO"))
        .current_dir(&source)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .args(["build", "--release", "--quiet", "-p", "hubspot-projects"])
        .args(["--example", "bulk_upsert"])
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err(format!("the baseline client of {commit} does not build"));
    }
    Ok((dir.join("target/release/examples/bulk_upsert"), commit))
}

/// One client's runs at one concurrency: records/s and client CPU seconds per 100,000.
#[derive(Default)]
struct Runs {
    records_per_s: Vec<f64>,
    cpu_per_100k: Vec<f64>,
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// Runs the comparison and adds it to `results` under `throughput_against_baseline`.
pub(super) fn run(
    release: &Release,
    root: &Path,
    target: &Path,
    rev: &str,
    records: u64,
    quick: bool,
    results: &mut serde_json::Map<String, Value>,
) -> Result<(), String> {
    let (baseline_client, commit) = build(root, target, rev)?;
    let baseline = Release {
        bulk_upsert: baseline_client,
        emulator: release.emulator.clone(),
        cli: release.cli.clone(),
    };
    let reps = if quick { 3 } else { 11 };
    println!(
        "\n## Raw throughput against the baseline {commit}: {records} records, batches of 100, no \
         rate limit, concurrency pinned; {reps} runs of each client at each concurrency, \
         alternating, a fresh emulator (this tree's) for each; medians"
    );
    println!(
        "| concurrency | baseline records/s | this tree records/s | this tree / baseline | baseline CPU s per 100k | this tree CPU s per 100k | CPU this tree / baseline | baseline vs concurrency 1 | this tree vs concurrency 1 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    let mut first: Option<(f64, f64)> = None;
    for concurrency in [1u32, 4, 16] {
        let (mut before, mut after) = (Runs::default(), Runs::default());
        for rep in 0..reps {
            let order = if rep % 2 == 0 {
                [(&baseline, &mut before), (release, &mut after)]
            } else {
                [(release, &mut after), (&baseline, &mut before)]
            };
            for (client, runs) in order {
                let run = throughput_run(client, records, concurrency)?;
                if written(&run.line) as u64 != records || run.measured.status != 0 {
                    return Err(format!(
                        "{}: {} of {records} records written at concurrency {concurrency}, exit {}",
                        client.bulk_upsert.display(),
                        written(&run.line),
                        run.measured.status
                    ));
                }
                runs.records_per_s.push(run.records_per_s);
                runs.cpu_per_100k.push(run.cpu_per_100k);
            }
        }
        let (b_rps, a_rps) = (median(&before.records_per_s), median(&after.records_per_s));
        let (b_cpu, a_cpu) = (median(&before.cpu_per_100k), median(&after.cpu_per_100k));
        let (b_first, a_first) = *first.get_or_insert((b_rps, a_rps));
        println!(
            "| {concurrency} | {b_rps:.0} | {a_rps:.0} | {:.2}x | {b_cpu:.3} | {a_cpu:.3} | {:.2}x | {:.2}x | {:.2}x |",
            a_rps / b_rps,
            a_cpu / b_cpu,
            b_rps / b_first,
            a_rps / a_first,
        );
        rows.push(json!({
            "concurrency": concurrency, "runs": reps,
            "baseline_records_per_s": before.records_per_s,
            "records_per_s": after.records_per_s,
            "baseline_cpu_s_per_100k": before.cpu_per_100k,
            "cpu_s_per_100k": after.cpu_per_100k,
            "median_ratio_records_per_s": a_rps / b_rps,
            "median_ratio_cpu_per_record": a_cpu / b_cpu,
            "baseline_vs_concurrency_1": b_rps / b_first,
            "vs_concurrency_1": a_rps / a_first,
        }));
    }
    results.insert(
        "throughput_against_baseline".into(),
        json!({ "baseline_commit": commit, "records": records, "rows": rows }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_of_an_odd_and_an_even_count() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
