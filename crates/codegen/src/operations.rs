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
//!
//! Beside each constant, [`by_version_impl`] gives the generated `Client` one method that calls
//! whichever version a descriptor names, so that code which picks the version at run time (and
//! every test that walks a constant) needs no hand-written list of the per-version methods:
//!
//! ```text
//! impl Client {
//!     pub async fn batch_upsert_by_version<'a>(
//!         &'a self,
//!         operation: &crate::Operation,
//!         body: &'a types::BatchInputSimplePublicObjectBatchInputUpsert,
//!     ) -> Result<ResponseValue<…>, Error<ByteStream>> {
//!         match operation.method_name {
//!             "batch_upsert_v3" => self.batch_upsert_v3(body).await,
//!             /* one arm per entry of BATCH_UPSERT */
//!             _ => Err(Error::InvalidRequest(…)),
//!         }
//!     }
//! }
//! ```

use crate::CodegenError;
use crate::normalize::base_method_name;
use crate::version::ApiVersion;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;
use std::collections::BTreeMap;
use syn::punctuated::Punctuated;

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

/// The name of the generated method that calls the version of `base` a descriptor names:
/// `batch_upsert` → `batch_upsert_by_version`. No per-version method can have it, since theirs
/// end with a version.
pub fn by_version_method_name(base: &str) -> String {
    format!("{base}_by_version")
}

/// An `impl Client` with, for each group of `groups` (the [`descriptors`] of a normalized spec),
/// the method [`by_version_method_name`]: it takes the descriptor (`&crate::Operation`) and then
/// the arguments every version's method takes, and calls the method the descriptor names. Its
/// signature is the per-version methods' own, read from `generated` (progenitor's output for
/// that spec): the versions of an operation must take and answer the same types, or one method
/// could not call them all, and that is an error here rather than a surprise at build time.
pub fn by_version_impl(
    groups: &BTreeMap<String, Vec<Descriptor>>,
    generated: &syn::File,
) -> Result<TokenStream, CodegenError> {
    let methods = client_methods(generated);
    let mut out = Vec::new();
    for (base, group) in groups {
        let name = by_version_method_name(base);
        if methods.contains_key(&name) {
            return Err(CodegenError::Generate(format!(
                "the generated client already has a method `{name}`"
            )));
        }
        let mut signatures = Vec::with_capacity(group.len());
        for descriptor in group {
            let signature = methods.get(&descriptor.method_name).ok_or_else(|| {
                CodegenError::Generate(format!(
                    "the generated client has no method `{}` for `{} {}`",
                    descriptor.method_name, descriptor.method, descriptor.path
                ))
            })?;
            signatures.push(*signature);
        }
        let Some(first) = signatures.first() else {
            continue;
        };
        let shape = |signature: &syn::Signature| {
            let mut signature = signature.clone();
            signature.ident = format_ident!("each_version");
            quote!(#signature).to_string()
        };
        if let Some((descriptor, _)) = group
            .iter()
            .zip(&signatures)
            .find(|(_, signature)| shape(signature) != shape(first))
        {
            return Err(CodegenError::Generate(format!(
                "`{}` and `{}` take or answer different types, so no one `{name}` can call \
                 both: give the versions of `{base}` the same request and answer schemas",
                group[0].method_name, descriptor.method_name
            )));
        }
        out.push(by_version_method(base, &name, group, first)?);
    }
    Ok(quote! {
        #[allow(clippy::all)]
        impl Client {
            #(#out)*
        }
    })
}

/// The methods of the generated `Client`, by name.
fn client_methods(generated: &syn::File) -> BTreeMap<String, &syn::Signature> {
    let mut methods = BTreeMap::new();
    for item in &generated.items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let syn::Type::Path(self_type) = &*block.self_ty else {
            continue;
        };
        if block.trait_.is_some() || !self_type.path.is_ident("Client") {
            continue;
        }
        for item in &block.items {
            if let syn::ImplItem::Fn(function) = item {
                methods.insert(function.sig.ident.to_string(), &function.sig);
            }
        }
    }
    methods
}

/// [`by_version_impl`]'s method for one group, shaped after `signature`, its first version's.
fn by_version_method(
    base: &str,
    name: &str,
    group: &[Descriptor],
    signature: &syn::Signature,
) -> Result<TokenStream, CodegenError> {
    let refuse = |why: &str| {
        CodegenError::Generate(format!(
            "cannot generate `{name}` from `{}`: {why}",
            group[0].method_name
        ))
    };
    let mut signature = signature.clone();
    signature.ident = format_ident!("{name}");
    if signature.asyncness.is_none() {
        return Err(refuse("it is not async"));
    }
    let mut inputs = signature.inputs.iter();
    if !matches!(inputs.next(), Some(syn::FnArg::Receiver(_))) {
        return Err(refuse("it takes no `self`"));
    }
    let mut arguments = Vec::new();
    for input in inputs {
        let syn::FnArg::Typed(typed) = input else {
            return Err(refuse("it takes `self` twice"));
        };
        let syn::Pat::Ident(pattern) = &*typed.pat else {
            return Err(refuse("an argument is a pattern rather than a name"));
        };
        if pattern.ident == "operation" {
            return Err(refuse("an argument is already named `operation`"));
        }
        arguments.push(pattern.ident.clone());
    }
    let mut with_operation: Punctuated<syn::FnArg, syn::Token![,]> = Punctuated::new();
    for (at, input) in signature.inputs.iter().enumerate() {
        with_operation.push(input.clone());
        if at == 0 {
            with_operation.push(syn::parse_quote!(operation: &crate::Operation));
        }
    }
    signature.inputs = with_operation;

    let constant = base.to_ascii_uppercase();
    let doc = [
        format!(" Calls the version of `{base}` that `operation` names, one of"),
        format!(" [`operations::{constant}`], for code that picks the API version at run time:"),
        " every version takes and answers the same types.".to_string(),
        String::new(),
        " Any other operation answers [`Error::InvalidRequest`] without sending anything."
            .to_string(),
    ];
    let arms = group.iter().map(|descriptor| {
        let method_name = &descriptor.method_name;
        let method = format_ident!("{method_name}");
        quote! { #method_name => self.#method(#(#arguments),*).await, }
    });
    let unknown = format!("`{{}}` (`{{}} {{}}`) is not a version of `{base}` of this client");
    Ok(quote! {
        #(#[doc = #doc])*
        pub #signature {
            match operation.method_name {
                #(#arms)*
                other => Err(Error::InvalidRequest(format!(
                    #unknown,
                    other, operation.method, operation.path
                ))),
            }
        }
    })
}

/// The generated `operations` module for `groups`, the [`descriptors`] of a normalized spec.
pub fn descriptors_module(groups: &BTreeMap<String, Vec<Descriptor>>) -> TokenStream {
    let constants = groups.iter().map(|(base, group)| {
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
    quote! {
        /// Each operation of the contract as its generated method sends it, for code that builds
        /// its own request.
        pub mod operations {
            #(#constants)*
        }
    }
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
        let code = descriptors_module(&groups).to_string();
        assert!(code.contains("pub const BATCH_UPSERT"), "{code}");
        assert!(code.contains("pub const TOKEN"), "{code}");
        assert!(code.contains("beta : true"), "{code}");
    }

    /// A spec of the batch upsert in `versions`, each named as normalization names it.
    fn upsert_spec(versions: &[&str]) -> Value {
        let paths: serde_json::Map<String, Value> = versions
            .iter()
            .map(|version| {
                let name = format!("batch_upsert_{}", version.replace('-', "_"));
                let path = format!("/crm/objects/{version}/projects/batch/upsert");
                (path, json!({ "post": { "operationId": name } }))
            })
            .collect();
        json!({ "paths": paths })
    }

    /// progenitor's `Client` as far as the by-version methods read it: one method per entry of
    /// `methods`, (name, body type).
    fn client(methods: &[(&str, &str)]) -> syn::File {
        let methods = methods.iter().map(|(name, body)| {
            let name = format_ident!("{name}");
            let body: syn::Type = syn::parse_str(body).unwrap();
            quote! {
                pub async fn #name<'a>(&'a self, body: &'a #body)
                    -> Result<ResponseValue<types::Answer>, Error<ByteStream>> {
                        Err(Error::InvalidRequest(String::new()))
                    }
            }
        });
        syn::parse2(quote! {
            impl ClientInfo<()> for Client { fn api_version() -> &'static str { "x" } }
            #[allow(clippy::all)]
            impl Client { #(#methods)* }
        })
        .unwrap()
    }

    /// The code of `tokens` as the generated file spells it.
    fn unparse(tokens: TokenStream) -> String {
        prettyplease::unparse(&syn::parse2(tokens).unwrap())
    }

    #[test]
    fn the_by_version_method_calls_each_version_the_contract_holds_oldest_first() {
        let versions = ["2027-03", "v3", "2026-09-beta", "2026-03"];
        let spec = upsert_spec(&versions);
        let names = versions.map(|version| format!("batch_upsert_{}", version.replace('-', "_")));
        let generated = client(&names.each_ref().map(|name| (name.as_str(), "types::Body")));
        let code = unparse(by_version_impl(&descriptors(&spec).unwrap(), &generated).unwrap());
        assert!(
            code.contains(
                "pub async fn batch_upsert_by_version<'a>(\n        &'a self,\n        \
                 operation: &crate::Operation,\n        body: &'a types::Body,\n    ) -> \
                 Result<ResponseValue<types::Answer>, Error<ByteStream>> {\n        \
                 match operation.method_name {\n"
            ),
            "{code}"
        );
        let arms: Vec<&str> = code
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("\"batch_upsert_"))
            .collect();
        assert_eq!(
            arms,
            [
                "\"batch_upsert_v3\" => self.batch_upsert_v3(body).await,",
                "\"batch_upsert_2026_03\" => self.batch_upsert_2026_03(body).await,",
                "\"batch_upsert_2026_09_beta\" => self.batch_upsert_2026_09_beta(body).await,",
                "\"batch_upsert_2027_03\" => self.batch_upsert_2027_03(body).await,",
            ]
        );
        assert!(code.contains("other => {"), "{code}");
        assert!(code.contains("Error::InvalidRequest("), "{code}");
        assert!(
            code.contains("/// [`operations::BATCH_UPSERT`], for code"),
            "{code}"
        );
    }

    #[test]
    fn versions_that_differ_in_their_types_or_a_missing_method_are_refused() {
        let groups = descriptors(&upsert_spec(&["v3", "2026-03"])).unwrap();
        let differ = client(&[
            ("batch_upsert_v3", "types::Body"),
            ("batch_upsert_2026_03", "types::OtherBody"),
        ]);
        let err = by_version_impl(&groups, &differ).unwrap_err().to_string();
        assert!(
            err.contains(
                "`batch_upsert_v3` and `batch_upsert_2026_03` take or answer different types"
            ),
            "{err}"
        );
        let missing = client(&[("batch_upsert_v3", "types::Body")]);
        let err = by_version_impl(&groups, &missing).unwrap_err().to_string();
        assert!(
            err.contains("no method `batch_upsert_2026_03` for `POST /crm/objects/2026-03/"),
            "{err}"
        );
    }
}
