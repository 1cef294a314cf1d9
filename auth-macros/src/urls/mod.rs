//! `auth_urls!`: declares the auth routes and names their URLs.
//!
//! Two stages: `auth_urls!` hands the app's entries to the runtime's table
//! of views (`auth::__private::views!`), which calls back
//! `auth_urls_with_views!` with the table and the entries; that stage
//! parses both → checks (views and options, as the table declares them) →
//! expands; on error, the errors plus a stub module.

mod expand;
mod parse;
mod views;

use proc_macro2::TokenStream;
use quote::quote;
use syn::Lit;

use crate::{
    attr::Attr,
    callback::{self, Handed},
    ctxt::Ctxt,
};
use parse::Urls;
use views::{OptionKind, ViewKind, Views};

/// The first stage: the entries, handed to the runtime's table.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let (attrs, _) = crate::krate::leading(input.clone());
    crate::krate::scoped(crate::krate::find(&attrs), || {
        callback::through("views", "auth_urls_with_views", input)
    })
}

/// The second stage: the entries checked against the table, expanded.
pub(crate) fn expand_with_views(input: TokenStream) -> TokenStream {
    let Handed {
        input: entries,
        list: views,
    } = match syn::parse2::<Handed<TokenStream, Views>>(input) {
        Ok(parsed) => parsed,
        Err(err) => return err.into_compile_error(),
    };
    let (attrs, entries) = crate::krate::leading(entries);
    let cx = Ctxt::new();
    let krate = crate::krate::check_leading(&cx, "auth_urls", &attrs);
    crate::krate::scoped(krate, || expand_checked(cx, entries, &views))
}

fn expand_checked(cx: Ctxt, entries: TokenStream, views: &Views) -> TokenStream {
    let urls: Urls = match syn::parse2(entries) {
        Ok(urls) => urls,
        Err(err) => {
            cx.push(err);
            let error = cx.check().err().map(syn::Error::into_compile_error);
            let stub = expand::stub(None);
            return quote!(#error #stub);
        }
    };
    let kinds = check(&cx, &urls, views);
    match cx.check() {
        Ok(()) => expand::expand(&urls, &kinds),
        Err(err) => {
            let error = err.into_compile_error();
            let stub = expand::stub(Some(&urls));
            quote!(#error #stub)
        }
    }
}

/// Checks every entry; returns the view of each (in order) when all are
/// known.
fn check<'v>(cx: &Ctxt, urls: &Urls, table: &'v Views) -> Vec<&'v ViewKind> {
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
        let kind = table.find(&entry.view);
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

        if let Some(feature) = kind.and_then(ViewKind::missing_feature) {
            cx.error_spanned_by(
                &entry.view,
                format!(
                    "`{}` is a view of the `{feature}` feature of contrib-auth, which this build \
                     does not have: turn it on, such as \
                     `contrib-auth = {{ version = \"0.1\", features = [\"{feature}\"] }}`",
                    entry.view
                ),
            );
            continue;
        }
        let Some(kind) = kind else {
            let known = table.names();
            let more = match table.behind_features() {
                more if more.is_empty() => String::new(),
                more => format!(
                    "; with more features of contrib-auth on: {}",
                    more.join(", ")
                ),
            };
            cx.error_spanned_by(
                &entry.view,
                format!(
                    "unknown view `{}`; expected one of {}{more}",
                    entry.view,
                    known.join(", ")
                ),
            );
            continue;
        };
        views.push(kind);
        check_options(cx, kind, entry);
        let declared = |view: &str| urls.entries.iter().any(|e| e.view == view);
        if let Some(success) = kind.success_view()
            && !entry.options.iter().any(|o| o.key == "success_url")
            && !declared(success)
        {
            cx.error_spanned_by(
                &entry.view,
                format!(
                    "`{}` needs `success_url: \"...\"` or a `{success}` entry to redirect to",
                    kind.name(),
                ),
            );
        }
        if let Some(target) = kind.links_to()
            && !declared(target)
        {
            cx.error_spanned_by(
                &entry.view,
                format!(
                    "`{}` sends links to a `{target}`; declare one, such as \
                     `password_reset_confirm: \"/reset/<uidb64>/<token>/\" => {target}`",
                    kind.name(),
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
fn check_parameters(cx: &Ctxt, kind: &ViewKind, entry: &parse::Entry) {
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
    let mut expected: Vec<&str> = needed.iter().map(String::as_str).collect();
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

fn check_options(cx: &Ctxt, kind: &ViewKind, entry: &parse::Entry) {
    let what = format!("`{}` option", kind.name());
    let options: Vec<_> = kind.options().collect();
    let mut seen: Vec<Attr<()>> = options
        .iter()
        .map(|option| Attr::none(cx, &what, &option.name))
        .collect();
    for option in &entry.options {
        let key = option.key.to_string();
        let Some(index) = options.iter().position(|o| o.name == key) else {
            let known: Vec<&str> = options.iter().map(|o| o.name.as_str()).collect();
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
        match (options[index].kind, &option.value) {
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
