//! One record to write, and the local check that keeps malformed inputs off the wire.

use std::collections::BTreeMap;

/// HubSpot's property holding a record's own id.
pub(crate) const RECORD_ID_PROPERTY: &str = "hs_object_id";

/// One record to create or update, identified by the value of a unique property.
///
/// ```
/// use hubspot_projects::UpsertInput;
/// let input = UpsertInput::new("project_code", "PRJ-1")
///     .property("hs_name", "Launch")
///     .property("hs_pipeline_stage", "planning");
/// assert_eq!(input.id_property.as_deref(), Some("project_code"));
/// assert_eq!(input.properties["hs_name"], "Launch");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpsertInput {
    /// The value of the id property that identifies the record.
    pub id: String,
    /// The name of a property with unique values (e.g. an external project code).
    pub id_property: Option<String>,
    /// The property values to write.
    pub properties: BTreeMap<String, String>,
    /// A unique tag for this input. Left empty, the client sets a uuid, so that HubSpot's
    /// answer can be tied back to the input.
    pub object_write_trace_id: Option<String>,
}

impl UpsertInput {
    /// An input for the record whose `id_property` has the value `id`.
    pub fn new(id_property: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            id_property: Some(id_property.into()),
            properties: BTreeMap::new(),
            object_write_trace_id: None,
        }
    }

    /// Sets a property value.
    pub fn property(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.insert(name.into(), value.into());
        self
    }

    /// Sets the trace id instead of letting the client choose one.
    pub fn trace_id(mut self, trace_id: impl Into<String>) -> Self {
        self.object_write_trace_id = Some(trace_id.into());
        self
    }

    /// Why HubSpot would refuse this input, if it would: an empty id, idProperty, property
    /// name or trace id, or `hs_object_id` as the idProperty (HubSpot refuses upserts by it,
    /// and rejects the whole batch; leave `id_property` out to address a record by its id).
    pub fn problem(&self) -> Option<&'static str> {
        if self.id.is_empty() {
            return Some("the id is empty");
        }
        match self.id_property.as_deref() {
            Some("") => return Some("the idProperty is empty"),
            Some(RECORD_ID_PROPERTY) => {
                return Some(
                    "hs_object_id cannot be the idProperty of an upsert (HubSpot refuses it); leave idProperty out to update a record by its id",
                );
            }
            _ => {}
        }
        if self.properties.keys().any(String::is_empty) {
            return Some("a property name is empty");
        }
        if self
            .object_write_trace_id
            .as_deref()
            .is_some_and(str::is_empty)
        {
            return Some("the objectWriteTraceId is empty");
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_input_has_no_problem() {
        assert_eq!(
            UpsertInput::new("code", "A").property("n", "v").problem(),
            None
        );
        let no_id_property = UpsertInput {
            id: "A".into(),
            ..UpsertInput::default()
        };
        assert_eq!(no_id_property.problem(), None);
    }

    #[test]
    fn empty_parts_are_problems() {
        assert_eq!(
            UpsertInput::new("code", "").problem(),
            Some("the id is empty")
        );
        assert_eq!(
            UpsertInput::new("", "A").problem(),
            Some("the idProperty is empty")
        );
        assert_eq!(
            UpsertInput::new("code", "A").property("", "v").problem(),
            Some("a property name is empty")
        );
        assert_eq!(
            UpsertInput::new("code", "A").trace_id("").problem(),
            Some("the objectWriteTraceId is empty")
        );
        assert!(
            UpsertInput::new("hs_object_id", "1")
                .problem()
                .is_some_and(|p| p.contains("leave idProperty out"))
        );
    }
}
