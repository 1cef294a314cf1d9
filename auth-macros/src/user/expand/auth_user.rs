//! The `AuthUser` impl (with the model descriptor) and the extractor that
//! makes the struct a handler argument.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::{Ident, Lit, spanned::Spanned};

use super::{BaseColumnSpec, at, meta};
use crate::user::model::{Extra, Scalar, User};

/// `FromRequestParts` and `AuthUser`.
pub(super) fn impls(user: &User, base: &[BaseColumnSpec]) -> TokenStream {
    let krate = crate::krate::path();
    let (ident, module, base_field) = (user.ident, &user.module, user.base);
    let defaults = user.extras.iter().map(|f| {
        let name = f.ident;
        let value = default_value(f);
        quote_spanned!(at(f.ty.span())=> #name: #value)
    });
    let column_arms = base.iter().map(|c| {
        let variant = &c.variant;
        quote!(#krate::__private::BaseColumn::#variant => #module::Column::#variant)
    });
    let (app_label, model_name, verbose_name) = &user.permission_model;
    let meta_fields = user.extras.iter().map(|f| meta::field(f, module));
    let extractor = extractor(ident);
    quote! {
        #extractor

        #[automatically_derived]
        impl #krate::AuthUser for #ident {
            type Entity = #module::Entity;
            type Model = #module::Model;
            type ActiveModel = #module::ActiveModel;

            fn base(&self) -> &#krate::AbstractUser {
                &self.#base_field
            }

            fn base_mut(&mut self) -> &mut #krate::AbstractUser {
                &mut self.#base_field
            }

            fn from_base(__auth_base: #krate::AbstractUser) -> Self {
                #ident {
                    #base_field: __auth_base,
                    #(#defaults,)*
                }
            }

            fn from_model(__auth_model: #module::Model) -> Self {
                <Self as ::core::convert::From<#module::Model>>::from(__auth_model)
            }

            fn into_active_model(self) -> #module::ActiveModel {
                let __auth_unsaved = self.#base_field.id == 0;
                let __auth_model = <#module::Model as ::core::convert::From<Self>>::from(self);
                let mut __auth_active = #krate::__private::sea_orm::ActiveModelTrait::reset_all(
                    <#module::ActiveModel as ::core::convert::From<#module::Model>>::from(__auth_model),
                );
                if __auth_unsaved {
                    __auth_active.id = #krate::__private::sea_orm::ActiveValue::NotSet;
                }
                __auth_active
            }

            fn column(__auth_column: #krate::__private::BaseColumn) -> #module::Column {
                match __auth_column {
                    #(#column_arms,)*
                }
            }

            const META: &'static #krate::__private::ModelMeta<Self> =
                &#krate::__private::ModelMeta {
                    app_label: #app_label,
                    model_name: #model_name,
                    verbose_name: #verbose_name,
                    fields: &[#(#meta_fields),*],
                };
        }
    }
}

/// The extractor: the struct as a handler argument, the logged-in user
/// or a redirect to the login page. The error stubs emit it too.
pub(crate) fn extractor(ident: &Ident) -> TokenStream {
    let krate = crate::krate::path();
    quote! {
    #[automatically_derived]
    impl<__AuthS> #krate::__private::axum::extract::FromRequestParts<__AuthS> for #ident
    where
        __AuthS: ::core::marker::Send + ::core::marker::Sync,
    {
        type Rejection = #krate::__private::axum::response::Response;

        fn from_request_parts(
            __auth_parts: &mut #krate::__private::http::request::Parts,
            _: &__AuthS,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<Self, Self::Rejection>,
        > + ::core::marker::Send {
            #krate::__private::require_user::<Self>(__auth_parts)
        }
    }
    }
}

/// The value an extra field gets in `from_base`.
fn default_value(field: &Extra) -> TokenStream {
    let krate = crate::krate::path();
    let kind = field.kind;
    let value = match (&field.default, kind.optional) {
        (None, true) => return quote!(::core::option::Option::None),
        (Some(lit), _) => literal_value(kind.scalar, lit),
        (None, false) => match kind.scalar {
            Scalar::String => quote!(::std::string::String::new()),
            Scalar::Bool => quote!(false),
            Scalar::I32 | Scalar::I64 => quote!(0),
            Scalar::F64 => quote!(0.0),
            Scalar::Date => quote!(#krate::__private::today()),
            Scalar::DateTime => quote!(#krate::__private::time::OffsetDateTime::now_utc()),
            Scalar::Uuid => quote!(#krate::__private::uuid::Uuid::new_v4()),
        },
    };
    if kind.optional {
        quote!(::core::option::Option::Some(#value))
    } else {
        value
    }
}

fn literal_value(scalar: Scalar, lit: &Lit) -> TokenStream {
    match (scalar, lit) {
        (Scalar::String, _) => quote!(::std::string::String::from(#lit)),
        (Scalar::F64, Lit::Int(int)) => {
            let float = format!("{}.0", int.base10_digits());
            let float: TokenStream = float.parse().expect("a float literal");
            quote!(#float)
        }
        _ => quote!(#lit),
    }
}
