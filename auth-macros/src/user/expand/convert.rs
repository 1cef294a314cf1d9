//! The conversions between the struct and a row of its table, and `Deref`
//! to the base fields (`user.username`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{Ident, spanned::Spanned};

use super::{BaseColumnSpec, at};
use crate::user::model::User;

/// `From<Model>` both ways, `Deref` and `DerefMut`.
pub(super) fn impls(user: &User, base: &[BaseColumnSpec]) -> TokenStream {
    let krate = crate::krate::path();
    let (ident, module, base_field) = (user.ident, &user.module, user.base);
    let base_field_idents: Vec<&Ident> = base.iter().map(|c| &c.field).collect();
    let extra_idents: Vec<&Ident> = user.extras.iter().map(|f| f.ident).collect();
    let from_model_extras = user.extras.iter().map(|f| {
        let name = f.ident;
        quote_spanned!(at(f.ty.span())=> #name: __auth_model.#name)
    });
    quote! {
        #[automatically_derived]
        impl ::core::convert::From<#module::Model> for #ident {
            fn from(__auth_model: #module::Model) -> Self {
                #ident {
                    #base_field: #krate::AbstractUser {
                        #(#base_field_idents: __auth_model.#base_field_idents,)*
                    },
                    #(#from_model_extras,)*
                }
            }
        }

        #[automatically_derived]
        impl ::core::convert::From<#ident> for #module::Model {
            fn from(__auth_user: #ident) -> Self {
                let __auth_base = __auth_user.#base_field;
                #module::Model {
                    #(#base_field_idents: __auth_base.#base_field_idents,)*
                    #(#extra_idents: __auth_user.#extra_idents,)*
                }
            }
        }

        #[automatically_derived]
        impl ::core::ops::Deref for #ident {
            type Target = #krate::AbstractUser;
            fn deref(&self) -> &#krate::AbstractUser {
                &self.#base_field
            }
        }

        #[automatically_derived]
        impl ::core::ops::DerefMut for #ident {
            fn deref_mut(&mut self) -> &mut #krate::AbstractUser {
                &mut self.#base_field
            }
        }
    }
}
