//! The built-in views `auth_urls!` knows, and the options each takes:
//! read from the runtime's table (`auth/src/views/table.rs`), which
//! `auth::__private::views!` hands to the second stage of the macro, so
//! the views the runtime defines and the ones the macro accepts are one
//! list.

use syn::{
    Attribute, Ident, Lit, Token, braced, bracketed, parenthesized,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
};

/// The type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OptionKind {
    Str,
    Bool,
}

/// One option of a view.
#[derive(Clone, Debug)]
pub(crate) struct ViewOption {
    pub(crate) name: String,
    pub(crate) kind: OptionKind,
    /// Set by `auth_urls!` itself from the other routes (not writable).
    pub(crate) filled: bool,
}

/// A built-in view, as the table declares it.
#[derive(Clone, Debug)]
pub(crate) struct ViewKind {
    name: String,
    options: Vec<ViewOption>,
    parameters: Vec<String>,
    needs_login: bool,
    success: Option<String>,
    links_to: Option<String>,
}

impl ViewKind {
    /// The type name in `auth::views`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The options an app may write (Django's attributes of the same
    /// name).
    pub(crate) fn options(&self) -> impl Iterator<Item = &ViewOption> {
        self.options.iter().filter(|option| !option.filled)
    }

    /// The path parameters it needs (`uidb64`, `token`); most take none.
    pub(crate) fn parameters(&self) -> &[String] {
        &self.parameters
    }

    /// Whether it sends anonymous users to the login page (and so needs to
    /// know where that is).
    pub(crate) fn needs_login(&self) -> bool {
        self.needs_login
    }

    /// The view it redirects to after success, when declared and not
    /// overridden with `success_url`.
    pub(crate) fn success_view(&self) -> Option<&str> {
        self.success.as_deref()
    }

    /// The view whose route it must know (the reset form links to the
    /// confirm view).
    pub(crate) fn links_to(&self) -> Option<&str> {
        self.links_to.as_deref()
    }
}

/// Every built-in view, in the table's order.
pub(crate) struct Views(pub(crate) Vec<ViewKind>);

impl Views {
    /// The view written as `ident`, if it is one.
    pub(crate) fn find(&self, ident: &Ident) -> Option<&ViewKind> {
        self.0.iter().find(|view| ident == view.name.as_str())
    }

    /// The names of every view.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.0.iter().map(|view| view.name.as_str()).collect()
    }
}

impl Parse for Views {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut views = Vec::new();
        while !input.is_empty() {
            views.push(input.parse()?);
        }
        Ok(Views(views))
    }
}

impl Parse for ViewKind {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Attribute::parse_outer(input)?; // the docs
        let name: Ident = input.parse()?;
        let methods;
        bracketed!(methods in input);
        Punctuated::<Ident, Token![,]>::parse_terminated(&methods)?;
        let mut view = ViewKind {
            name: name.to_string(),
            options: Vec::new(),
            parameters: Vec::new(),
            needs_login: false,
            success: None,
            links_to: None,
        };
        while input.peek(Ident) {
            let key: Ident = input.parse()?;
            let named = |input: ParseStream| -> syn::Result<Vec<String>> {
                let content;
                parenthesized!(content in input);
                Ok(Punctuated::<Ident, Token![,]>::parse_terminated(&content)?
                    .iter()
                    .map(Ident::to_string)
                    .collect())
            };
            match key.to_string().as_str() {
                "needs_login" => view.needs_login = true,
                "success" => view.success = named(input)?.pop(),
                "links_to" => view.links_to = named(input)?.pop(),
                "parameters" => view.parameters = named(input)?,
                _ => return Err(syn::Error::new(key.span(), "unknown view property")),
            }
        }
        let options;
        braced!(options in input);
        while !options.is_empty() {
            Attribute::parse_outer(&options)?;
            let name: Ident = options.parse()?;
            options.parse::<Token![:]>()?;
            let kind: Ident = options.parse()?;
            options.parse::<Token![=]>()?;
            if options.peek(Lit) {
                options.parse::<Lit>()?;
            } else {
                options.parse::<Ident>()?;
            }
            let mut filled = false;
            if options.peek(syn::token::Paren) {
                let marker;
                parenthesized!(marker in options);
                filled = marker.parse::<Ident>()? == "filled";
            }
            options.parse::<Token![,]>()?;
            view.options.push(ViewOption {
                name: name.to_string(),
                kind: if kind == "flag" {
                    OptionKind::Bool
                } else {
                    OptionKind::Str
                },
                filled,
            });
        }
        Ok(view)
    }
}
