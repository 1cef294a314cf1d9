//! Code generation for `#[derive(AuthUser)]`, one file per output: the
//! SeaORM entity module (`entity`), the conversions between the struct and
//! a row (`convert`), the `AuthUser` impl and the extractor (`auth_user`),
//! and the model descriptor it carries (`meta`).

mod auth_user;
mod convert;
mod entity;
mod meta;

pub(crate) use auth_user::extractor;

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::{
    columns::BaseColumns,
    model::{FieldKind, User},
};

/// One column of `AbstractUser`: its `Model` field, its `BaseColumn` (and
/// `Column`) variant, its `#[sea_orm]` options and its type.
struct BaseColumnSpec {
    field: Ident,
    variant: Ident,
    options: TokenStream,
    ty: TokenStream,
}

/// `span`'s place with the expansion's own name resolution: the tokens of
/// the struct reach this stage through the runtime's `macro_rules!`, so a
/// local (`__auth_model`, `self`) spanned at them would not see the
/// bindings this expansion makes.
fn at(span: proc_macro2::Span) -> proc_macro2::Span {
    span.resolved_at(proc_macro2::Span::call_site())
}

/// The base columns as the entity's `Model` declares them, from the
/// runtime's list.
fn base_columns(columns: &BaseColumns) -> Vec<BaseColumnSpec> {
    columns
        .0
        .iter()
        .map(|column| {
            let mut options = Vec::new();
            if column.primary_key {
                options.push(quote!(primary_key));
            }
            if column.unique {
                options.push(quote!(unique));
            }
            if let Some(length) = &column.max_length {
                // One of the runtime's length constants, by name.
                let krate = crate::krate::path();
                let column_type =
                    format!("String(StringLen::N({krate}::__private::columns::{length}))");
                options.push(quote!(column_type = #column_type));
            }
            let kind = FieldKind::from_type(&column.ty).expect("the runtime's base column types");
            BaseColumnSpec {
                field: column.field.clone(),
                variant: column.variant.clone(),
                options: if options.is_empty() {
                    quote!()
                } else {
                    quote!(#[sea_orm(#(#options),*)])
                },
                ty: entity::model_type(kind),
            }
        })
        .collect()
}

pub(crate) fn expand(user: &User, columns: &BaseColumns) -> TokenStream {
    let base = base_columns(columns);
    let entity = entity::module(user, &base);
    let convert = convert::impls(user, &base);
    let auth_user = auth_user::impls(user, &base);
    quote! {
        #entity

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications, clippy::all)]
        const _: () = {
            #convert
            #auth_user
        };
    }
}
