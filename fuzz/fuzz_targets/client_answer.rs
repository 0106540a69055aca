#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hubspot_projects_fuzz_targets::targets::client_answer::run(data);
});
