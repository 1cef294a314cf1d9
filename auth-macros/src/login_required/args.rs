//! Parsing `#[login_required(login_url = ..., redirect_field_name = "...")]`.

use syn::{
    Expr, ExprLit, ExprPath, Lit, LitStr, Token,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
};

mod kw {
    syn::custom_keyword!(login_url);
    syn::custom_keyword!(redirect_field_name);
}

/// Where the login URL comes from.
pub(crate) enum LoginUrl {
    /// `login_url = "/login/"`.
    Literal(LitStr),
    /// `login_url = urls::LOGIN` (a `&'static str` const).
    Path(ExprPath),
}

#[derive(Default)]
pub(crate) struct Args {
    pub login_url: Option<LoginUrl>,
    pub redirect_field_name: Option<LitStr>,
}

enum Arg {
    LoginUrl(kw::login_url, LoginUrl),
    RedirectField(kw::redirect_field_name, LitStr),
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::login_url) {
            let key: kw::login_url = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            let url = match value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) => {
                    if lit.value().is_empty() {
                        return Err(syn::Error::new(
                            lit.span(),
                            "`login_url` cannot be empty; write a path such as \"/login/\"",
                        ));
                    }
                    LoginUrl::Literal(lit)
                }
                Expr::Path(path) if path.qself.is_none() => LoginUrl::Path(path),
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "`login_url` takes a string literal such as \"/login/\" or the path of a \
                         `&'static str` const such as `urls::LOGIN`",
                    ));
                }
            };
            Ok(Arg::LoginUrl(key, url))
        } else if lookahead.peek(kw::redirect_field_name) {
            let key: kw::redirect_field_name = input.parse()?;
            input.parse::<Token![=]>()?;
            let value: Expr = input.parse()?;
            match value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(lit), ..
                }) if !lit.value().is_empty() => Ok(Arg::RedirectField(key, lit)),
                other => Err(syn::Error::new_spanned(
                    other,
                    "`redirect_field_name` takes a non-empty string literal such as \"next\"",
                )),
            }
        } else {
            Err(lookahead.error())
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        for arg in Punctuated::<Arg, Token![,]>::parse_terminated(input)? {
            match arg {
                Arg::LoginUrl(key, url) => {
                    if args.login_url.is_some() {
                        return Err(syn::Error::new(
                            key.span,
                            "`login_url` specified more than once",
                        ));
                    }
                    args.login_url = Some(url);
                }
                Arg::RedirectField(key, lit) => {
                    if args.redirect_field_name.is_some() {
                        return Err(syn::Error::new(
                            key.span,
                            "`redirect_field_name` specified more than once",
                        ));
                    }
                    args.redirect_field_name = Some(lit);
                }
            }
        }
        Ok(args)
    }
}
