//! Generates the clients from the packaged copies of the contracts (kept identical to
//! `openapi/*.json` by `cargo xtask regen`) into `OUT_DIR/<contract>.rs`.

fn main() {
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for contract in hubspot_projects_codegen::contract::CONTRACTS {
        let spec_path = format!("spec/{}.json", contract.name);
        println!("cargo::rerun-if-changed={spec_path}");
        let spec = std::fs::read_to_string(&spec_path)
            .unwrap_or_else(|e| panic!("cannot read {spec_path}: {e}"));
        let code = hubspot_projects_codegen::generate(contract, &spec)
            .unwrap_or_else(|e| panic!("cannot generate the client from {spec_path}: {e}"));
        let out = std::path::Path::new(&out_dir).join(format!("{}.rs", contract.name));
        std::fs::write(&out, code)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
    }
}
