#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hubspot_projects_fuzz_targets::targets::journal::run(data);
});
