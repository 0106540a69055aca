//! One descriptor per operation, generated beside the client, so that code which builds its own
//! request (the client's engine, the emulator's routes) takes the method, path, version and
//! headers from the contract rather than repeating them.
//!
//! The generated module reads:
//!
//! ```text
//! pub mod operations {
//!     pub const BATCH_UPSERT: &[crate::Operation] = &[ /* one per version, oldest first */ ];
//! }
//! ```
//!
//! `crate::Operation` is a hand-written struct of the crate that includes the generated code.
//! Each constant is named after the operation without its version ([`base_method_name`]), and its
//! entries are ordered by [`ApiVersion`], oldest first.

use crate::CodegenError;
use crate::normalize::base_method_name;
use crate::version::ApiVersion;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use std::collections::BTreeMap;

/// One operation of a normalized spec, as its generated method sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    /// The operation id as the contract spells it (before normalization renamed it).
    pub operation_id: String,
    /// The generated method.
    pub method_name: String,
    /// The HTTP method, upper case.
    pub method: String,
    /// The path, as in the spec.
    pub path: String,
    /// The version in the path, if any.
    pub version: Option<ApiVersion>,
    /// The request body's media type, empty without a body.
    pub content_type: String,
    /// The `Accept` header the generated method sends, empty when it sends none.
    pub accept: String,
}

/// The descriptors of every operation of a normalized spec, grouped by the operation's name
/// without its version, each group oldest first.
pub fn descriptors(spec: &Value) -> Result<BTreeMap<String, Vec<Descriptor>>, CodegenError> {
    let mut groups: BTreeMap<String, Vec<Descriptor>> = BTreeMap::new();
    for (path, method, operation) in crate::normalize::operations(spec) {
        let (path, method) = (path.as_str(), method.as_str());
        let Some(method_name) = operation.get("operationId").and_then(Value::as_str) else {
            continue;
        };
        let operation_id = operation
            .get("x-hubspot-operation-id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let content_type = match operation
            .pointer("/requestBody/content")
            .and_then(Value::as_object)
        {
            None => String::new(),
            Some(content) if content.len() == 1 => {
                content.keys().next().cloned().unwrap_or_default()
            }
            Some(content) => {
                return Err(CodegenError::Normalize(format!(
                    "`{path}` offers {} request media types; the generated method sends one",
                    content.len()
                )));
            }
        };
        groups
            .entry(base_method_name(path, method))
            .or_default()
            .push(Descriptor {
                operation_id: operation_id.to_string(),
                method_name: method_name.to_string(),
                method: method.to_ascii_uppercase(),
                path: path.to_string(),
                version: ApiVersion::in_path(path),
                content_type,
                accept: accept_header(operation).to_string(),
            });
    }
    for group in groups.values_mut() {
        group.sort_by(|a, b| a.version.cmp(&b.version));
    }
    Ok(groups)
}

/// What progenitor 0.15 sends as `Accept`: `application/json` when the success answer is typed
/// (a JSON body), nothing otherwise. Error bodies are raw (`*/*`) after normalization.
fn accept_header(operation: &Value) -> &'static str {
    let typed_success = crate::normalize::success_responses(operation).any(|response| {
        response
            .pointer("/content/application~1json/schema")
            .is_some()
    });
    if typed_success {
        "application/json"
    } else {
        ""
    }
}

/// The generated `operations` module for a normalized spec.
pub fn descriptors_module(spec: &Value) -> Result<TokenStream, CodegenError> {
    let constants = descriptors(spec)?.into_iter().map(|(base, group)| {
        let name = format_ident!("{}", base.to_ascii_uppercase());
        let doc = format!(
            " `{base}`: one entry per version of the contract, oldest first ({}).",
            group
                .iter()
                .map(|d| d.version.as_ref().map_or("unversioned", ApiVersion::as_str))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let entries = group.iter().map(|d| {
            let Descriptor {
                operation_id,
                method_name,
                method,
                path,
                content_type,
                accept,
                ..
            } = d;
            let version = d.version.as_ref().map_or("", ApiVersion::as_str);
            let beta = d.version.as_ref().is_some_and(ApiVersion::is_pre_release);
            quote! {
                crate::Operation {
                    operation_id: #operation_id,
                    method_name: #method_name,
                    method: #method,
                    path: #path,
                    version: #version,
                    beta: #beta,
                    content_type: #content_type,
                    accept: #accept,
                }
            }
        });
        quote! {
            #[doc = #doc]
            pub const #name: &[crate::Operation] = &[#(#entries),*];
        }
    });
    Ok(quote! {
        /// Each operation of the contract as its generated method sends it, for code that builds
        /// its own request.
        pub mod operations {
            #(#constants)*
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn descriptors_group_versions_oldest_first_with_the_media_types_sent() {
        let op = |id: &str, name: &str| {
            json!({ "operationId": name, "x-hubspot-operation-id": id,
                "requestBody": { "content": { "application/json": { "schema": {} } } },
                "responses": { "2XX": { "content": { "application/json": { "schema": {} } } },
                               "4XX": { "content": { "*/*": { "schema": {} } } } } })
        };
        let spec = json!({ "paths": {
            "/crm/objects/2026-09/projects/batch/upsert": { "post": op("c", "batch_upsert_2026_09") },
            "/crm/objects/v3/projects/batch/upsert": { "post": op("a", "batch_upsert_v3") },
            "/crm/objects/2026-09-beta/projects/batch/upsert": { "post": op("b", "batch_upsert_2026_09_beta") },
            "/oauth/v1/token": { "post": { "operationId": "token_v1",
                "requestBody": { "content": { "application/x-www-form-urlencoded": { "schema": {} } } },
                "responses": { "4XX": {} } } }
        } });
        let groups = descriptors(&spec).unwrap();
        let names: Vec<_> = groups["batch_upsert"]
            .iter()
            .map(|d| d.method_name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "batch_upsert_v3",
                "batch_upsert_2026_09_beta",
                "batch_upsert_2026_09"
            ]
        );
        let first = &groups["batch_upsert"][0];
        assert_eq!(first.operation_id, "a");
        assert_eq!(first.method, "POST");
        assert_eq!(first.content_type, "application/json");
        assert_eq!(first.accept, "application/json");
        let token = &groups["token"][0];
        assert_eq!(token.content_type, "application/x-www-form-urlencoded");
        assert_eq!(token.accept, "", "no typed answer, no Accept header");
        let code = descriptors_module(&spec).unwrap().to_string();
        assert!(code.contains("pub const BATCH_UPSERT"), "{code}");
        assert!(code.contains("pub const TOKEN"), "{code}");
        assert!(code.contains("beta : true"), "{code}");
    }
}
