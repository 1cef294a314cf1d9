//! Parsing `auth_urls! { [vis mod name;] name: "/path/" => View { option: value, ... }, ... }`.

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
        let entries = Punctuated::<Entry, Token![,]>::parse_terminated(input)?
            .into_iter()
            .collect();
        Ok(Urls {
            vis,
            module,
            entries,
        })
    }
}
