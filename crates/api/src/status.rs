//! The batch status, open to values HubSpot may add later.

use std::fmt;
use std::str::FromStr;

/// The overall status of a batch answer.
///
/// HubSpot documents four values, but status enums grow. An unknown value is kept in
/// [`BatchStatus::Other`] instead of failing the decode of an answer whose records were written.
/// Never judge success from this status: a 207 with every input failed still says `COMPLETE`.
///
/// ```
/// use hubspot_projects_api::BatchStatus;
/// let status: BatchStatus = serde_json::from_str("\"ARCHIVING\"").unwrap();
/// assert_eq!(status, BatchStatus::Other("ARCHIVING".into()));
/// assert_eq!(serde_json::to_string(&BatchStatus::Complete).unwrap(), "\"COMPLETE\"");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BatchStatus {
    /// `CANCELED`
    Canceled,
    /// `COMPLETE`
    Complete,
    /// `PENDING`
    Pending,
    /// `PROCESSING`
    Processing,
    /// Any value HubSpot did not document when this crate was generated.
    Other(String),
}

impl BatchStatus {
    /// The value as HubSpot spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Canceled => "CANCELED",
            Self::Complete => "COMPLETE",
            Self::Pending => "PENDING",
            Self::Processing => "PROCESSING",
            Self::Other(other) => other,
        }
    }
}

impl fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BatchStatus {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "CANCELED" => Self::Canceled,
            "COMPLETE" => Self::Complete,
            "PENDING" => Self::Pending,
            "PROCESSING" => Self::Processing,
            other => Self::Other(other.to_string()),
        })
    }
}

impl serde::Serialize for BatchStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for BatchStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        let Ok(status) = text.parse();
        Ok(status)
    }
}
