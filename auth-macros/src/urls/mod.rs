//! `auth_urls!`: declares the auth routes and names their URLs.

mod parse;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Lit};

use crate::ctxt::Ctxt;
use parse::{Entry, Urls};

/// A built-in view and the options it takes (`(name, kind)`).
struct ViewSpec {
    name: &'static str,
    options: &'static [(&'static str, OptionKind)],
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OptionKind {
    Str,
    Bool,
}

const VIEWS: &[ViewSpec] = &[
    ViewSpec {
        name: "LoginView",
        options: &[
            ("template_name", OptionKind::Str),
            ("next_page", OptionKind::Str),
            ("redirect_authenticated_user", OptionKind::Bool),
        ],
    },
    ViewSpec {
        name: "LogoutView",
        options: &[
            ("template_name", OptionKind::Str),
            ("next_page", OptionKind::Str),
        ],
    },
    ViewSpec {
        name: "PasswordChangeView",
        options: &[
            ("template_name", OptionKind::Str),
            ("success_url", OptionKind::Str),
        ],
    },
    ViewSpec {
        name: "PasswordChangeDoneView",
        options: &[("template_name", OptionKind::Str)],
    },
];

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let urls: Urls = syn::parse2(input)?;
    let cx = Ctxt::new();
    check(&cx, &urls);
    cx.check()?;
    Ok(generate(&urls))
}

fn spec(view: &Ident) -> Option<&'static ViewSpec> {
    VIEWS.iter().find(|v| view == v.name)
}

fn check(cx: &Ctxt, urls: &Urls) {
    if urls.entries.is_empty() {
        cx.push(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`auth_urls!` needs at least one entry, such as `login: \"/login/\" => LoginView`",
        ));
    }
    let mut names: Vec<String> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    for entry in &urls.entries {
        let name = entry.name.to_string().to_uppercase();
        if names.contains(&name) {
            cx.error_spanned_by(&entry.name, format!("duplicate URL name `{}`", entry.name));
        }
        names.push(name);

        let path = entry.path.value();
        if !path.starts_with('/') || !path.ends_with('/') {
            cx.error_spanned_by(
                &entry.path,
                "the path must start and end with `/`, such as \"/login/\"",
            );
        } else if path.contains(['{', '}', '*', '?', '#', ' ', '\\']) || path.contains("//") {
            cx.error_spanned_by(
                &entry.path,
                "the path may not contain parameters, `?`, `#`, spaces or `//`",
            );
        } else if paths.contains(&path) {
            cx.error_spanned_by(&entry.path, format!("duplicate path \"{path}\""));
        }
        paths.push(path);

        let Some(spec) = spec(&entry.view) else {
            let known: Vec<&str> = VIEWS.iter().map(|v| v.name).collect();
            cx.error_spanned_by(
                &entry.view,
                format!(
                    "unknown view `{}`; expected one of {}",
                    entry.view,
                    known.join(", ")
                ),
            );
            continue;
        };
        let mut seen: Vec<String> = Vec::new();
        for option in &entry.options {
            let key = option.key.to_string();
            let Some((_, kind)) = spec.options.iter().find(|(name, _)| *name == key) else {
                let known: Vec<&str> = spec.options.iter().map(|(n, _)| *n).collect();
                cx.error_spanned_by(
                    &option.key,
                    format!(
                        "unknown option `{key}` for `{}`; expected one of {}",
                        spec.name,
                        known.join(", ")
                    ),
                );
                continue;
            };
            if seen.contains(&key) {
                cx.error_spanned_by(&option.key, format!("duplicate option `{key}`"));
            }
            seen.push(key.clone());
            match (kind, &option.value) {
                (OptionKind::Str, Lit::Str(_)) | (OptionKind::Bool, Lit::Bool(_)) => {}
                (OptionKind::Str, other) => {
                    cx.error_spanned_by(other, format!("`{key}` takes a string literal"));
                }
                (OptionKind::Bool, other) => {
                    cx.error_spanned_by(other, format!("`{key}` takes `true` or `false`"));
                }
            }
        }
        if spec.name == "PasswordChangeView"
            && !entry.options.iter().any(|o| o.key == "success_url")
            && !urls
                .entries
                .iter()
                .any(|e| e.view == "PasswordChangeDoneView")
        {
            cx.error_spanned_by(
                &entry.view,
                "`PasswordChangeView` needs `success_url: \"...\"` or a `PasswordChangeDoneView` entry to redirect to",
            );
        }
    }
}

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

fn generate(urls: &Urls) -> TokenStream {
    let vis = &urls.vis;
    let module = urls.module.clone().unwrap_or_else(|| format_ident!("urls"));
    let find_const = |view: &str| urls.entries.iter().find(|e| e.view == view).map(const_name);
    let login = find_const("LoginView");
    let done = find_const("PasswordChangeDoneView");

    let consts = urls.entries.iter().map(|entry| {
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
    let all = urls.entries.iter().map(|entry| {
        let key = entry.name.to_string().trim_start_matches("r#").to_owned();
        let name = const_name(entry);
        quote!((#key, #name))
    });
    let routes = urls.entries.iter().map(|entry| {
        let name = const_name(entry);
        let view = &entry.view;
        let options = entry.options.iter().map(|o| {
            let (key, value) = (&o.key, &o.value);
            quote!(.#key(#value))
        });
        let needs_login = matches!(view.to_string().as_str(), "PasswordChangeView" | "PasswordChangeDoneView");
        let login_url = match (&login, needs_login) {
            (Some(login), true) => quote!(.login_url(#login)),
            _ => quote!(),
        };
        let success = match (&done, view == "PasswordChangeView", entry.options.iter().any(|o| o.key == "success_url")) {
            (Some(done), true, false) => quote!(.success_url(#done)),
            _ => quote!(),
        };
        quote! {
            .route(#name, ::auth::views::#view::new() #login_url #success #(#options)* .into_route())
        }
    });
    quote! {
        /// The auth URLs declared with `auth_urls!`: one const per name,
        /// `ALL`, `reverse` and `router`.
        #[allow(dead_code)]
        #vis mod #module {
            #(#consts)*

            /// Every `(name, path)`, in declaration order.
            pub const ALL: &[(&str, &str)] = &[#(#all),*];

            /// The path declared under `name` (Django's `reverse`).
            pub fn reverse(name: &str) -> ::core::option::Option<&'static str> {
                ALL.iter().find(|(n, _)| *n == name).map(|(_, path)| *path)
            }

            /// The routes, to merge into the app's router (inside the auth layer).
            pub fn router<S>() -> ::auth::__private::axum::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                ::auth::__private::axum::Router::new() #(#routes)*
            }
        }
    }
}
