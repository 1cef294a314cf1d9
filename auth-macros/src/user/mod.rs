//! `#[derive(AuthUser)]`, in two stages: the derive hands the struct to
//! the runtime's list of base columns (`auth::__private::base_columns!`),
//! which calls back `derive_auth_user_with_columns!` with the struct and
//! the list (`columns`); that stage parses (`ast`) → validates into the
//! model (`check`, `model`) → expands; on error, the errors plus stubs
//! (`fallback`).

mod ast;
mod check;
mod columns;
mod expand;
mod fallback;
mod model;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::{
    callback::{self, Handed},
    ctxt::Ctxt,
};
use columns::BaseColumns;

/// The first stage: the struct, handed to the runtime's list of base
/// columns.
pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let krate = syn::parse2::<DeriveInput>(input.clone())
        .ok()
        .and_then(|parsed| crate::krate::find(&parsed.attrs));
    crate::krate::scoped(krate, || {
        callback::through("base_columns", "derive_auth_user_with_columns", input)
    })
}

/// The second stage: the struct checked and expanded with the columns.
pub(crate) fn expand_with_columns(input: TokenStream) -> TokenStream {
    match syn::parse2::<Handed<DeriveInput, BaseColumns>>(input) {
        Ok(Handed { input, list }) => {
            crate::krate::scoped(crate::krate::find(&input.attrs), || expand(&input, &list))
        }
        Err(err) => err.into_compile_error(),
    }
}

fn expand(input: &DeriveInput, columns: &BaseColumns) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::Input::from_syn(&cx, input);
    let user = parsed
        .as_ref()
        .and_then(|parsed| check::validate(&cx, parsed, columns));
    match (cx.check(), user) {
        (Ok(()), Some(user)) => expand::expand(&user, columns),
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
