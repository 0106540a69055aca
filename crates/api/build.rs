//! Generates the client from the packaged copy of the spec (kept identical to
//! `openapi/projects.json` by `cargo xtask regen`) into `OUT_DIR/generated.rs`.

fn main() {
    let spec_path = "spec/projects.json";
    println!("cargo::rerun-if-changed={spec_path}");
    let spec = std::fs::read_to_string(spec_path)
        .unwrap_or_else(|e| panic!("cannot read {spec_path}: {e}"));
    let code = hubspot_projects_codegen::generate(&spec)
        .unwrap_or_else(|e| panic!("cannot generate the client from {spec_path}: {e}"));
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("generated.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
