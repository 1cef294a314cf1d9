//! The model descriptor's entry for each added field (`ModelField`):
//! what the field is, and its accessors as plain functions.

use heck::ToUpperCamelCase;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{Ident, spanned::Spanned};

use super::at;
use crate::user::model::{Extra, Scalar};

/// The `ModelField` of an extra field: what it is, and its accessors as
/// plain functions. The accessors are spanned at the field's type, so a
/// type the runtime cannot show or parse is reported there.
pub(super) fn field(f: &Extra, module: &Ident) -> TokenStream {
    let krate = crate::krate::path();
    let field = f.ident;
    let name = field.to_string().trim_start_matches("r#").to_owned();
    let label = capfirst(&name.replace('_', " "));
    let (required, unique, optional) = (f.required, f.unique, f.kind.optional);
    let kind = format_ident!(
        "{}",
        match f.kind.scalar {
            Scalar::String => "Text",
            Scalar::Bool => "Boolean",
            Scalar::I32 => "Integer",
            Scalar::I64 => "BigInteger",
            Scalar::F64 => "Float",
            Scalar::Date => "Date",
            Scalar::DateTime => "DateTime",
            Scalar::Uuid => "Uuid",
        }
    );
    let span = at(f.ty.span());
    let typed = crate::krate::path_at(span);
    let get = quote_spanned!(span=> |__auth_user: &Self| {
        #typed::__private::TemplateField::to_template(&__auth_user.#field)
    });
    let set = quote_spanned!(span=> |__auth_user: &mut Self, __auth_raw: &str| {
        __auth_user.#field = #typed::__private::FromInput::from_input(__auth_raw)?;
        ::core::result::Result::Ok(())
    });
    let taken = if f.unique {
        let variant = format_ident!("{}", name.to_upper_camel_case());
        quote!(::core::option::Option::Some(|__auth_user: &Self| {
            #krate::__private::sea_orm::ColumnTrait::eq(
                &#module::Column::#variant,
                ::core::clone::Clone::clone(&__auth_user.#field),
            )
        }))
    } else {
        quote!(::core::option::Option::None)
    };
    quote! {
        #krate::__private::ModelField {
            name: #name,
            label: #label,
            kind: #krate::__private::FieldKind::#kind,
            optional: #optional,
            required: #required,
            unique: #unique,
            get: #get,
            set: #set,
            taken: #taken,
        }
    }
}

/// The first letter in upper case (Django's `capfirst`).
fn capfirst(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
