//! Timestamps as HubSpot writes them: milliseconds since the epoch, RFC 3339 in UTC.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// A stored timestamp (milliseconds since the epoch) as a time; every stored one is in range.
pub(crate) fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The current time, truncated to milliseconds as HubSpot keeps it.
pub(crate) fn now_millis() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

/// Appends `n` as `width` decimal digits, `width` at most 4.
fn push_digits(out: &mut String, mut n: u32, width: usize) {
    let mut digits = [b'0'; 4];
    for slot in digits.iter_mut().take(width).rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for digit in digits.iter().take(width) {
        out.push(char::from(*digit));
    }
}

/// A timestamp as HubSpot writes it in property values: RFC 3339 in UTC, with milliseconds.
///
/// Written by hand because it runs three times per result of every answer, where chrono's
/// general formatter was a visible share of the emulator's CPU.
pub(crate) fn hubspot_time(t: DateTime<Utc>) -> String {
    let millis = t.timestamp_subsec_millis();
    let year = t.year();
    if !(0..=9999).contains(&year) || millis >= 1000 {
        // Far dates and leap seconds: rare enough for chrono's general formatter.
        return t.to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let mut out = String::with_capacity(24);
    push_digits(&mut out, year.unsigned_abs(), 4);
    out.push('-');
    push_digits(&mut out, t.month(), 2);
    out.push('-');
    push_digits(&mut out, t.day(), 2);
    out.push('T');
    push_digits(&mut out, t.hour(), 2);
    out.push(':');
    push_digits(&mut out, t.minute(), 2);
    out.push(':');
    push_digits(&mut out, t.second(), 2);
    out.push('.');
    push_digits(&mut out, millis, 3);
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let samples = [
            0,
            1,
            999,
            -1,
            951_782_400_123,
            1_700_000_000_000,
            253_402_300_799_999,
            -62_167_219_200_000,
            -62_167_219_200_001,
            253_402_300_800_000,
        ];
        for ms in samples
            .into_iter()
            .chain((0..2000).map(|n| n * 86_399_937 + 17))
        {
            let t = DateTime::from_timestamp_millis(ms).unwrap();
            assert_eq!(
                hubspot_time(t),
                t.to_rfc3339_opts(SecondsFormat::Millis, true),
                "{ms}"
            );
        }
    }

    #[test]
    fn now_has_whole_milliseconds() {
        let now = now_millis();
        assert_eq!(now.timestamp_subsec_nanos() % 1_000_000, 0);
        assert_eq!(from_millis(now.timestamp_millis()), now);
    }
}
