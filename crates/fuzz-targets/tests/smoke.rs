//! The stable smoke run of every fuzz target, part of `cargo test --workspace`: its seeds, its
//! regression inputs, and 1,500 inputs made from a fixed seed. A failure names the input and
//! saves it, to be added to `fuzz/regressions/<target>/` with the fix.

use hubspot_projects_fuzz_targets::smoke::{Plan, files_in, fuzz_dir, smoke};
use hubspot_projects_fuzz_targets::target;

fn run(name: &str) {
    let target = target(name).expect("a known target");
    assert!(
        !files_in(&fuzz_dir().join("seeds").join(name)).is_empty(),
        "{name} has seeds"
    );
    let report = smoke(target, Plan::default());
    eprintln!(
        "{name}: {} files and {} generated inputs in {:.2?}",
        report.files, report.generated, report.took
    );
    if let Some(first) = report.failures.first() {
        let shown: String = String::from_utf8_lossy(&first.input)
            .chars()
            .take(2_000)
            .collect();
        let others: Vec<String> = report.failures[1..]
            .iter()
            .take(10)
            .map(|f| {
                let message = f.message.lines().next().unwrap_or_default();
                format!("  {}: {message}", f.origin)
            })
            .collect();
        panic!(
            "{name}: {} of {} inputs failed; the first, {} (saved at {}):\n{shown:?}\n{}\nothers:\n{}",
            report.failures.len(),
            report.files + report.generated,
            first.origin,
            first
                .saved
                .as_ref()
                .map_or_else(|| "nowhere".to_string(), |p| p.display().to_string()),
            first.message,
            others.join("\n")
        );
    }
}

#[test]
fn csv_reader() {
    run("csv_reader");
}

#[test]
fn ndjson_reader() {
    run("ndjson_reader");
}

#[test]
fn journal() {
    run("journal");
}

#[test]
fn client_error() {
    run("client_error");
}

#[test]
fn client_answer() {
    run("client_answer");
}

#[test]
fn property_errors() {
    run("property_errors");
}

#[test]
fn emulator_upsert() {
    run("emulator_upsert");
}

#[test]
fn every_target_has_a_test_here_and_a_cargo_fuzz_target() {
    let this = include_str!("smoke.rs");
    let harness = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for target in hubspot_projects_fuzz_targets::TARGETS {
        assert!(
            this.contains(&format!("fn {}()", target.name)),
            "{} has a smoke test",
            target.name
        );
        assert!(
            harness.contains(&format!("name = \"{}\"", target.name)),
            "{} is a cargo-fuzz target in fuzz/Cargo.toml",
            target.name
        );
    }
}
