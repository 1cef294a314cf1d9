//! `#[derive(AuthUser)]`: parse → check → expand.

mod ast;
mod check;
mod expand;
mod names;

use proc_macro2::TokenStream;
use syn::DeriveInput;

use crate::ctxt::Ctxt;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let user = ast::User::from_syn(&cx, input);
    if let Some(user) = &user {
        check::check(&cx, user);
    }
    cx.check()?;
    let user = user.expect("no errors means the struct parsed");
    Ok(expand::expand(&user))
}
