//! What the derive emits next to its errors, so one mistake in the struct
//! gives one error instead of a cascade wherever the model is used
//! (`Auth<User>`, `user.username`, `user_entity::Entity`, a `User`
//! handler argument). Nothing here runs: the crate does not compile.

use proc_macro2::TokenStream;
use quote::quote;

use super::{ast::Input, check::module_name};

pub(crate) fn stubs(input: &Input) -> TokenStream {
    let krate = crate::krate::path();
    if !input.generics.params.is_empty() {
        return quote!();
    }
    let ident = input.ident;
    let vis = input.vis;
    let module = module_name(input);
    let extractor = super::expand::extractor(ident);
    let unreachable = quote!(::core::unreachable!(
        "`#[derive(AuthUser)]` reported an error"
    ));
    quote! {
        #[allow(unused_imports, missing_docs)]
        #vis mod #module {
            pub use #krate::__private::stub::*;
        }

        #[doc(hidden)]
        #[allow(unused_variables, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::core::ops::Deref for #ident {
                type Target = #krate::AbstractUser;
                fn deref(&self) -> &#krate::AbstractUser {
                    #unreachable
                }
            }

            #[automatically_derived]
            impl ::core::ops::DerefMut for #ident {
                fn deref_mut(&mut self) -> &mut #krate::AbstractUser {
                    #unreachable
                }
            }

            #[automatically_derived]
            impl #krate::AuthUser for #ident {
                type Entity = #krate::__private::stub::Entity;
                type Model = #krate::__private::stub::Model;
                type ActiveModel = #krate::__private::stub::ActiveModel;
                fn base(&self) -> &#krate::AbstractUser {
                    #unreachable
                }
                fn base_mut(&mut self) -> &mut #krate::AbstractUser {
                    #unreachable
                }
                fn from_base(_: #krate::AbstractUser) -> Self {
                    #unreachable
                }
                fn from_model(_: #krate::__private::stub::Model) -> Self {
                    #unreachable
                }
                fn into_active_model(self) -> #krate::__private::stub::ActiveModel {
                    #unreachable
                }
                fn column(
                    _: #krate::__private::BaseColumn,
                ) -> #krate::__private::stub::Column {
                    #unreachable
                }
            }

            #extractor
        };
    }
}
