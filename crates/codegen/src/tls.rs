//! The generated `Client::new` builds its own HTTP client with `reqwest::ClientBuilder::new()`.
//! This workspace builds reqwest without a default TLS crypto provider (rustls with ring is set
//! up by the generated crate's `http` module instead), so that call would panic at `build()`.
//! [`use_crate_http_builder`] points it at `crate::http::default_client_builder()`.

use syn::visit_mut::VisitMut;

/// The function the generated crate provides in place of `reqwest::ClientBuilder::new()`.
pub const CLIENT_BUILDER_FN: &str = "crate::http::default_client_builder";

/// Replaces every call of `reqwest::ClientBuilder::new()` in `file` with [`CLIENT_BUILDER_FN`].
/// Returns how many calls were replaced.
pub fn use_crate_http_builder(file: &mut syn::File) -> usize {
    let mut rewrite = Rewrite { replaced: 0 };
    rewrite.visit_file_mut(file);
    rewrite.replaced
}

struct Rewrite {
    replaced: usize,
}

impl VisitMut for Rewrite {
    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        syn::visit_mut::visit_expr_call_mut(self, call);
        let syn::Expr::Path(path) = &*call.func else {
            return;
        };
        let names: Vec<String> = path
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if call.args.is_empty()
            && names == ["reqwest", "ClientBuilder", "new"]
            && let Ok(replacement) = syn::parse_str::<syn::Expr>(CLIENT_BUILDER_FN)
        {
            *call.func = replacement;
            self.replaced += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_call_is_replaced_and_nothing_else() {
        let mut file: syn::File = syn::parse_str(
            "fn new() { let a = reqwest::ClientBuilder::new().timeout(d); let b = reqwest::Client::new(); let c = other::ClientBuilder::new(); }",
        )
        .unwrap();
        assert_eq!(use_crate_http_builder(&mut file), 1);
        let text = prettyplease::unparse(&file);
        assert!(
            text.contains("crate::http::default_client_builder().timeout(d)"),
            "{text}"
        );
        assert!(text.contains("reqwest::Client::new()"), "{text}");
        assert!(text.contains("other::ClientBuilder::new()"), "{text}");
    }
}
