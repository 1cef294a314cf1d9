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
    /// The runtime's public module it lives in (`mfa`), when not `views`.
    module: Option<Ident>,
    /// The feature of the runtime it belongs to, when this build of the
    /// runtime lacks it (the view is named, not defined).
    missing_feature: Option<String>,
    options: Vec<ViewOption>,
    parameters: Vec<String>,
    needs_login: bool,
    success: Option<String>,
    links_to: Option<String>,
}

impl ViewKind {
    /// The type name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The runtime's module that holds the type: `views`, or a feature
    /// app's (`mfa`).
    pub(crate) fn module(&self) -> Ident {
        self.module
            .clone()
            .unwrap_or_else(|| Ident::new("views", proc_macro2::Span::call_site()))
    }

    /// The feature of the runtime the view belongs to, when the runtime
    /// was built without it.
    pub(crate) fn missing_feature(&self) -> Option<&str> {
        self.missing_feature.as_deref()
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

    /// The names of every view this build of the runtime has.
    pub(crate) fn names(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter(|view| view.missing_feature.is_none())
            .map(|view| view.name.as_str())
            .collect()
    }

    /// The views of features this build lacks, as `Name (feature)`.
    pub(crate) fn behind_features(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|view| {
                let feature = view.missing_feature.as_deref()?;
                Some(format!("{} ({feature})", view.name))
            })
            .collect()
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
        let mut view = ViewKind {
            name: name.to_string(),
            module: None,
            missing_feature: None,
            options: Vec::new(),
            parameters: Vec::new(),
            needs_login: false,
            success: None,
            links_to: None,
        };
        // A view of a feature the runtime lacks: `Name needs_feature("mfa");`.
        if input.peek(Ident) && input.fork().parse::<Ident>()? == "needs_feature" {
            input.parse::<Ident>()?;
            let feature;
            parenthesized!(feature in input);
            view.missing_feature = Some(feature.parse::<syn::LitStr>()?.value());
            input.parse::<Token![;]>()?;
            return Ok(view);
        }
        // A feature app's view: `Name module(mfa) [..]`.
        if input.peek(Ident) && input.fork().parse::<Ident>()? == "module" {
            input.parse::<Ident>()?;
            let module;
            parenthesized!(module in input);
            view.module = Some(module.parse()?);
        }
        let methods;
        bracketed!(methods in input);
        Punctuated::<Ident, Token![,]>::parse_terminated(&methods)?;
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
