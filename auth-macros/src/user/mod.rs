//! `#[derive(AuthUser)]`: parse (`ast`) → validate into the model
//! (`check`, `model`) → expand; on error, the errors plus stubs
//! (`fallback`).

mod ast;
mod check;
mod expand;
mod fallback;
mod model;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::Input::from_syn(&cx, input);
    let user = parsed
        .as_ref()
        .and_then(|parsed| check::validate(&cx, parsed));
    match (cx.check(), user) {
        (Ok(()), Some(user)) => expand::expand(&user),
        (Ok(()), None) => quote::quote!(::core::compile_error!(
            "`#[derive(AuthUser)]` could not read this struct"
        );),
        (result, _) => {
            let errors = result
                .err()
                .map(syn::Error::into_compile_error)
                .unwrap_or_default();
            let stubs = parsed.as_ref().map(fallback::stubs).unwrap_or_default();
            quote::quote!(#errors #stubs)
        }
    }
}
