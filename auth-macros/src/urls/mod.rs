//! `auth_urls!`: declares the auth routes and names their URLs.
//! parse → check (views and options, as [`views::ViewKind`]) → expand; on
//! error, the errors plus a stub module (`fallback`).

mod expand;
mod parse;
mod views;

use proc_macro2::TokenStream;
use quote::quote;
use syn::Lit;

use crate::{attr::Attr, ctxt::Ctxt};
use parse::Urls;
use views::{OptionKind, ViewKind};

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let urls: Urls = match syn::parse2(input) {
        Ok(urls) => urls,
        Err(err) => {
            let error = err.into_compile_error();
            let stub = expand::stub(None);
            return quote!(#error #stub);
        }
    };
    let cx = Ctxt::new();
    let views = check(&cx, &urls);
    match cx.check() {
        Ok(()) => expand::expand(&urls, &views),
        Err(err) => {
            let error = err.into_compile_error();
            let stub = expand::stub(Some(&urls));
            quote!(#error #stub)
        }
    }
}

/// Checks every entry; returns the view of each (in order) when all are
/// known.
fn check(cx: &Ctxt, urls: &Urls) -> Vec<ViewKind> {
    if urls.entries.is_empty() {
        cx.push(syn::Error::new(
            proc_macro2::Span::call_site(),
            "`auth_urls!` needs at least one entry, such as `login: \"/login/\" => LoginView`",
        ));
    }
    let mut names: Vec<String> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    let mut views = Vec::new();
    for entry in &urls.entries {
        let name = entry.name.to_string().to_uppercase();
        if names.contains(&name) {
            cx.error_spanned_by(&entry.name, format!("duplicate URL name `{}`", entry.name));
        }
        names.push(name);

        let path = entry.path.value();
        let kind = ViewKind::from_ident(&entry.view);
        if !path.starts_with('/') || !path.ends_with('/') {
            cx.error_spanned_by(
                &entry.path,
                "the path must start and end with `/`, such as \"/login/\"",
            );
        } else if path.contains(['{', '}', '*', '?', '#', ' ', '\\']) || path.contains("//") {
            cx.error_spanned_by(
                &entry.path,
                "the path may not contain `{`, `}`, `*`, `?`, `#`, spaces or `//`; a \
                 parameter is a whole segment such as `<token>`",
            );
        } else if paths.contains(&path) {
            cx.error_spanned_by(&entry.path, format!("duplicate path \"{path}\""));
        } else if let Some(kind) = kind {
            check_parameters(cx, kind, entry);
        }
        paths.push(path);

        let Some(kind) = kind else {
            let known: Vec<&str> = ViewKind::ALL.iter().map(|v| v.name()).collect();
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
        views.push(kind);
        check_options(cx, kind, entry);
        if let Some(success) = kind.success_view()
            && !entry.options.iter().any(|o| o.key == "success_url")
            && !urls
                .entries
                .iter()
                .any(|e| ViewKind::from_ident(&e.view) == Some(success))
        {
            cx.error_spanned_by(
                &entry.view,
                format!(
                    "`{}` needs `success_url: \"...\"` or a `{}` entry to redirect to",
                    kind.name(),
                    success.name()
                ),
            );
        }
        if let Some(target) = kind.links_to()
            && !urls
                .entries
                .iter()
                .any(|e| ViewKind::from_ident(&e.view) == Some(target))
        {
            cx.error_spanned_by(
                &entry.view,
                format!(
                    "`{}` sends links to a `{}`; declare one, such as \
                     `password_reset_confirm: \"/reset/<uidb64>/<token>/\" => {}`",
                    kind.name(),
                    target.name(),
                    target.name()
                ),
            );
        }
    }
    views
}

/// The `<name>` segments of a path, or the first malformed one.
pub(crate) fn parameters(path: &str) -> Result<Vec<&str>, &str> {
    let mut names = Vec::new();
    for segment in path.split('/') {
        if !segment.contains(['<', '>']) {
            continue;
        }
        let name = segment
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .filter(|name| {
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
            .ok_or(segment)?;
        names.push(name);
    }
    Ok(names)
}

/// A view's path has exactly the parameters it needs.
fn check_parameters(cx: &Ctxt, kind: ViewKind, entry: &parse::Entry) {
    let path = entry.path.value();
    let found = match parameters(&path) {
        Ok(found) => found,
        Err(segment) => {
            cx.error_spanned_by(
                &entry.path,
                format!(
                    "`{segment}` is not a parameter segment; write a whole segment such as \
                     `<token>`"
                ),
            );
            return;
        }
    };
    let needed = kind.parameters();
    if needed.is_empty() {
        if let Some(first) = found.first() {
            cx.error_spanned_by(
                &entry.path,
                format!(
                    "`{}` takes no path parameters, but the path has `<{first}>`",
                    kind.name()
                ),
            );
        }
        return;
    }
    let mut sorted = found.clone();
    sorted.sort_unstable();
    let mut expected = needed.to_vec();
    expected.sort_unstable();
    if sorted != expected {
        cx.error_spanned_by(
            &entry.path,
            format!(
                "`{}` needs a `<uidb64>` and a `<token>` segment, such as \
                 \"/reset/<uidb64>/<token>/\"",
                kind.name()
            ),
        );
    }
}

fn check_options(cx: &Ctxt, kind: ViewKind, entry: &parse::Entry) {
    let what = format!("`{}` option", kind.name());
    let mut seen: Vec<Attr<()>> = kind
        .options()
        .iter()
        .map(|(name, _)| Attr::none(cx, &what, name))
        .collect();
    for option in &entry.options {
        let key = option.key.to_string();
        let Some(index) = kind.options().iter().position(|(name, _)| *name == key) else {
            let known: Vec<&str> = kind.options().iter().map(|(n, _)| *n).collect();
            cx.error_spanned_by(
                &option.key,
                format!(
                    "unknown option `{key}` for `{}`; expected one of {}",
                    kind.name(),
                    known.join(", ")
                ),
            );
            continue;
        };
        seen[index].set(&option.key, ());
        match (kind.options()[index].1, &option.value) {
            (OptionKind::Str, Lit::Str(_)) | (OptionKind::Bool, Lit::Bool(_)) => {}
            (OptionKind::Str, other) => {
                cx.error_spanned_by(other, format!("`{key}` takes a string literal"));
            }
            (OptionKind::Bool, other) => {
                cx.error_spanned_by(other, format!("`{key}` takes `true` or `false`"));
            }
        }
    }
}
