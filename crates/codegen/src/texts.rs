//! The texts of a contract: descriptions, summaries, titles and examples.
//!
//! HubSpot's files may be read for facts (paths, names, types, required lists, enums, formats,
//! the layout) but their prose is HubSpot's. An import therefore keeps the contract's own texts
//! wherever the contract already has the operation, schema, property, parameter or response, and
//! brings none of the file's: a new one has no description, except where OpenAPI requires one
//! (a response), which gets a short neutral text made from its status.
//!
//! The same walk, with nothing to keep, strips every text, so that two definitions can be
//! compared for what they mean to a program.

use serde_json::Value;

/// The keys of an OpenAPI object that hold text rather than facts.
const TEXT_KEYS: [&str; 5] = ["description", "summary", "title", "example", "examples"];

/// What a JSON value is in an OpenAPI document, as far as its texts go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// An object whose keys are OpenAPI fields: an operation, a schema, a response, a parameter.
    Node,
    /// A map from names to objects: `properties`, `content`, `schemas`, `paths`.
    Named,
    /// `responses`: statuses (or, under `components`, names) to responses, which need a
    /// description.
    Responses,
    /// An OAuth flow's `scopes`: each scope's name and its description.
    Scopes,
    /// A list of objects: `parameters` (paired by name and location), `allOf`, `oneOf`, `anyOf`
    /// (paired by position).
    List,
    /// Facts only, and values whose keys are data rather than fields: `enum`, `default`,
    /// `required`, `security`, extensions.
    Opaque,
}

/// The role of the value at `key` of an OpenAPI object.
fn role_of(key: &str, value: &Value) -> Role {
    match key {
        _ if key.starts_with("x-") => Role::Opaque,
        "enum" | "default" | "required" | "security" | "tags" | "discriminator" => Role::Opaque,
        "responses" => Role::Responses,
        "scopes" => Role::Scopes,
        "allOf" | "oneOf" | "anyOf" | "servers" => Role::List,
        // Under an operation or a path, a list; under `components`, a map of names.
        "parameters" if value.is_array() => Role::List,
        "parameters" | "properties" | "content" | "headers" | "encoding" | "links"
        | "callbacks" | "variables" | "schemas" | "requestBodies" | "securitySchemes" | "flows"
        | "paths" => Role::Named,
        _ => Role::Node,
    }
}

/// Gives `new` (an operation, a component, any OpenAPI object) the texts of `old`, the same
/// thing as the contract has it: each object of `new` keeps exactly the texts of the object in
/// the same place of `old`, and an object `old` lacks keeps none. Responses without a
/// description get a neutral one.
pub(crate) fn keep_our_texts(new: &mut Value, old: Option<&Value>) {
    walk(new, old, Role::Node);
}

/// [`keep_our_texts`] for a component of `kind` (`schemas`, `responses`...) named `name`.
pub(crate) fn keep_our_component_texts(
    kind: &str,
    name: &str,
    new: &mut Value,
    old: Option<&Value>,
) {
    let mut wrapper = Value::Object([(name.to_string(), new.take())].into_iter().collect());
    let old = old.map(|o| Value::Object([(name.to_string(), o.clone())].into_iter().collect()));
    let role = role_of(kind, &wrapper);
    walk(&mut wrapper, old.as_ref(), role);
    *new = wrapper[name].take();
}

/// `value` without any text: what it means to a program.
pub(crate) fn without_texts(value: &Value) -> Value {
    let mut value = value.clone();
    walk(&mut value, None, Role::Node);
    value
}

fn walk(new: &mut Value, old: Option<&Value>, role: Role) {
    match role {
        Role::Opaque => {}
        Role::Node => {
            let Some(map) = new.as_object_mut() else {
                return;
            };
            map.retain(|key, _| !TEXT_KEYS.contains(&key.as_str()));
            for (key, child) in map.iter_mut() {
                let role = role_of(key, child);
                walk(child, old.and_then(|o| o.get(key)), role);
            }
            if let Some(old) = old.and_then(Value::as_object) {
                for (key, text) in old {
                    if TEXT_KEYS.contains(&key.as_str()) {
                        map.insert(key.clone(), text.clone());
                    }
                }
            }
        }
        Role::Named | Role::Responses => {
            let Some(map) = new.as_object_mut() else {
                return;
            };
            for (name, child) in map.iter_mut() {
                walk(child, old.and_then(|o| o.get(name)), Role::Node);
                if role == Role::Responses
                    && let Some(response) = child.as_object_mut()
                    && !response.contains_key("$ref")
                    && !response.contains_key("description")
                {
                    response.insert(
                        "description".to_string(),
                        Value::String(neutral_response_description(name)),
                    );
                }
            }
        }
        Role::Scopes => {
            let Some(map) = new.as_object_mut() else {
                return;
            };
            for (scope, text) in map.iter_mut() {
                *text = old
                    .and_then(|o| o.get(scope))
                    .filter(|t| t.is_string())
                    .cloned()
                    .unwrap_or_else(|| Value::String(String::new()));
            }
        }
        Role::List => {
            let Some(items) = new.as_array_mut() else {
                return;
            };
            let old_items = old.and_then(Value::as_array);
            for (index, item) in items.iter_mut().enumerate() {
                let old_item = old_items.and_then(|olds| same_item(olds, item, index));
                walk(item, old_item, Role::Node);
            }
        }
    }
}

/// The item of `olds` that is the same as `item`: the parameter with the same name and location,
/// the same reference, or else the one at the same position.
fn same_item<'a>(olds: &'a [Value], item: &Value, index: usize) -> Option<&'a Value> {
    let key = |v: &Value| {
        (
            v.get("name").cloned(),
            v.get("in").cloned(),
            v.get("$ref").cloned(),
        )
    };
    let identity = key(item);
    if identity != (None, None, None) {
        return olds.iter().find(|old| key(old) == identity);
    }
    olds.get(index)
}

/// A description of our own for a response OpenAPI requires one for: made from its status.
fn neutral_response_description(status: &str) -> String {
    match status {
        "default" => "Any other answer.".to_string(),
        status => format!("The {status} answer."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_contracts_texts_stay_and_the_files_never_arrive() {
        let old = json!({
            "description": "Ours.",
            "properties": {
                "id": { "type": "string", "description": "Our id." },
                "gone": { "type": "string", "description": "Our gone." },
                "warnings": { "type": "array", "description": "Our warnings." },
            },
            "required": ["id"],
        });
        let mut new = json!({
            "description": "Theirs.",
            "example": { "id": "1" },
            "properties": {
                "id": { "type": "integer", "description": "Their id.", "format": "int64" },
                "description": { "type": "string", "description": "Their new field." },
                "warnings": { "type": "array" },
            },
            "required": ["id", "description"],
        });
        keep_our_texts(&mut new, Some(&old));
        assert_eq!(
            new,
            json!({
                "description": "Ours.",
                "properties": {
                    "id": { "type": "integer", "description": "Our id.", "format": "int64" },
                    "description": { "type": "string" },
                    "warnings": { "type": "array", "description": "Our warnings." },
                },
                "required": ["id", "description"],
            })
        );
    }

    #[test]
    fn an_operation_keeps_its_texts_by_parameter_and_status_and_new_responses_get_ours() {
        let old = json!({
            "summary": "Our summary.",
            "parameters": [
                { "name": "a", "in": "query", "description": "Our a." },
                { "name": "b", "in": "query", "description": "Our b." },
            ],
            "responses": {
                "200": { "description": "Ours: written." },
                "default": { "$ref": "#/components/responses/Error" },
            },
        });
        let mut new = json!({
            "summary": "Their summary.",
            "description": "Their description.",
            "parameters": [
                { "name": "b", "in": "query", "description": "Their b." },
                { "name": "c", "in": "query", "description": "Their c." },
            ],
            "responses": {
                "200": { "description": "Their 200." },
                "207": { "description": "Their 207." },
                "default": { "$ref": "#/components/responses/Error", "description": "" },
            },
            "security": [{ "oauth2": ["scope"] }],
            "tags": ["Batch"],
        });
        keep_our_texts(&mut new, Some(&old));
        assert_eq!(
            new,
            json!({
                "summary": "Our summary.",
                "parameters": [
                    { "name": "b", "in": "query", "description": "Our b." },
                    { "name": "c", "in": "query" },
                ],
                "responses": {
                    "200": { "description": "Ours: written." },
                    "207": { "description": "The 207 answer." },
                    "default": { "$ref": "#/components/responses/Error" },
                },
                "security": [{ "oauth2": ["scope"] }],
                "tags": ["Batch"],
            })
        );
    }

    #[test]
    fn scopes_keep_our_descriptions_and_new_ones_have_none() {
        let old = json!({ "flows": { "authorizationCode": { "scopes": { "a": "Ours." } } } });
        let mut new = json!({ "flows": { "authorizationCode": {
            "tokenUrl": "https://example.com/token",
            "scopes": { "a": "Theirs.", "b": "Theirs too." },
        } } });
        keep_our_texts(&mut new, Some(&old));
        assert_eq!(
            new["flows"]["authorizationCode"],
            json!({ "tokenUrl": "https://example.com/token", "scopes": { "a": "Ours.", "b": "" } })
        );
    }

    #[test]
    fn without_texts_keeps_every_fact() {
        let value = json!({
            "description": "Text.",
            "type": "object",
            "properties": { "summary": { "type": "string", "enum": ["a"], "description": "x" } },
            "required": ["summary"],
        });
        assert_eq!(
            without_texts(&value),
            json!({
                "type": "object",
                "properties": { "summary": { "type": "string", "enum": ["a"] } },
                "required": ["summary"],
            })
        );
    }
}
