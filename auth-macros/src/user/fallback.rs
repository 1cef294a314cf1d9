//! What the derive emits next to its errors, so one mistake in the struct
//! gives one error instead of a cascade wherever the model is used
//! (`Auth<User>`, `user.username`, `user_entity::Entity`, a `User`
//! handler argument). Nothing here runs: the crate does not compile.

use proc_macro2::TokenStream;
use quote::quote;

use super::{ast::Input, check::module_name};

pub(crate) fn stubs(input: &Input) -> TokenStream {
    if !input.generics.params.is_empty() {
        return quote!();
    }
    let ident = input.ident;
    let vis = input.vis;
    let module = module_name(input);
    let unreachable = quote!(::core::unreachable!(
        "`#[derive(AuthUser)]` reported an error"
    ));
    quote! {
        #[allow(unused_imports, missing_docs)]
        #vis mod #module {
            pub use ::auth::__private::stub::*;
        }

        #[doc(hidden)]
        #[allow(unused_variables, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::core::ops::Deref for #ident {
                type Target = ::auth::AbstractUser;
                fn deref(&self) -> &::auth::AbstractUser {
                    #unreachable
                }
            }

            #[automatically_derived]
            impl ::core::ops::DerefMut for #ident {
                fn deref_mut(&mut self) -> &mut ::auth::AbstractUser {
                    #unreachable
                }
            }

            #[automatically_derived]
            impl ::auth::AuthUser for #ident {
                type Entity = ::auth::__private::stub::Entity;
                type Model = ::auth::__private::stub::Model;
                type ActiveModel = ::auth::__private::stub::ActiveModel;
                fn base(&self) -> &::auth::AbstractUser {
                    #unreachable
                }
                fn base_mut(&mut self) -> &mut ::auth::AbstractUser {
                    #unreachable
                }
                fn from_base(_: ::auth::AbstractUser) -> Self {
                    #unreachable
                }
                fn from_model(_: ::auth::__private::stub::Model) -> Self {
                    #unreachable
                }
                fn into_active_model(self) -> ::auth::__private::stub::ActiveModel {
                    #unreachable
                }
                fn column(
                    _: ::auth::__private::BaseColumn,
                ) -> ::auth::__private::stub::Column {
                    #unreachable
                }
            }

            #[automatically_derived]
            impl<__AuthS> ::auth::__private::axum::extract::FromRequestParts<__AuthS> for #ident
            where
                __AuthS: ::core::marker::Send + ::core::marker::Sync,
            {
                type Rejection = ::auth::__private::axum::response::Response;

                fn from_request_parts(
                    __auth_parts: &mut ::auth::__private::http::request::Parts,
                    _: &__AuthS,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<Self, Self::Rejection>,
                > + ::core::marker::Send {
                    ::auth::__private::require_user::<Self>(__auth_parts)
                }
            }
        };
    }
}
