//! Parsing the arguments of the guard attributes:
//! `#[login_required(login_url = ..., redirect_field_name = "...")]`,
//! `#[permission_required(PERM | [PERM, ...], ..., raise_exception = true)]`
//! and `#[user_passes_test(path::to::predicate, ...)]`.

use proc_macro2::TokenStream;
use syn::{
    Expr, ExprLit, ExprPath, Lit, LitBool, LitStr, Token, parse::Parser, punctuated::Punctuated,
    spanned::Spanned,
};

use super::Kind;
use crate::{
    attr::{
        Attr,
        keys::{LOGIN_URL, MAX_AGE, RAISE_EXCEPTION, REDIRECT_FIELD_NAME},
    },
    ctxt::Ctxt,
};

/// Where the login URL comes from.
pub(crate) enum LoginUrl {
    /// `login_url = "/login/"`.
    Literal(LitStr),
    /// `login_url = urls::LOGIN` (a `&'static str` const).
    Path(ExprPath),
}

/// One required permission as written.
pub(crate) enum Perm {
    /// `"accounts.view_report"`, its shape checked.
    Literal(LitStr),
    /// `perms::accounts::VIEW_REPORT`: the compiler checks it exists and
    /// names a permission.
    Path(ExprPath),
}

pub(crate) struct Args {
    pub login_url: Option<LoginUrl>,
    pub redirect_field_name: Option<LitStr>,
    pub raise_exception: bool,
    /// `permission_required`: what the user needs, all of it.
    pub permissions: Vec<Perm>,
    /// `user_passes_test`: the predicate.
    pub predicate: Option<Expr>,
    /// `reauth_required`: how recent the authentication must be, in
    /// seconds.
    pub max_age: Option<syn::LitInt>,
    /// `crate = "..."`: the runtime's path when the dependency is renamed.
    pub krate: Option<syn::Path>,
}

impl Args {
    /// Parses the attribute's arguments, recording every error in `cx`.
    pub(crate) fn parse(cx: &Ctxt, kind: Kind, tokens: TokenStream) -> Args {
        let what = format!("`{}` argument", kind.name());
        let mut login_url = Attr::none(cx, &what, LOGIN_URL);
        let mut redirect_field_name = Attr::none(cx, &what, REDIRECT_FIELD_NAME);
        let mut raise_exception = Attr::none(cx, &what, RAISE_EXCEPTION);
        let mut max_age = Attr::none(cx, &what, MAX_AGE);
        let mut krate = Attr::none(cx, &what, crate::krate::CRATE);
        let mut permissions = Vec::new();
        let mut predicate = None;
        let mut positional = false;
        let items = match Punctuated::<Expr, Token![,]>::parse_terminated.parse2(tokens.clone()) {
            Ok(items) => items,
            Err(err) => {
                cx.push(err);
                return Args::empty();
            }
        };
        for (index, item) in items.into_iter().enumerate() {
            let Expr::Assign(assign) = item else {
                if index == 0 && !matches!(kind, Kind::LoginRequired | Kind::ReauthRequired) {
                    positional = true;
                    match kind {
                        Kind::PermissionRequired => permissions = parse_permissions(cx, item),
                        _ => predicate = parse_predicate(cx, item),
                    }
                } else {
                    cx.error_spanned_by(&item, kind.expected_here(index));
                }
                continue;
            };
            let key = match &*assign.left {
                Expr::Path(path) if path.qself.is_none() && path.path.get_ident().is_some() => path
                    .path
                    .get_ident()
                    .cloned()
                    .unwrap_or_else(|| unreachable!()),
                other => {
                    cx.error_spanned_by(other, kind.unknown_key("this"));
                    continue;
                }
            };
            let value = *assign.right;
            if key == crate::krate::CRATE {
                match value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) => {
                        if let Some(path) = crate::krate::parse(cx, &lit) {
                            krate.set(&key, path);
                        }
                    }
                    other => cx.error_spanned_by(
                        other,
                        "`crate` takes a string literal, such as `crate = \"authn\"`",
                    ),
                }
            } else if kind == Kind::ReauthRequired {
                if key == MAX_AGE {
                    match value {
                        Expr::Lit(ExprLit {
                            lit: Lit::Int(lit), ..
                        }) if lit.base10_parse::<u64>().is_ok() && lit.suffix().is_empty() => {
                            max_age.set(&key, lit)
                        }
                        other => cx.error_spanned_by(
                            other,
                            "`max_age` takes a whole number of seconds, such as `max_age = 300`",
                        ),
                    }
                } else {
                    cx.error_spanned_by(&key, kind.unknown_key(&key.to_string()));
                }
            } else if key == LOGIN_URL {
                if let Some(url) = parse_login_url(cx, value) {
                    login_url.set(&key, url);
                }
            } else if key == REDIRECT_FIELD_NAME {
                match value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(lit), ..
                    }) if !lit.value().is_empty() => redirect_field_name.set(&key, lit),
                    other => cx.error_spanned_by(
                        other,
                        "`redirect_field_name` takes a non-empty string literal such as \"next\"",
                    ),
                }
            } else if key == RAISE_EXCEPTION && kind == Kind::PermissionRequired {
                match value {
                    Expr::Lit(ExprLit {
                        lit: Lit::Bool(LitBool { value, .. }),
                        ..
                    }) => raise_exception.set(&key, value),
                    other => {
                        cx.error_spanned_by(other, "`raise_exception` takes `true` or `false`")
                    }
                }
            } else {
                cx.error_spanned_by(&key, kind.unknown_key(&key.to_string()));
            }
        }
        if !positional && !matches!(kind, Kind::LoginRequired | Kind::ReauthRequired) {
            let message = match kind {
                Kind::PermissionRequired => {
                    "`permission_required` needs the permission first, such as \
                     `#[permission_required(perms::accounts::VIEW_REPORT)]` or \
                     `#[permission_required(\"accounts.view_report\")]`"
                }
                _ => {
                    "`user_passes_test` needs the predicate first, such as \
                     `#[user_passes_test(is_staff)]` with `fn is_staff(user: &User) -> bool`"
                }
            };
            cx.push(syn::Error::new(tokens_span(&tokens), message));
        }
        Args {
            login_url: login_url.get(),
            redirect_field_name: redirect_field_name.get(),
            raise_exception: raise_exception.get().unwrap_or(false),
            permissions,
            predicate,
            max_age: max_age.get(),
            krate: krate.get(),
        }
    }

    fn empty() -> Args {
        Args {
            login_url: None,
            redirect_field_name: None,
            raise_exception: false,
            permissions: Vec::new(),
            predicate: None,
            max_age: None,
            krate: None,
        }
    }
}

fn tokens_span(tokens: &TokenStream) -> proc_macro2::Span {
    if tokens.is_empty() {
        proc_macro2::Span::call_site()
    } else {
        tokens.span()
    }
}

fn parse_login_url(cx: &Ctxt, value: Expr) -> Option<LoginUrl> {
    match value {
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
    }
}

const PERMISSION_SHAPE: &str = "a permission is a constant declared with `auth::permissions!` \
     (such as `perms::accounts::VIEW_REPORT`) or a string \"app_label.codename\" \
     (such as \"accounts.view_report\")";

/// `PERM` or `[PERM, ...]`.
fn parse_permissions(cx: &Ctxt, value: Expr) -> Vec<Perm> {
    match value {
        Expr::Array(array) => {
            if array.elems.is_empty() {
                cx.error_spanned_by(
                    &array,
                    "the list of permissions is empty; name at least one, such as \
                     `[perms::accounts::VIEW_REPORT]`",
                );
            }
            array
                .elems
                .into_iter()
                .filter_map(|elem| parse_permission(cx, elem))
                .collect()
        }
        single => parse_permission(cx, single).into_iter().collect(),
    }
}

fn parse_permission(cx: &Ctxt, value: Expr) -> Option<Perm> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => {
            if is_permission_name(&lit.value()) {
                Some(Perm::Literal(lit))
            } else {
                cx.error_spanned_by(
                    &lit,
                    format!(
                        "`{}` is not a permission name: write \"app_label.codename\", such as \
                         \"accounts.view_report\" (letters, digits and underscores on each side \
                         of one dot)",
                        lit.value()
                    ),
                );
                None
            }
        }
        Expr::Path(path) if path.qself.is_none() => Some(Perm::Path(path)),
        other => {
            cx.error_spanned_by(other, PERMISSION_SHAPE);
            None
        }
    }
}

/// `app_label.codename`: an identifier, one dot, an identifier-like
/// codename (what `permissions!` and Django's defaults produce).
fn is_permission_name(name: &str) -> bool {
    let Some((app, codename)) = name.split_once('.') else {
        return false;
    };
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    word(app) && word(codename) && !app.starts_with(|c: char| c.is_ascii_digit())
}

/// A function path, or a closure.
fn parse_predicate(cx: &Ctxt, value: Expr) -> Option<Expr> {
    match value {
        Expr::Path(ref path) if path.qself.is_none() => Some(value),
        Expr::Closure(_) => Some(value),
        other => {
            cx.error_spanned_by(
                other,
                "`user_passes_test` takes the path of a predicate on the user, such as \
                 `is_staff` with `fn is_staff(user: &User) -> bool` (or an `async fn`)",
            );
            None
        }
    }
}
