//! Checks property values against their property's type, with HubSpot's error codes and
//! wording.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Timelike};

use crate::schema::PropertyType;

/// Why a value does not fit its property: HubSpot's code and a message that names the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InvalidValue {
    /// HubSpot's code, like `INVALID_DATE`.
    pub code: &'static str,
    /// The message, which starts with the offending value as HubSpot's messages do.
    pub message: String,
}

const MS_PER_DAY: i64 = 86_400_000;

/// Checks `value` against `property_type`. The empty value clears a property and is always
/// valid; anything else must be exactly of the type's form (HubSpot refuses surrounding
/// spaces in non-string values).
pub(crate) fn check_value(property_type: &PropertyType, value: &str) -> Result<(), InvalidValue> {
    if value.is_empty() {
        return Ok(());
    }
    let invalid = |code, message| Err(InvalidValue { code, message });
    match property_type {
        PropertyType::String => Ok(()),
        PropertyType::Number if is_decimal(value) => Ok(()),
        PropertyType::Number => invalid(
            "INVALID_INTEGER",
            format!("{value} was not a valid number."),
        ),
        PropertyType::Bool
            if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") =>
        {
            Ok(())
        }
        PropertyType::Bool => invalid(
            "INVALID_BOOLEAN",
            format!("{value} was not a valid boolean: use true or false."),
        ),
        PropertyType::Date => check_date(value),
        PropertyType::Datetime if is_datetime(value) => Ok(()),
        PropertyType::Datetime => invalid(
            "INVALID_DATETIME",
            format!(
                "{value} is not a valid datetime: use ISO 8601 (like 2027-03-01T09:30:00Z) or a Unix timestamp in milliseconds."
            ),
        ),
        PropertyType::Enumeration(options) if options.iter().any(|o| o == value) => Ok(()),
        PropertyType::Enumeration(options) => invalid(
            "INVALID_OPTION",
            format!(
                "{value} was not one of the allowed options: [{}]",
                options.join(", ")
            ),
        ),
    }
}

/// `42`, `-3`, `12.50`, `.5`: digits with at most one point, an optional leading minus.
fn is_decimal(value: &str) -> bool {
    let digits = value.strip_prefix('-').unwrap_or(value);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    (!whole.is_empty() || !fraction.is_empty())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// An integer of milliseconds since the epoch.
fn epoch_millis(value: &str) -> Option<i64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// `YYYY-MM-DD` exactly, a real calendar day.
fn iso_date(value: &str) -> Option<NaiveDate> {
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

fn check_date(value: &str) -> Result<(), InvalidValue> {
    if iso_date(value).is_some() {
        return Ok(());
    }
    if let Some(ms) = epoch_millis(value)
        && let Some(at) = DateTime::from_timestamp_millis(ms)
    {
        if ms.rem_euclid(MS_PER_DAY) == 0 {
            return Ok(());
        }
        // HubSpot's own wording, unpadded: "1579179660000 is at 13:1:0.0 UTC, not midnight!"
        return Err(InvalidValue {
            code: "INVALID_DATE",
            message: format!(
                "{value} is at {}:{}:{}.{} UTC, not midnight!",
                at.hour(),
                at.minute(),
                at.second(),
                at.timestamp_subsec_millis()
            ),
        });
    }
    Err(InvalidValue {
        code: "INVALID_DATE",
        message: format!(
            "{value} is not a valid date: use YYYY-MM-DD or a Unix timestamp in milliseconds at midnight UTC."
        ),
    })
}

/// RFC 3339, a date and time without offset (UTC), a date alone, or epoch milliseconds.
fn is_datetime(value: &str) -> bool {
    DateTime::parse_from_rfc3339(value).is_ok()
        || NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        || iso_date(value).is_some()
        || epoch_millis(value).is_some_and(|ms| DateTime::from_timestamp_millis(ms).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(ty: &PropertyType, value: &str) -> Option<&'static str> {
        check_value(ty, value).err().map(|e| e.code)
    }

    #[test]
    fn numbers() {
        for ok in [
            "0",
            "42",
            "-3",
            "12.50",
            ".5",
            "7.",
            "",
            "123456789012345678901234567890",
        ] {
            assert_eq!(code(&PropertyType::Number, ok), None, "{ok}");
        }
        for bad in [
            "abc", "1e5", " 1", "1 ", "1,5", "--1", "-", ".", "1.2.3", "+1", "0x10",
        ] {
            assert_eq!(
                code(&PropertyType::Number, bad),
                Some("INVALID_INTEGER"),
                "{bad}"
            );
        }
        let error = check_value(&PropertyType::Number, "1e5").unwrap_err();
        assert_eq!(error.message, "1e5 was not a valid number.");
    }

    #[test]
    fn booleans() {
        for ok in ["true", "false", "TRUE", "False"] {
            assert_eq!(code(&PropertyType::Bool, ok), None, "{ok}");
        }
        for bad in ["yes", "1", "0", " true", "t"] {
            assert_eq!(
                code(&PropertyType::Bool, bad),
                Some("INVALID_BOOLEAN"),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates() {
        for ok in [
            "2027-03-01",
            "2024-02-29",
            "1704067200000",
            "0",
            "-86400000",
        ] {
            assert_eq!(code(&PropertyType::Date, ok), None, "{ok}");
        }
        for bad in [
            "2027-13-45",
            "2023-02-29",
            "2027-3-1",
            "27-03-01",
            "2027/03/01",
            "2027-03-01T00:00:00Z",
            "1579179660000",
            "soon",
        ] {
            assert_eq!(
                code(&PropertyType::Date, bad),
                Some("INVALID_DATE"),
                "{bad}"
            );
        }
        let error = check_value(&PropertyType::Date, "2027-13-45").unwrap_err();
        assert!(
            error.message.starts_with("2027-13-45 is not a valid date"),
            "{}",
            error.message
        );
        let error = check_value(&PropertyType::Date, "1579179660000").unwrap_err();
        assert_eq!(
            error.message,
            "1579179660000 is at 13:1:0.0 UTC, not midnight!"
        );
    }

    #[test]
    fn datetimes() {
        for ok in [
            "2027-03-01T09:30:00Z",
            "2027-03-01T09:30:00.123+02:00",
            "2027-03-01T09:30:00",
            "2027-03-01T09:30:00.5",
            "2027-03-01",
            "1704067212345",
        ] {
            assert_eq!(code(&PropertyType::Datetime, ok), None, "{ok}");
        }
        for bad in [
            "2027-03-01 09:30",
            "2027-03-01T25:00:00Z",
            "yesterday",
            "1.5",
        ] {
            assert_eq!(
                code(&PropertyType::Datetime, bad),
                Some("INVALID_DATETIME"),
                "{bad}"
            );
        }
    }

    #[test]
    fn options() {
        let ty = PropertyType::Enumeration(vec!["planned".into(), "done".into()]);
        assert_eq!(code(&ty, "done"), None);
        let error = check_value(&ty, "Done").unwrap_err();
        assert_eq!(error.code, "INVALID_OPTION");
        assert_eq!(
            error.message,
            "Done was not one of the allowed options: [planned, done]"
        );
    }

    #[test]
    fn strings_take_anything() {
        assert_eq!(code(&PropertyType::String, " anything at all "), None);
    }
}
