//! Parsing `auth_urls! { [vis mod name;] [prefix = "/accounts";] name: "/path/" => View { option: value, ... }, ... }`.

use syn::{
    Ident, Lit, LitStr, Token, Visibility, braced,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
};

pub(crate) struct Urls {
    pub vis: Visibility,
    pub module: Option<Ident>,
    pub entries: Vec<Entry>,
}

pub(crate) struct Entry {
    pub name: Ident,
    pub path: LitStr,
    pub view: Ident,
    pub options: Vec<ViewOption>,
}

pub(crate) struct ViewOption {
    pub key: Ident,
    pub value: Lit,
}

impl Parse for ViewOption {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let value: Lit = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "option values are literals: a string such as \"/\" or `true`/`false`",
            )
        })?;
        Ok(ViewOption { key, value })
    }
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the URL path as a string literal, such as \"/login/\"",
            )
        })?;
        input.parse::<Token![=>]>()?;
        let view: Ident = input.parse()?;
        let mut options = Vec::new();
        if input.peek(syn::token::Brace) {
            let content;
            braced!(content in input);
            options = Punctuated::<ViewOption, Token![,]>::parse_terminated(&content)?
                .into_iter()
                .collect();
        }
        Ok(Entry {
            name,
            path,
            view,
            options,
        })
    }
}

impl Parse for Urls {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut vis = Visibility::Inherited;
        let mut module = None;
        if input.peek(Token![mod]) || (input.peek(Token![pub]) && !input.peek2(Token![:])) {
            vis = input.parse()?;
            input.parse::<Token![mod]>()?;
            module = Some(input.parse()?);
            input.parse::<Token![;]>()?;
        }
        let prefix = parse_prefix(input)?;
        let mut entries: Vec<Entry> = Punctuated::<Entry, Token![,]>::parse_terminated(input)?
            .into_iter()
            .collect();
        if let Some(prefix) = prefix {
            // Declared once, part of every path from here on (constants,
            // routes, redirects, the derived login URL).
            for entry in &mut entries {
                let full = format!("{}{}", prefix.value(), entry.path.value());
                entry.path = LitStr::new(&full, entry.path.span());
            }
        }
        Ok(Urls {
            vis,
            module,
            entries,
        })
    }
}

/// `prefix = "/accounts";` (Django's `path("accounts/", include(...))`):
/// a path that starts with `/` and does not end with one.
fn parse_prefix(input: ParseStream) -> syn::Result<Option<LitStr>> {
    if !(input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![=>])) {
        return Ok(None);
    }
    let keyword: Ident = input.parse()?;
    if keyword != "prefix" {
        return Err(syn::Error::new(
            keyword.span(),
            format!(
                "unknown setting `{keyword}`; the only one is `prefix = \"/accounts\";`, and a \
                 route is written `name: \"/path/\" => View`"
            ),
        ));
    }
    input.parse::<Token![=]>()?;
    let prefix: LitStr = input.parse()?;
    input.parse::<Token![;]>()?;
    let value = prefix.value();
    if !value.starts_with('/') || value.ends_with('/') || value.contains(['<', '>', '?', '#']) {
        return Err(syn::Error::new(
            prefix.span(),
            "a prefix is a path that starts with `/` and does not end with one, such as \
             \"/accounts\"; each route's path then starts with `/`",
        ));
    }
    Ok(Some(prefix))
}
