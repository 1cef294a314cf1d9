//! The generated `mod urls`: one const per name, `ALL`, `reverse` and
//! `router()`; and the stub emitted next to errors.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::Ident;

use super::{
    parse::{Entry, Urls},
    views::ViewKind,
};

fn const_name(entry: &Entry) -> Ident {
    format_ident!(
        "{}",
        entry
            .name
            .to_string()
            .trim_start_matches("r#")
            .to_uppercase(),
        span = entry.name.span()
    )
}

fn module(urls: Option<&Urls>) -> (TokenStream, Ident) {
    match urls {
        Some(urls) => {
            let vis = &urls.vis;
            (
                quote!(#vis),
                urls.module.clone().unwrap_or_else(|| format_ident!("urls")),
            )
        }
        None => (quote!(), format_ident!("urls")),
    }
}

/// The consts and `ALL` of the declared entries (the first of any repeated
/// name, which only a stub can meet).
fn names(urls: &Urls) -> TokenStream {
    let mut seen = Vec::new();
    let entries: Vec<&Entry> = urls
        .entries
        .iter()
        .filter(|entry| {
            let name = const_name(entry).to_string();
            let first = !seen.contains(&name);
            seen.push(name);
            first
        })
        .collect();
    let consts = entries.iter().map(|entry| {
        let name = const_name(entry);
        let path = &entry.path;
        let doc = format!(
            "`{}`, served by `{}` (named `{}`).",
            path.value(),
            entry.view,
            entry.name
        );
        quote!(#[doc = #doc] pub const #name: &str = #path;)
    });
    let all = entries.iter().map(|entry| {
        let key = entry.name.to_string().trim_start_matches("r#").to_owned();
        let name = const_name(entry);
        quote!((#key, #name))
    });
    quote! {
        #(#consts)*

        /// Every `(name, path)`, in declaration order.
        pub const ALL: &[(&str, &str)] = &[#(#all),*];

        /// The path declared under `name` (Django's `reverse`).
        pub fn reverse(name: &str) -> ::core::option::Option<&'static str> {
            ALL.iter().find(|(n, _)| *n == name).map(|(_, path)| *path)
        }
    }
}

pub(crate) fn expand(urls: &Urls, views: &[&ViewKind]) -> TokenStream {
    let krate = crate::krate::path();
    let (vis, module) = module(Some(urls));
    let declared = |view: &str| {
        urls.entries
            .iter()
            .find(|entry| entry.view == view)
            .map(const_name)
    };
    let login = declared("LoginView");
    let routes = urls.entries.iter().zip(views).map(|(entry, kind)| {
        let name = const_name(entry);
        let view = &entry.view;
        let options = entry.options.iter().map(|o| {
            let (key, value) = (&o.key, &o.value);
            quote!(.#key(#value))
        });
        let login_url = match (&login, kind.needs_login()) {
            (Some(login), true) => quote!(.login_url(#login)),
            _ => quote!(),
        };
        let overridden = entry.options.iter().any(|o| o.key == "success_url");
        let success = match kind.success_view().and_then(declared) {
            Some(done) if !overridden => quote!(.success_url(#done)),
            _ => quote!(),
        };
        let links = match kind.links_to().and_then(declared) {
            Some(target) => quote!(.confirm_url(#target)),
            None => quote!(),
        };
        // `<name>` segments are axum's `{name}` parameters.
        let route_path = entry
            .path
            .value()
            .split('/')
            .map(|segment| match segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                Some(name) => format!("{{{name}}}"),
                None => segment.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("/");
        let route = if route_path == entry.path.value() {
            quote!(#name)
        } else {
            quote!(#route_path)
        };
        let module = kind.module();
        quote! {
            .route(#route, #krate::#module::#view::new() #login_url #success #links #(#options)* .into_route())
        }
    });
    let names = names(urls);
    let declared = urls.entries.iter().zip(views).map(|(entry, kind)| {
        let key = entry.name.to_string().trim_start_matches("r#").to_owned();
        let name = const_name(entry);
        let view = kind.name();
        quote!(#krate::Route { name: #key, path: #name, view: #view })
    });
    quote! {
        /// The auth URLs declared with `auth_urls!`: one const per name,
        /// `ALL`, `reverse`, `URLCONF` (for the builder) and `router`.
        #[allow(dead_code)]
        #vis mod #module {
            #names

            /// The declared routes, for the builder (`.urls(urls::URLCONF)`):
            /// the login URL follows the declared `LoginView`, and the login
            /// page links to the declared `PasswordResetView`.
            pub const URLCONF: #krate::Urls = #krate::Urls::new(&[#(#declared),*]);

            // For the system checks: a builder given no URL table while
            // this block declares views is a mistake they name.
            #krate::__private::inventory::submit! {
                #krate::__private::UrlsDeclaration {
                    module: ::core::module_path!(),
                    urls: URLCONF,
                }
            }

            /// The routes, to merge into the app's router (before the auth
            /// layer is added).
            pub fn router<S>() -> #krate::__private::axum::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                #krate::__private::axum::Router::new() #(#routes)*
            }
        }
    }
}

/// The module with the names that parsed and an empty router, so code using
/// `urls::LOGIN` or `urls::router()` reports nothing more than the error.
pub(crate) fn stub(urls: Option<&Urls>) -> TokenStream {
    let krate = crate::krate::path();
    let (vis, module) = module(urls);
    let names = urls.map(names).unwrap_or_default();
    quote! {
        #[allow(dead_code, missing_docs)]
        #vis mod #module {
            #names

            pub const URLCONF: #krate::Urls = #krate::Urls::new(&[]);

            pub fn router<S>() -> #krate::__private::axum::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                #krate::__private::axum::Router::new()
            }
        }
    }
}
