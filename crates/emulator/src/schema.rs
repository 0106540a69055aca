//! The property schema of projects: each property's name, type, and whether it is unique or
//! read-only.

use std::fmt;
use std::str::FromStr;

use crate::config::ConfigError;
use crate::props::PropId;

/// A property's type, as HubSpot names it; it decides which values a write may carry.
///
/// An empty value is valid for every type: it clears the property.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertyType {
    /// Any text.
    String,
    /// A decimal number such as `42`, `-3` or `12.50` (no exponent, no spaces).
    Number,
    /// `true` or `false` (any case).
    Bool,
    /// A calendar date: `YYYY-MM-DD`, or a Unix timestamp in milliseconds at midnight UTC.
    Date,
    /// A point in time: ISO 8601 (`2027-03-01T09:30:00Z`, `2027-03-01T09:30:00.123+02:00`,
    /// `2027-03-01T09:30:00` taken as UTC, or `2027-03-01`), or a Unix timestamp in
    /// milliseconds.
    Datetime,
    /// One of the listed options (their internal values, compared exactly).
    Enumeration(Vec<String>),
}

impl PropertyType {
    /// HubSpot's name of the type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Bool => "bool",
            Self::Date => "date",
            Self::Datetime => "datetime",
            Self::Enumeration(_) => "enumeration",
        }
    }
}

impl fmt::Display for PropertyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A property of the schema: added to the default ones, or redefining one of them.
///
/// ```
/// use hubspot_projects_emulator::{PropertyDef, PropertyType};
/// let stage: PropertyDef = "stage:enumeration:options=new|won|lost".parse().unwrap();
/// assert_eq!(stage.property_type, PropertyType::Enumeration(vec!["new".into(), "won".into(), "lost".into()]));
/// let code: PropertyDef = "external_ref:unique".parse().unwrap();
/// assert_eq!((code.property_type, code.unique), (PropertyType::String, true));
/// assert_eq!(PropertyDef::new("budget", PropertyType::Number).to_string(), "budget:number");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropertyDef {
    /// The property's internal name.
    pub name: String,
    /// Its type, which decides the values a write may carry.
    pub property_type: PropertyType,
    /// Whether its values are unique (`hasUniqueValue`), which lets it serve as `idProperty`.
    /// Only `string` and `number` properties may be unique, as in HubSpot.
    pub unique: bool,
}

impl PropertyDef {
    /// A property whose values need not be unique.
    pub fn new(name: impl Into<String>, property_type: PropertyType) -> Self {
        Self {
            name: name.into(),
            property_type,
            unique: false,
        }
    }

    /// The same property, with unique values.
    pub fn with_unique_values(mut self) -> Self {
        self.unique = true;
        self
    }

    /// Checks the name, the options of an enumeration, and that only a string or number
    /// property is unique.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name = &self.name;
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(ConfigError(format!(
                "property name {name:?} is not valid: use letters, digits, '_' and '-'"
            )));
        }
        if let PropertyType::Enumeration(options) = &self.property_type
            && (options.is_empty() || options.iter().any(String::is_empty))
        {
            return Err(ConfigError(format!(
                "property {name}: an enumeration needs options=a|b|c, none of them empty"
            )));
        }
        if self.unique
            && !matches!(
                self.property_type,
                PropertyType::String | PropertyType::Number
            )
        {
            return Err(ConfigError(format!(
                "property {name}: only string and number properties can be unique, not {}",
                self.property_type
            )));
        }
        Ok(())
    }
}

/// Writes `NAME:TYPE[:unique][:options=a|b|c]`, which [`FromStr`] reads back.
impl fmt::Display for PropertyDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.property_type)?;
        if self.unique {
            f.write_str(":unique")?;
        }
        if let PropertyType::Enumeration(options) = &self.property_type {
            write!(f, ":options={}", options.join("|"))?;
        }
        Ok(())
    }
}

/// Parses `NAME`, `NAME:unique` (both strings), or `NAME:TYPE[:unique][:options=a|b|c]` with
/// TYPE one of `string`, `number`, `bool`, `date`, `datetime`, `enumeration`.
impl FromStr for PropertyDef {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(':');
        let name = parts.next().unwrap_or_default();
        let mut type_name: Option<&str> = None;
        let mut unique = false;
        let mut options: Option<Vec<String>> = None;
        for part in parts {
            if part == "unique" && !unique {
                unique = true;
            } else if let Some(list) = part.strip_prefix("options=")
                && options.is_none()
            {
                options = Some(list.split('|').map(str::to_string).collect());
            } else if type_name.is_none() && !unique && options.is_none() {
                type_name = Some(part);
            } else {
                return Err(ConfigError(format!(
                    "property {s:?}: unexpected {part:?}; expected NAME:TYPE[:unique][:options=a|b|c]"
                )));
            }
        }
        let property_type = match (type_name.unwrap_or("string"), options) {
            ("enumeration", Some(options)) => PropertyType::Enumeration(options),
            ("enumeration", None) => PropertyType::Enumeration(Vec::new()),
            (_, Some(_)) => {
                return Err(ConfigError(format!(
                    "property {s:?}: options=… belongs to an enumeration"
                )));
            }
            ("string", None) => PropertyType::String,
            ("number", None) => PropertyType::Number,
            ("bool", None) => PropertyType::Bool,
            ("date", None) => PropertyType::Date,
            ("datetime", None) => PropertyType::Datetime,
            (other, None) => {
                return Err(ConfigError(format!(
                    "property {s:?}: unknown type {other:?} (string, number, bool, date, datetime, enumeration)"
                )));
            }
        };
        let def = Self {
            name: name.to_string(),
            property_type,
            unique,
        };
        def.validate()?;
        Ok(def)
    }
}

/// What a write may do with a property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Written freely.
    Plain,
    /// Written, and no two records share a value; may serve as `idProperty`.
    Unique,
    /// Maintained by HubSpot: readable, never writable.
    ReadOnly,
}

/// Properties HubSpot maintains itself: readable, never writable.
pub(crate) const SYSTEM_PROPERTIES: [&str; 3] =
    ["hs_object_id", "hs_createdate", "hs_lastmodifieddate"];

/// The custom unique property every default schema holds.
pub(crate) const DEFAULT_UNIQUE_PROPERTY: &str = "project_code";

/// The stages of the default schema's `hs_pipeline_stage`: the values the project's demo,
/// benchmarks and examples write, and a few more.
pub const DEFAULT_PIPELINE_STAGES: [&str; 7] = [
    "planning",
    "planned",
    "in_progress",
    "on_hold",
    "at_risk",
    "done",
    "cancelled",
];

/// HubSpot's built-in project properties held by default, typed as HubSpot types them.
fn built_in_properties() -> Vec<PropertyDef> {
    vec![
        PropertyDef::new("hs_name", PropertyType::String),
        PropertyDef::new("hs_description", PropertyType::String),
        PropertyDef::new("hs_pipeline", PropertyType::String),
        PropertyDef::new(
            "hs_pipeline_stage",
            PropertyType::Enumeration(DEFAULT_PIPELINE_STAGES.map(String::from).to_vec()),
        ),
        PropertyDef::new("hs_target_due_date", PropertyType::Date),
        PropertyDef::new("hubspot_owner_id", PropertyType::Number),
        PropertyDef::new(DEFAULT_UNIQUE_PROPERTY, PropertyType::String).with_unique_values(),
    ]
}

/// One property of the schema.
#[derive(Clone, Debug)]
pub(crate) struct Property {
    pub name: Box<str>,
    pub access: Access,
    pub property_type: PropertyType,
}

/// The known properties of projects, each numbered so that records store small ids rather than
/// names.
#[derive(Clone, Debug)]
pub(crate) struct Schema {
    ids: foldhash::HashMap<String, PropId>,
    /// By id.
    props: Vec<Property>,
}

impl Schema {
    /// The default schema, with `extra` added; an extra property named like a default one
    /// replaces it.
    pub(crate) fn new(extra: &[PropertyDef]) -> Self {
        let mut schema = Self {
            ids: foldhash::HashMap::default(),
            props: Vec::new(),
        };
        for name in SYSTEM_PROPERTIES {
            let system = name == "hs_object_id";
            let property_type = if system {
                PropertyType::Number
            } else {
                PropertyType::Datetime
            };
            schema.define(name, Access::ReadOnly, property_type);
        }
        for def in built_in_properties().iter().chain(extra) {
            let access = if def.unique {
                Access::Unique
            } else {
                Access::Plain
            };
            schema.define(&def.name, access, def.property_type.clone());
        }
        schema
    }

    /// Adds a property, or redefines a known one: the last definition wins.
    fn define(&mut self, name: &str, access: Access, property_type: PropertyType) {
        let property = Property {
            name: name.into(),
            access,
            property_type,
        };
        match self.ids.get(name).and_then(|&id| self.props.get_mut(id)) {
            Some(slot) => *slot = property,
            None => {
                self.ids.insert(name.to_string(), self.props.len());
                self.props.push(property);
            }
        }
    }

    /// The id and definition of a known property.
    pub(crate) fn get(&self, name: &str) -> Option<(PropId, &Property)> {
        let id = *self.ids.get(name)?;
        Some((id, self.props.get(id)?))
    }

    /// How a known property may be written.
    pub(crate) fn access(&self, name: &str) -> Option<Access> {
        self.get(name).map(|(_, property)| property.access)
    }

    /// The name of a property id.
    pub(crate) fn name(&self, id: PropId) -> &str {
        self.props.get(id).map_or("", |prop| &prop.name)
    }

    /// Whether `name` is a known property.
    pub(crate) fn knows(&self, name: &str) -> bool {
        self.ids.contains_key(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_and_typed_forms_parse() {
        let plain: PropertyDef = "region".parse().unwrap();
        assert_eq!(plain, PropertyDef::new("region", PropertyType::String));
        let unique: PropertyDef = "ext:unique".parse().unwrap();
        assert!(unique.unique && unique.property_type == PropertyType::String);
        let number: PropertyDef = "budget:number:unique".parse().unwrap();
        assert!(number.unique && number.property_type == PropertyType::Number);
        for (text, ty) in [
            ("a:bool", PropertyType::Bool),
            ("a:date", PropertyType::Date),
            ("a:datetime", PropertyType::Datetime),
            ("a:string", PropertyType::String),
        ] {
            assert_eq!(text.parse::<PropertyDef>().unwrap().property_type, ty);
        }
        let stage: PropertyDef = "stage:enumeration:options=a|b".parse().unwrap();
        assert_eq!(stage.to_string(), "stage:enumeration:options=a|b");
        assert_eq!(stage.to_string().parse::<PropertyDef>().unwrap(), stage);
    }

    #[test]
    fn bad_definitions_are_refused_with_the_reason() {
        for (text, says) in [
            ("", "not valid"),
            ("a b", "not valid"),
            ("a:text", "unknown type"),
            ("a:enumeration", "needs options"),
            ("a:enumeration:options=", "needs options"),
            ("a:string:options=x", "belongs to an enumeration"),
            ("a:bool:unique", "only string and number"),
            ("a:unique:unique", "unexpected"),
            ("a:number:date", "unexpected"),
        ] {
            let error = text.parse::<PropertyDef>().unwrap_err();
            assert!(error.0.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn built_ins_are_typed_as_hubspot_types_them() {
        let schema = Schema::new(&[]);
        let ty = |name: &str| schema.get(name).unwrap().1.property_type.clone();
        assert_eq!(ty("hs_target_due_date"), PropertyType::Date);
        assert_eq!(ty("hubspot_owner_id"), PropertyType::Number);
        assert_eq!(ty("hs_name"), PropertyType::String);
        assert!(matches!(
            ty("hs_pipeline_stage"),
            PropertyType::Enumeration(_)
        ));
        assert_eq!(schema.access("project_code"), Some(Access::Unique));
        assert_eq!(schema.access("hs_object_id"), Some(Access::ReadOnly));
        assert_eq!(schema.access("nope"), None);
    }

    #[test]
    fn a_configured_property_redefines_a_built_in_one() {
        let schema =
            Schema::new(&[PropertyDef::new("hs_name", PropertyType::String).with_unique_values()]);
        assert_eq!(schema.access("hs_name"), Some(Access::Unique));
        let (id, _) = schema.get("hs_name").unwrap();
        assert_eq!(schema.name(id), "hs_name");
    }
}
