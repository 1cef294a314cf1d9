//! `permissions! { [vis mod name;] app: codename = "Name", ...; ... }`:
//! an app's permissions as typed constants (Django's `Meta.permissions`),
//! so a misspelt permission is a compile error rather than a silent denial.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{
    Ident, LitStr, Token, Visibility,
    parse::{Parse, ParseStream},
    punctuated::Punctuated,
};

use crate::{attr::is_app_label, ctxt::Ctxt};

/// Django's column sizes: `Permission.name` 255, `codename` 100, and app
/// labels stored in a 100-character column.
const MAX_NAME: usize = 255;
const MAX_CODENAME: usize = 100;
const MAX_APP_LABEL: usize = 100;

struct Declaration {
    vis: Visibility,
    module: Option<Ident>,
    apps: Vec<App>,
}

/// `accounts: view_report = "Can view reports", ...`
struct App {
    label: Ident,
    permissions: Vec<Entry>,
}

/// `view_report = "Can view reports"`
struct Entry {
    codename: Ident,
    name: LitStr,
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let codename = input.call(Ident::parse_any_ident)?;
        input.parse::<Token![=]>().map_err(|err| {
            syn::Error::new(
                err.span(),
                format!(
                    "write `{codename} = \"Can ...\"`: a permission needs a description \
                     after `=`"
                ),
            )
        })?;
        let name = input.parse()?;
        Ok(Entry { codename, name })
    }
}

impl Parse for App {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let label = input.call(Ident::parse_any_ident)?;
        input.parse::<Token![:]>()?;
        let mut permissions = Vec::new();
        loop {
            if input.is_empty() || input.peek(Token![;]) {
                break;
            }
            permissions.push(input.parse()?);
            if input.is_empty() || input.peek(Token![;]) {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(App { label, permissions })
    }
}

trait ParseAnyIdent {
    fn parse_any_ident(input: ParseStream) -> syn::Result<Ident>;
}

impl ParseAnyIdent for Ident {
    /// An identifier, keywords included (`type`, `move`: valid codenames).
    fn parse_any_ident(input: ParseStream) -> syn::Result<Ident> {
        use syn::ext::IdentExt;
        Ident::parse_any(input)
    }
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut vis = Visibility::Inherited;
        let mut module = None;
        if input.peek(Token![mod]) || input.peek(Token![pub]) {
            vis = input.parse()?;
            input.parse::<Token![mod]>()?;
            module = Some(input.parse()?);
            input.parse::<Token![;]>()?;
        }
        let apps = Punctuated::<App, Token![;]>::parse_terminated(input)?
            .into_iter()
            .collect();
        Ok(Declaration { vis, module, apps })
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let (attrs, input) = crate::krate::leading(input);
    let cx = Ctxt::new();
    let krate = crate::krate::check_leading(&cx, "permissions", &attrs);
    let declaration = match syn::parse2::<Declaration>(input) {
        Ok(declaration) => declaration,
        Err(err) => {
            cx.push(err);
            return cx
                .check()
                .err()
                .map(syn::Error::into_compile_error)
                .unwrap_or_default();
        }
    };
    let apps = check(&cx, &declaration);
    match cx.check() {
        Ok(()) => crate::krate::scoped(krate, || generate(&declaration, &apps)),
        Err(err) => err.into_compile_error(),
    }
}

fn plain(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_owned()
}

/// The permissions by app label, in order; every mistake recorded.
fn check<'a>(cx: &Ctxt, declaration: &'a Declaration) -> BTreeMap<String, Vec<&'a Entry>> {
    let mut apps: BTreeMap<String, Vec<&Entry>> = BTreeMap::new();
    for app in &declaration.apps {
        let label = plain(&app.label);
        if !is_app_label(&label) || label.len() > MAX_APP_LABEL {
            cx.error_spanned_by(
                &app.label,
                "an app label is a lowercase identifier of at most 100 characters, such as \
                 `accounts`",
            );
        }
        if app.permissions.is_empty() {
            cx.error_spanned_by(
                &app.label,
                format!(
                    "`{label}` declares no permission; write `{label}: codename = \"Can ...\"`"
                ),
            );
        }
        let entries = apps.entry(label.clone()).or_default();
        for entry in &app.permissions {
            let codename = plain(&entry.codename);
            if codename.len() > MAX_CODENAME {
                cx.error_spanned_by(&entry.codename, "a codename has at most 100 characters");
            }
            let constant = codename.to_uppercase();
            if let Some(first) = entries
                .iter()
                .find(|e| plain(&e.codename).to_uppercase() == constant)
            {
                let message = if plain(&first.codename) == codename {
                    format!("`{label}.{codename}` is declared twice")
                } else {
                    format!(
                        "`{label}.{codename}` and `{label}.{}` would both be the constant \
                         `{constant}`; rename one",
                        plain(&first.codename)
                    )
                };
                cx.error_spanned_by(&entry.codename, message);
                continue;
            }
            let name = entry.name.value();
            if name.trim().is_empty() || name.chars().count() > MAX_NAME {
                cx.error_spanned_by(
                    &entry.name,
                    "a permission's description is 1 to 255 characters, such as \
                     \"Can view reports\"",
                );
            }
            entries.push(entry);
        }
    }
    apps
}

fn generate(declaration: &Declaration, apps: &BTreeMap<String, Vec<&Entry>>) -> TokenStream {
    let krate = crate::krate::path();
    let vis = &declaration.vis;
    let module = declaration
        .module
        .clone()
        .unwrap_or_else(|| format_ident!("perms"));
    let mut all = Vec::new();
    let modules = apps.iter().map(|(label, entries)| {
        let app = format_ident!("{label}");
        let constants: Vec<TokenStream> = entries
            .iter()
            .map(|entry| {
                let codename = plain(&entry.codename);
                let constant = format_ident!("{}", codename.to_uppercase());
                let name = &entry.name;
                let doc = format!("{} (`{label}.{codename}`).", name.value());
                all.push(quote!(#app::#constant));
                quote! {
                    #[doc = #doc]
                    pub const #constant: #krate::Permission =
                        #krate::Permission::new(#label, #codename, #name);
                }
            })
            .collect();
        let doc = format!("The permissions of app `{label}`.");
        quote! {
            #[doc = #doc]
            pub mod #app {
                #(#constants)*
            }
        }
    });
    let modules: Vec<TokenStream> = modules.collect();
    quote! {
        /// The permissions declared with `auth::permissions!`.
        #vis mod #module {
            #(#modules)*

            /// Every permission declared here, for
            /// `AuthBuilder::permissions`.
            pub const ALL: &[#krate::Permission] = &[#(#all),*];

            // For the system checks: a block not given to the builder.
            #krate::__private::inventory::submit! {
                #krate::__private::PermissionsDeclaration {
                    module: ::core::module_path!(),
                    all: ALL,
                }
            }
        }
    }
}
