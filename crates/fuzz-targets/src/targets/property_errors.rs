//! `property_errors`: any text as the message of a validation error, read for the property
//! errors HubSpot embeds in it
//! (`Property values were not valid: [{"isValid":false,"message":…,"error":…,"name":…}]`).

use hubspot_projects::PropertyError;
use hubspot_projects::fuzz_support::property_errors;
use serde_json::json;

/// Runs one input; panics when a check fails.
pub fn run(data: &[u8]) {
    let message = String::from_utf8_lossy(data);
    let found = property_errors(&message);
    if found.is_empty() {
        return;
    }
    assert!(
        message.contains('[') && message.contains(']'),
        "property errors from a message without a list: {found:?}"
    );
    // What was read survives being written back in HubSpot's form and read again.
    let again = property_errors(&hubspots_message(&found));
    assert_eq!(again, found, "property errors read back from {message:?}");
}

/// HubSpot's whole-batch message for `errors`.
pub fn hubspots_message(errors: &[PropertyError]) -> String {
    let list: Vec<_> = errors
        .iter()
        .map(|error| {
            json!({
                "isValid": false,
                "message": error.message,
                "error": error.code,
                "name": error.name,
            })
        })
        .collect();
    format!(
        "Property values were not valid: {}",
        serde_json::Value::Array(list)
    )
}
