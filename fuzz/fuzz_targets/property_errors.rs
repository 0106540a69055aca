#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hubspot_projects_fuzz_targets::targets::property_errors::run(data);
});
