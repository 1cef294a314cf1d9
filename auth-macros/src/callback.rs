//! Two-stage macros: what the runtime declares once (the base columns of
//! a user, the built-in views) lives in a `macro_rules!` list there; a
//! macro hands its input to that list, which calls the macro's second
//! stage back with the input and the list, so the macro checks and
//! expands against the runtime's own declarations.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{
    braced,
    parse::{Parse, ParseStream},
};

/// `::auth::__private::<list>!(::auth::__private::<stage>, { input })`.
pub(crate) fn through(list: &str, stage: &str, input: TokenStream) -> TokenStream {
    let krate = crate::krate::path();
    let (list, stage) = (format_ident!("{list}"), format_ident!("{stage}"));
    quote! {
        #krate::__private::#list!(#krate::__private::#stage, { #input });
    }
}

/// What a list hands back to the second stage: the input in braces, then
/// the list.
pub(crate) struct Handed<T, L> {
    pub(crate) input: T,
    pub(crate) list: L,
}

impl<T: Parse, L: Parse> Parse for Handed<T, L> {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let item;
        braced!(item in input);
        Ok(Handed {
            input: item.parse()?,
            list: input.parse()?,
        })
    }
}
