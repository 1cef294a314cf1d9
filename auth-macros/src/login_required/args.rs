//! Parsing `#[login_required(login_url = ..., redirect_field_name = "...")]`.

use proc_macro2::TokenStream;
use syn::{Expr, ExprLit, ExprPath, Lit, LitStr, meta::ParseNestedMeta};

use crate::{
    attr::{
        Attr,
        keys::{LOGIN_URL, REDIRECT_FIELD_NAME},
        path_to_string,
    },
    ctxt::Ctxt,
};

const WHAT: &str = "`login_required` argument";

/// Where the login URL comes from.
pub(crate) enum LoginUrl {
    /// `login_url = "/login/"`.
    Literal(LitStr),
    /// `login_url = urls::LOGIN` (a `&'static str` const).
    Path(ExprPath),
}

pub(crate) struct Args {
    pub login_url: Option<LoginUrl>,
    pub redirect_field_name: Option<LitStr>,
}

impl Args {
    /// Parses the attribute's arguments, recording every error in `cx`.
    pub(crate) fn parse(cx: &Ctxt, tokens: TokenStream) -> Args {
        let mut login_url = Attr::none(cx, WHAT, LOGIN_URL);
        let mut redirect_field_name = Attr::none(cx, WHAT, REDIRECT_FIELD_NAME);
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident(LOGIN_URL) {
                if let Some(url) = parse_login_url(cx, &meta)? {
                    login_url.set(&meta.path, url);
                }
            } else if meta.path.is_ident(REDIRECT_FIELD_NAME) {
                match meta.value()?.parse::<Expr>()? {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) if !lit.value().is_empty() => redirect_field_name.set(&meta.path, lit),
                    other => cx.error_spanned_by(
                        other,
                        "`redirect_field_name` takes a non-empty string literal such as \"next\"",
                    ),
                }
            } else {
                return Err(meta.error(format!(
                    "unknown `login_required` argument `{}`; expected `login_url` or \
                     `redirect_field_name`",
                    path_to_string(&meta.path)
                )));
            }
            Ok(())
        });
        if let Err(err) = syn::parse::Parser::parse2(parser, tokens) {
            cx.push(err);
        }
        Args {
            login_url: login_url.get(),
            redirect_field_name: redirect_field_name.get(),
        }
    }
}

fn parse_login_url(cx: &Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<LoginUrl>> {
    Ok(match meta.value()?.parse::<Expr>()? {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => {
            if lit.value().is_empty() {
                cx.error_spanned_by(
                    &lit,
                    "`login_url` cannot be empty; write a path such as \"/login/\"",
                );
                None
            } else {
                Some(LoginUrl::Literal(lit))
            }
        }
        Expr::Path(path) if path.qself.is_none() => Some(LoginUrl::Path(path)),
        other => {
            cx.error_spanned_by(
                other,
                "`login_url` takes a string literal such as \"/login/\" or the path of a \
                 `&'static str` const such as `urls::LOGIN`",
            );
            None
        }
    })
}
