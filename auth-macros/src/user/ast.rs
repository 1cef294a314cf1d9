//! The derive's own model of the user struct, parsed from `syn` with every
//! `#[auth(...)]` attribute read and checked for shape.

use proc_macro2::{Span, TokenStream};
use syn::{Data, DeriveInput, Fields, Ident, Lit, LitInt, LitStr, Type, spanned::Spanned};

use crate::ctxt::Ctxt;

/// Container keys.
const TABLE: &str = "table";
const ENTITY: &str = "entity";
/// Field keys.
const BASE: &str = "base";
const COLUMN: &str = "column";
const UNIQUE: &str = "unique";
const INDEXED: &str = "indexed";
const MAX_LENGTH: &str = "max_length";
const DEFAULT: &str = "default";

pub(crate) struct User<'a> {
    pub ident: &'a Ident,
    pub vis: &'a syn::Visibility,
    pub table: Option<LitStr>,
    pub entity: Option<LitStr>,
    pub base: Vec<BaseField<'a>>,
    pub extras: Vec<ExtraField<'a>>,
}

pub(crate) struct BaseField<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// The `base` key itself, for error spans.
    pub marker: Span,
    /// Other keys given next to `base` (an error).
    pub extra_keys: Vec<syn::Path>,
}

pub(crate) struct ExtraField<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// `None` when the type is not supported (already reported).
    pub kind: Option<FieldKind>,
    pub column: Option<LitStr>,
    pub unique: bool,
    pub indexed: bool,
    pub max_length: Option<LitInt>,
    pub default: Option<Lit>,
}

impl ExtraField<'_> {
    /// The column name: `#[auth(column = "...")]` or the field name.
    pub fn column_name(&self) -> String {
        match &self.column {
            Some(lit) => lit.value(),
            None => self.ident.to_string().trim_start_matches("r#").to_owned(),
        }
    }
}

/// A supported column type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldKind {
    pub scalar: Scalar,
    pub optional: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Scalar {
    String,
    Bool,
    I32,
    I64,
    F64,
    Date,
    DateTime,
    Uuid,
}

impl<'a> User<'a> {
    pub(crate) fn from_syn(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) | Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "`AuthUser` needs a struct with named fields, such as \
                         `struct User { #[auth(base)] base: auth::AbstractUser }`",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`AuthUser` can only be derived for a struct, not an enum; write \
                     `struct User { #[auth(base)] base: auth::AbstractUser }`",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`AuthUser` can only be derived for a struct, not a union",
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                "`AuthUser` cannot be derived for a generic struct; remove the generic parameters",
            );
        }

        let (table, entity) = container_attrs(cx, input);
        let mut base = Vec::new();
        let mut extras = Vec::new();
        for field in &fields.named {
            let ident = field.ident.as_ref().expect("named fields have idents");
            match field_attrs(cx, field) {
                FieldAttrs::Base { marker, extra_keys } => base.push(BaseField {
                    ident,
                    ty: &field.ty,
                    marker,
                    extra_keys,
                }),
                FieldAttrs::Extra {
                    column,
                    unique,
                    indexed,
                    max_length,
                    default,
                } => {
                    let kind = FieldKind::from_type(&field.ty);
                    if kind.is_none() {
                        cx.error_spanned_by(
                            &field.ty,
                            "unsupported type for a user column; use `String`, `bool`, `i32`, \
                             `i64`, `f64`, `auth::Date`, `auth::DateTime`, `auth::Uuid`, or an \
                             `Option` of one of them",
                        );
                    }
                    extras.push(ExtraField {
                        ident,
                        ty: &field.ty,
                        kind,
                        column,
                        unique,
                        indexed,
                        max_length,
                        default,
                    });
                }
            }
        }
        Some(User {
            ident: &input.ident,
            vis: &input.vis,
            table,
            entity,
            base,
            extras,
        })
    }
}

/// Reads `#[auth(table = "...", entity = "...")]` on the struct.
fn container_attrs(cx: &Ctxt, input: &DeriveInput) -> (Option<LitStr>, Option<LitStr>) {
    let mut table: Option<LitStr> = None;
    let mut entity: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("auth")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(Ident::to_string).unwrap_or_default();
            let slot = match key.as_str() {
                TABLE => &mut table,
                ENTITY => &mut entity,
                _ => {
                    return Err(meta.error(format!(
                        "unknown `auth` attribute `{}` on a user struct; expected `table = \"...\"` \
                         or `entity = \"...\"`",
                        path_to_string(&meta.path)
                    )));
                }
            };
            let value: LitStr = meta.value()?.parse()?;
            if slot.is_some() {
                cx.error_spanned_by(&meta.path, format!("duplicate `auth` attribute `{key}`"));
            } else if key == ENTITY && syn::parse_str::<Ident>(&value.value()).is_err() {
                cx.error_spanned_by(&value, "`entity` must be a valid module name, such as `user_entity`");
            } else if key == TABLE && !is_sql_name(&value.value()) {
                cx.error_spanned_by(
                    &value,
                    "`table` must be letters, digits and underscores, such as `accounts_user`",
                );
            } else {
                *slot = Some(value);
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.push(err);
        }
    }
    (table, entity)
}

enum FieldAttrs {
    Base {
        marker: Span,
        extra_keys: Vec<syn::Path>,
    },
    Extra {
        column: Option<LitStr>,
        unique: bool,
        indexed: bool,
        max_length: Option<LitInt>,
        default: Option<Lit>,
    },
}

/// Reads the `#[auth(...)]` attributes of one field.
fn field_attrs(cx: &Ctxt, field: &syn::Field) -> FieldAttrs {
    let mut base: Option<Span> = None;
    let mut keys: Vec<syn::Path> = Vec::new();
    let mut column: Option<LitStr> = None;
    let mut unique = false;
    let mut indexed = false;
    let mut max_length: Option<LitInt> = None;
    let mut default: Option<Lit> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("auth")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            if keys.iter().any(|k| k.is_ident(&key)) {
                cx.error_spanned_by(&meta.path, format!("duplicate `auth` attribute `{key}`"));
            }
            match key.as_str() {
                BASE => base = Some(meta.path.span()),
                UNIQUE => unique = true,
                INDEXED => indexed = true,
                COLUMN => {
                    let value: LitStr = meta.value()?.parse()?;
                    if !is_sql_name(&value.value()) {
                        cx.error_spanned_by(
                            &value,
                            "`column` must be letters, digits and underscores, such as `bio_text`",
                        );
                    }
                    column = Some(value);
                }
                MAX_LENGTH => {
                    let value: LitInt = meta.value()?.parse()?;
                    match value.base10_parse::<u32>() {
                        Ok(n) if n > 0 => max_length = Some(value),
                        _ => cx.error_spanned_by(&value, "`max_length` must be a positive integer"),
                    }
                }
                DEFAULT => default = Some(meta.value()?.parse()?),
                _ => {
                    return Err(meta.error(format!(
                        "unknown `auth` attribute `{}` on a field; expected `base`, `column = \
                         \"...\"`, `unique`, `indexed`, `max_length = N` or `default = <literal>`",
                        path_to_string(&meta.path)
                    )));
                }
            }
            keys.push(meta.path.clone());
            Ok(())
        });
        if let Err(err) = result {
            cx.push(err);
        }
    }
    match base {
        Some(marker) => FieldAttrs::Base {
            marker,
            extra_keys: keys.into_iter().filter(|k| !k.is_ident(BASE)).collect(),
        },
        None => FieldAttrs::Extra {
            column,
            unique,
            indexed,
            max_length,
            default,
        },
    }
}

impl FieldKind {
    /// Recognises a supported type by its last path segment, with at most
    /// one `Option` around it.
    pub(crate) fn from_type(ty: &Type) -> Option<Self> {
        let (last, args) = last_segment(ty)?;
        if last == "Option" {
            let inner = single_type_argument(args?)?;
            let scalar = Scalar::from_type(inner)?;
            return Some(FieldKind {
                scalar,
                optional: true,
            });
        }
        Some(FieldKind {
            scalar: Scalar::from_type(ty)?,
            optional: false,
        })
    }
}

impl Scalar {
    fn from_type(ty: &Type) -> Option<Self> {
        let (last, args) = last_segment(ty)?;
        if args.is_some() {
            return None;
        }
        Some(match last.as_str() {
            "String" => Scalar::String,
            "bool" => Scalar::Bool,
            "i32" => Scalar::I32,
            "i64" => Scalar::I64,
            "f64" => Scalar::F64,
            "Date" => Scalar::Date,
            "DateTime" | "OffsetDateTime" => Scalar::DateTime,
            "Uuid" => Scalar::Uuid,
            _ => return None,
        })
    }
}

fn last_segment(ty: &Type) -> Option<(String, Option<&syn::AngleBracketedGenericArguments>)> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    let args = match &segment.arguments {
        syn::PathArguments::None => None,
        syn::PathArguments::AngleBracketed(args) => Some(args),
        syn::PathArguments::Parenthesized(_) => return None,
    };
    Some((segment.ident.to_string(), args))
}

fn single_type_argument(args: &syn::AngleBracketedGenericArguments) -> Option<&Type> {
    let mut iter = args.args.iter();
    match (iter.next(), iter.next()) {
        (Some(syn::GenericArgument::Type(ty)), None) => Some(ty),
        _ => None,
    }
}

fn path_to_string(path: &syn::Path) -> String {
    let tokens: TokenStream = quote::quote!(#path);
    tokens.to_string().replace(' ', "")
}

/// Whether `name` is safe as an unquoted SQL identifier on every backend.
pub(crate) fn is_sql_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63
}
