//! `csv_reader`: any bytes as a CSV file, read by the CLI's reader with the id property
//! `project_code`.

use hubspot_projects_cli::input::InputFormat;

use super::rows::{ID_PROPERTY, check_reader};

/// Runs one input; panics when a check fails.
pub fn run(data: &[u8]) {
    let Ok((columns, rows)) = check_reader(data, InputFormat::Csv, csv_lines(data)) else {
        return;
    };
    assert!(
        columns.iter().any(|c| c == ID_PROPERTY),
        "a header without the id column is refused: {columns:?}"
    );
    for record in rows.iter().filter_map(|row| row.as_ref().ok()) {
        for name in record.input.properties.keys() {
            assert!(
                name != ID_PROPERTY && columns.contains(name),
                "line {}: property {name:?} is not another column of the header",
                record.line
            );
        }
    }
}

/// The lines of `data` as the CSV reader counts them: `\n`, `\r\n` and a `\r` alone each end
/// one.
fn csv_lines(data: &[u8]) -> u64 {
    let breaks = data
        .iter()
        .enumerate()
        .filter(|(at, byte)| match byte {
            b'\n' => true,
            b'\r' => data.get(at + 1) != Some(&b'\n'),
            _ => false,
        })
        .count();
    breaks as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_at_each_kind_of_line_break() {
        assert_eq!(csv_lines(b""), 1);
        assert_eq!(csv_lines(b"a\r\nb\rc\nd"), 4);
        assert_eq!(csv_lines(b"\r"), 2);
    }
}
