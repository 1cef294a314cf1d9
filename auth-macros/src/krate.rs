//! `crate = "..."` (serde's and tokio's convention): the path generated
//! code names the runtime by, for an app that renamed the dependency
//! (`authn = { package = "contrib-auth", ... }` with
//! `#[auth(crate = "authn")]`). `::auth` unless given.
//!
//! Each macro reads the key where its other arguments are, then expands
//! inside [`scoped`], and every generated path starts with [`path`].

use std::cell::RefCell;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Attribute, LitStr, Path};

use crate::ctxt::Ctxt;

/// The key.
pub(crate) const CRATE: &str = "crate";

thread_local! {
    static PATH: RefCell<Option<Path>> = const { RefCell::new(None) };
}

/// The runtime's path in this expansion: the `crate = "..."` given, or
/// `::auth`.
pub(crate) fn path() -> TokenStream {
    PATH.with(|path| match &*path.borrow() {
        Some(path) => path.to_token_stream(),
        None => quote!(::auth),
    })
}

/// [`path`] with every token at `span`, for `quote_spanned!` code whose
/// errors point at the user's tokens.
pub(crate) fn path_at(span: proc_macro2::Span) -> TokenStream {
    path()
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// Runs `expand` with `path` as the runtime's path.
pub(crate) fn scoped<R>(path: Option<Path>, expand: impl FnOnce() -> R) -> R {
    let previous = PATH.with(|slot| slot.replace(path));
    let result = expand();
    PATH.with(|slot| slot.replace(previous));
    result
}

/// The value of `crate = "..."`: a path such as `"authn"` or
/// `"::my_app::auth"`.
pub(crate) fn parse(cx: &Ctxt, value: &LitStr) -> Option<Path> {
    match value.parse::<Path>() {
        Ok(path) => Some(path),
        Err(_) => {
            cx.error_spanned_by(
                value,
                "`crate` takes the path the runtime is imported as, such as \
                 `crate = \"authn\"` when Cargo.toml has `authn = { package = \
                 \"contrib-auth\", ... }`",
            );
            None
        }
    }
}

/// `crate = "..."` among `#[auth(...)]` attributes, read leniently (the
/// macro's own parser reports any mistake): the first stage of a
/// two-stage macro needs it before anything else is parsed.
pub(crate) fn find(attrs: &[Attribute]) -> Option<Path> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("auth")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(CRATE) {
                let value: LitStr = meta.value()?.parse()?;
                found = found.take().or(value.parse::<Path>().ok());
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                meta.input.parse::<proc_macro2::Group>()?;
            }
            Ok(())
        });
    }
    found
}

/// The outer attributes at the start of a function-like macro's input
/// (`auth_urls!`, `permissions!`), and the rest.
pub(crate) fn leading(input: TokenStream) -> (Vec<Attribute>, TokenStream) {
    use syn::parse::Parser;
    let split = |stream: syn::parse::ParseStream| {
        let attrs = stream.call(Attribute::parse_outer)?;
        Ok((attrs, stream.parse::<TokenStream>()?))
    };
    split
        .parse2(input.clone())
        .unwrap_or_else(|_| (Vec::new(), input))
}

/// Checks the leading attributes of a function-like macro: only
/// `#[auth(crate = "...")]` goes there.
pub(crate) fn check_leading(cx: &Ctxt, macro_name: &str, attrs: &[Attribute]) -> Option<Path> {
    let mut found = None;
    for attr in attrs {
        if !attr.path().is_ident("auth") {
            cx.error_spanned_by(
                attr,
                format!(
                    "`{macro_name}!` takes one attribute, `#[auth(crate = \"...\")]`, naming \
                     the runtime when the dependency is renamed"
                ),
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(CRATE) {
                let value: LitStr = meta.value()?.parse()?;
                if found.is_some() {
                    cx.error_spanned_by(&meta.path, "duplicate `auth` attribute `crate`");
                } else {
                    found = parse(cx, &value);
                }
                Ok(())
            } else {
                Err(meta.error(format!(
                    "`{macro_name}!` takes only `#[auth(crate = \"...\")]` here"
                )))
            }
        });
        if let Err(err) = result {
            cx.push(err);
        }
    }
    found
}
