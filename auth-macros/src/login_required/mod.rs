//! `#[login_required]`: a guard extractor in front of the handler's
//! arguments that redirects anonymous requests to the login page.

mod args;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Item, ItemFn};

use args::{Args, LoginUrl};

use crate::ctxt::Ctxt;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(attr, item.clone()) {
        Ok(tokens) => tokens,
        // Keep the original item so the rest of the crate still sees it.
        Err(err) => {
            let error = err.into_compile_error();
            quote!(#error #item)
        }
    }
}

fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let args = Args::parse(&cx, attr);
    cx.check()?;
    let function = match syn::parse2::<Item>(item)? {
        Item::Fn(function) => function,
        other => {
            return Err(syn::Error::new_spanned(
                item_keyword(&other),
                "`#[login_required]` applies to `async fn` handlers only",
            ));
        }
    };
    check(&function)?;
    Ok(generate(&args, function))
}

/// The tokens to point at when the item is not a function.
fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Struct(s) => {
            let token = s.struct_token;
            quote!(#token)
        }
        Item::Enum(e) => {
            let token = e.enum_token;
            quote!(#token)
        }
        Item::Impl(i) => {
            let token = i.impl_token;
            quote!(#token)
        }
        Item::Const(c) => {
            let token = c.const_token;
            quote!(#token)
        }
        other => quote!(#other),
    }
}

fn check(function: &ItemFn) -> syn::Result<()> {
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            "`#[login_required]` needs an `async fn` handler; add `async` before `fn`",
        ));
    }
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        return Err(syn::Error::new_spanned(
            receiver,
            "`#[login_required]` handlers cannot take `self`; make it a free `async fn`",
        ));
    }
    if sig.inputs.len() >= 16 {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            "`#[login_required]` adds one argument and axum handlers take at most 16; \
             group some extractors into a struct",
        ));
    }
    Ok(())
}

fn generate(args: &Args, mut function: ItemFn) -> TokenStream {
    let vis = &function.vis;
    let name = &function.sig.ident;
    let marker = format_ident!(
        "__auth_login_required_{}",
        name.to_string().trim_start_matches("r#")
    );
    let login_url = match &args.login_url {
        None => quote!(::core::option::Option::None),
        Some(LoginUrl::Literal(lit)) => quote!(::core::option::Option::Some(#lit)),
        // Checked through a trait whose error says what to write, pointing
        // at the path.
        Some(LoginUrl::Path(path)) => {
            let check =
                quote_spanned!(path.span()=> ::auth::__private::LoginUrl::login_url(&#path));
            quote!(::core::option::Option::Some(#check))
        }
    };
    let field = match &args.redirect_field_name {
        Some(lit) => quote!(#lit),
        None => quote!(::auth::REDIRECT_FIELD_NAME),
    };
    let guard: FnArg = syn::parse_quote!(_: ::auth::__private::LoginRequired<#marker>);
    function.sig.inputs.insert(0, guard);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #[automatically_derived]
        impl ::auth::__private::LoginRedirect for #marker {
            fn login_url() -> ::core::option::Option<&'static str> {
                #login_url
            }
            const REDIRECT_FIELD_NAME: &'static str = #field;
        }

        #function
    }
}
