//! HubSpot's API versions, as they appear in paths: `v1`, `v3`, and the date-based `2026-03`,
//! `2026-09`, with a pre-release suffix such as `2026-09-beta`.
//!
//! The order is the order of release: every numbered version is older than every dated one, dates
//! order by date, and a pre-release comes before the generally available version of the same
//! date (HubSpot published `2026-09-beta` before `2026-09`).

use std::cmp::Ordering;
use std::fmt;

/// One API version, parsed from a path segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiVersion {
    text: String,
    release: Release,
    pre_release: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Release {
    Numbered(u32),
    Dated { year: u16, month: u8 },
}

impl ApiVersion {
    /// Parses a path segment; `None` when the segment is not a version.
    ///
    /// ```
    /// use hubspot_projects_codegen::version::ApiVersion;
    /// assert!(ApiVersion::parse("2026-09-beta").unwrap().is_pre_release());
    /// assert!(ApiVersion::parse("v3").unwrap() < ApiVersion::parse("2026-03").unwrap());
    /// assert!(ApiVersion::parse("projects").is_none());
    /// ```
    pub fn parse(segment: &str) -> Option<Self> {
        let (release, rest) = if let Some(number) = segment.strip_prefix('v') {
            let digits = number.len()
                - number
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .len();
            if digits == 0 {
                return None;
            }
            let (n, rest) = number.split_at(digits);
            (Release::Numbered(n.parse().ok()?), rest)
        } else {
            let date = segment.get(..7)?;
            let (year, month) = date.split_once('-')?;
            if year.len() != 4
                || month.len() != 2
                || !year
                    .bytes()
                    .chain(month.bytes())
                    .all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let month: u8 = month.parse().ok()?;
            if !(1..=12).contains(&month) {
                return None;
            }
            (
                Release::Dated {
                    year: year.parse().ok()?,
                    month,
                },
                &segment[7..],
            )
        };
        let pre_release = match rest {
            "" => None,
            suffix => {
                let label = suffix.strip_prefix('-')?;
                if label.is_empty()
                    || !label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                {
                    return None;
                }
                Some(label.to_string())
            }
        };
        Some(Self {
            text: segment.to_string(),
            release,
            pre_release,
        })
    }

    /// The first segment of `path` that is a version.
    pub fn in_path(path: &str) -> Option<Self> {
        path.split('/').find_map(Self::parse)
    }

    /// The version as HubSpot spells it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this is a pre-release (`2026-09-beta`): never chosen by default.
    pub fn is_pre_release(&self) -> bool {
        self.pre_release.is_some()
    }

    /// The version as a suffix of a Rust identifier: `v3`, `2026_03`, `2026_09_beta`.
    pub fn identifier_suffix(&self) -> String {
        self.text.replace('-', "_")
    }
}

impl Ord for ApiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.release
            .cmp(&other.release)
            // A pre-release comes before the release of the same date.
            .then_with(|| self.pre_release.is_none().cmp(&other.pre_release.is_none()))
            .then_with(|| self.pre_release.cmp(&other.pre_release))
    }
}

impl PartialOrd for ApiVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> ApiVersion {
        ApiVersion::parse(text).unwrap_or_else(|| panic!("{text} is a version"))
    }

    #[test]
    fn versions_order_by_release() {
        let mut versions = [
            v("2026-09"),
            v("v3"),
            v("2026-09-beta"),
            v("v1"),
            v("2026-03"),
            v("2025-09"),
        ];
        versions.sort();
        let texts: Vec<_> = versions.iter().map(ApiVersion::as_str).collect();
        assert_eq!(
            texts,
            ["v1", "v3", "2025-09", "2026-03", "2026-09-beta", "2026-09"]
        );
    }

    #[test]
    fn only_version_segments_parse() {
        for not_a_version in [
            "projects",
            "objects",
            "v",
            "vx",
            "2026-13",
            "2026-3",
            "26-03",
            "2026-03-",
            "2026-03-Beta",
            "{objectType}",
            "",
        ] {
            assert!(
                ApiVersion::parse(not_a_version).is_none(),
                "{not_a_version}"
            );
        }
        assert!(!v("v3").is_pre_release());
        assert!(v("2026-09-beta").is_pre_release());
        assert_eq!(v("2026-09-beta").identifier_suffix(), "2026_09_beta");
    }

    #[test]
    fn the_version_of_a_path_is_its_first_version_segment() {
        let cases = [
            ("/crm/objects/v3/projects/batch/upsert", "v3"),
            ("/crm/objects/2026-03/projects/batch/upsert", "2026-03"),
            ("/crm/v3/objects/{objectType}/batch/upsert", "v3"),
            ("/oauth/v1/token", "v1"),
        ];
        for (path, version) in cases {
            assert_eq!(ApiVersion::in_path(path).unwrap().as_str(), version);
        }
        assert!(ApiVersion::in_path("/crm/objects/projects/batch/upsert").is_none());
    }
}
