//! Code generation for `#[derive(AuthUser)]`: the entity module and the impls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{Ident, Lit, spanned::Spanned};

use heck::ToUpperCamelCase;

use super::{
    columns::BaseColumns,
    model::{Extra, FieldKind, Scalar, User},
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
                ty: model_type(kind),
            }
        })
        .collect()
}

pub(crate) fn expand(user: &User, columns: &BaseColumns) -> TokenStream {
    let krate = crate::krate::path();
    let ident = user.ident;
    let vis = user.vis;
    let table = &user.table;
    let module = &user.module;
    let base = user.base;
    let base_cols = base_columns(columns);

    let base_model_fields = base_cols.iter().map(|c| {
        let (field, options, ty) = (&c.field, &c.options, &c.ty);
        quote!(#options pub #field: #ty,)
    });
    let extra_model_fields = user.extras.iter().map(extra_model_field);

    let base_field_idents: Vec<&Ident> = base_cols.iter().map(|c| &c.field).collect();
    let extra_idents: Vec<&Ident> = user.extras.iter().map(|f| f.ident).collect();
    let from_model_extras = user.extras.iter().map(|f| {
        let name = f.ident;
        quote_spanned!(at(f.ty.span())=> #name: __auth_model.#name)
    });
    let defaults = user.extras.iter().map(|f| {
        let name = f.ident;
        let value = default_value(f);
        quote_spanned!(at(f.ty.span())=> #name: #value)
    });
    let column_arms = base_cols.iter().map(|c| {
        let variant = &c.variant;
        quote!(#krate::__private::BaseColumn::#variant => #module::Column::#variant)
    });
    let (app_label, model_name, verbose_name) = &user.permission_model;
    let template_fields = user.extras.iter().map(|f| {
        let name = f.ident;
        let key = name.to_string().trim_start_matches("r#").to_owned();
        let krate = crate::krate::path_at(at(f.ty.span()));
        quote_spanned!(at(f.ty.span())=> (#key, #krate::__private::TemplateField::to_template(&self.#name)))
    });
    let template_field_arms = user.extras.iter().map(|f| {
        let name = f.ident;
        let key = name.to_string().trim_start_matches("r#").to_owned();
        let krate = crate::krate::path_at(at(f.ty.span()));
        quote_spanned!(at(f.ty.span())=> #key => ::core::option::Option::Some(
            #krate::__private::TemplateField::to_template(&self.#name)
        ))
    });
    let field_infos = user.extras.iter().map(|f| {
        let name = f.ident.to_string().trim_start_matches("r#").to_owned();
        let label = capfirst(&name.replace('_', " "));
        let (required, unique) = (f.required, f.unique);
        quote!(#krate::__private::ExtraField { name: #name, label: #label, required: #required, unique: #unique })
    });
    let set_arms = user.extras.iter().map(|f| {
        let field = f.ident;
        let name = field.to_string().trim_start_matches("r#").to_owned();
        let krate = crate::krate::path_at(at(f.ty.span()));
        quote_spanned!(at(f.ty.span())=> #name => {
            self.#field = #krate::__private::FromInput::from_input(__auth_raw)?;
            ::core::result::Result::Ok(())
        })
    });
    let taken_arms = user.extras.iter().filter(|f| f.unique).map(|f| {
        let field = f.ident;
        let name = field.to_string().trim_start_matches("r#").to_owned();
        let variant = format_ident!("{}", name.to_upper_camel_case());
        quote!(#name => ::core::option::Option::Some(
            #krate::__private::sea_orm::ColumnTrait::eq(
                &#module::Column::#variant,
                ::core::clone::Clone::clone(&self.#field),
            )
        ))
    });
    let doc = format!(
        "SeaORM entity of the `{table}` table, generated by `#[derive(AuthUser)]` on [`{ident}`]."
    );

    quote! {
        #[doc = #doc]
        #[allow(missing_docs, unused_imports, clippy::all)]
        #vis mod #module {
            // SeaORM's derives emit relative paths (`std::…`, `Option`,
            // `sea_orm::…`); pin them here so names in the caller's module
            // cannot capture them.
            extern crate core;
            extern crate std;
            use #krate::__private::sea_orm;
            use #krate::__private::sea_orm::entity::prelude::*;
            use ::core::{
                clone::Clone, cmp::PartialEq, convert::{From, Into}, default::Default,
                marker::{Copy, Send, Sync},
                option::Option::{self, None, Some}, result::Result::{self, Err, Ok},
                primitive::{bool, f64, i32, i64, str},
            };
            use ::std::{boxed::Box, string::{String, ToString}, vec::Vec};

            /// A row of the user table.
            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = #table)]
            pub struct Model {
                #(#base_model_fields)*
                #(#extra_model_fields)*
            }

            /// The user table has no relations.
            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::core::convert::From<#module::Model> for #ident {
                fn from(__auth_model: #module::Model) -> Self {
                    #ident {
                        #base: #krate::AbstractUser {
                            #(#base_field_idents: __auth_model.#base_field_idents,)*
                        },
                        #(#from_model_extras,)*
                    }
                }
            }

            #[automatically_derived]
            impl ::core::convert::From<#ident> for #module::Model {
                fn from(__auth_user: #ident) -> Self {
                    let __auth_base = __auth_user.#base;
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
                    &self.#base
                }
            }

            #[automatically_derived]
            impl ::core::ops::DerefMut for #ident {
                fn deref_mut(&mut self) -> &mut #krate::AbstractUser {
                    &mut self.#base
                }
            }

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

            #[automatically_derived]
            impl #krate::AuthUser for #ident {
                type Entity = #module::Entity;
                type Model = #module::Model;
                type ActiveModel = #module::ActiveModel;

                fn base(&self) -> &#krate::AbstractUser {
                    &self.#base
                }

                fn base_mut(&mut self) -> &mut #krate::AbstractUser {
                    &mut self.#base
                }

                fn from_base(__auth_base: #krate::AbstractUser) -> Self {
                    #ident {
                        #base: __auth_base,
                        #(#defaults,)*
                    }
                }

                fn from_model(__auth_model: #module::Model) -> Self {
                    <Self as ::core::convert::From<#module::Model>>::from(__auth_model)
                }

                fn into_active_model(self) -> #module::ActiveModel {
                    let __auth_unsaved = self.#base.id == 0;
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

                fn permission_model() -> (&'static str, &'static str, &'static str) {
                    (#app_label, #model_name, #verbose_name)
                }

                fn template_fields(
                    &self,
                ) -> ::std::vec::Vec<(&'static str, #krate::__private::minijinja::Value)> {
                    ::std::vec![#(#template_fields),*]
                }

                fn template_field(
                    &self,
                    __auth_name: &str,
                ) -> ::core::option::Option<#krate::__private::minijinja::Value> {
                    match __auth_name {
                        #(#template_field_arms,)*
                        _ => ::core::option::Option::None,
                    }
                }

                fn extra_fields() -> &'static [#krate::__private::ExtraField] {
                    &[#(#field_infos),*]
                }

                fn set_extra(
                    &mut self,
                    __auth_name: &str,
                    __auth_raw: &str,
                ) -> ::core::result::Result<(), #krate::ValidationError> {
                    match __auth_name {
                        #(#set_arms)*
                        _ => ::core::result::Result::Err(#krate::__private::unknown_field(__auth_name)),
                    }
                }

                fn extra_taken(
                    &self,
                    __auth_name: &str,
                ) -> ::core::option::Option<#krate::__private::sea_orm::sea_query::Expr> {
                    match __auth_name {
                        #(#taken_arms,)*
                        _ => ::core::option::Option::None,
                    }
                }
            }
        };
    }
}

/// The `Model` type of a column of this kind.
fn model_type(kind: FieldKind) -> TokenStream {
    let scalar = match kind.scalar {
        Scalar::String => quote!(String),
        Scalar::Bool => quote!(bool),
        Scalar::I32 => quote!(i32),
        Scalar::I64 => quote!(i64),
        Scalar::F64 => quote!(f64),
        Scalar::Date => quote!(TimeDate),
        Scalar::DateTime => quote!(TimeDateTimeWithTimeZone),
        Scalar::Uuid => quote!(Uuid),
    };
    if kind.optional {
        quote!(Option<#scalar>)
    } else {
        scalar
    }
}

/// One extra field of the entity's `Model`, with its column options.
fn extra_model_field(field: &Extra) -> TokenStream {
    let name = field.ident;
    let kind = field.kind;
    let ty = model_type(kind);
    let mut options = Vec::new();
    if let Some(column) = &field.column {
        options.push(quote!(column_name = #column));
    }
    if field.unique {
        options.push(quote!(unique));
    }
    if field.indexed {
        options.push(quote!(indexed));
    }
    if kind.scalar == Scalar::String {
        // Unbounded text, unless a length is given or the column is indexed
        // (MySQL cannot index TEXT without a prefix length).
        let column_type = match (&field.max_length, field.unique || field.indexed) {
            (Some(n), _) => format!("String(StringLen::N({n}))"),
            (None, true) => "String(StringLen::N(255))".to_owned(),
            (None, false) => "Text".to_owned(),
        };
        options.push(quote!(column_type = #column_type));
    }
    if let Some(default) = &field.default {
        options.push(quote!(default_value = #default));
    }
    let attr = (!options.is_empty()).then(|| quote!(#[sea_orm(#(#options),*)]));
    quote!(#attr pub #name: #ty,)
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

/// The first letter in upper case (Django's `capfirst`).
fn capfirst(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
