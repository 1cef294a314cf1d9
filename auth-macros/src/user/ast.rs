//! The user struct as written: fields and their `#[auth(...)]` keys, read
//! from `syn`. Shape errors (unknown keys, repeated keys, values of the
//! wrong kind) are recorded here; what the keys mean together is checked in
//! `check.rs`.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, Lit, LitInt, LitStr, Type, spanned::Spanned};

use crate::{
    attr::{Attr, Flag, keys::*, path_to_string},
    ctxt::Ctxt,
};

const WHAT: &str = "`auth` attribute";

/// The struct with its container keys.
pub(crate) struct Input<'a> {
    pub ident: &'a Ident,
    pub vis: &'a syn::Visibility,
    pub generics: &'a syn::Generics,
    pub table: Option<LitStr>,
    pub entity: Option<LitStr>,
    pub app_label: Option<LitStr>,
    pub fields: Vec<Field<'a>>,
}

/// One field with its keys.
pub(crate) struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// Where `base` was written, if it was.
    pub base: Option<Span>,
    /// Every key written next to `base` (an error when `base` is given).
    pub keys: Vec<syn::Path>,
    pub column: Option<LitStr>,
    pub unique: bool,
    pub indexed: bool,
    pub required: bool,
    pub max_length: Option<LitInt>,
    pub default: Option<Lit>,
}

impl<'a> Input<'a> {
    /// `None` when the item is not a struct with named fields (reported).
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
        let (table, entity, app_label) = container_attrs(cx, input);
        let fields = fields
            .named
            .iter()
            .map(|field| field_attrs(cx, field))
            .collect();
        Some(Input {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            table,
            entity,
            app_label,
            fields,
        })
    }
}

/// Reads `#[auth(table = "...", entity = "...", app_label = "...")]` on
/// the struct.
fn container_attrs(
    cx: &Ctxt,
    input: &DeriveInput,
) -> (Option<LitStr>, Option<LitStr>, Option<LitStr>) {
    let mut table = Attr::none(cx, WHAT, TABLE);
    let mut entity = Attr::none(cx, WHAT, ENTITY);
    let mut app_label = Attr::none(cx, WHAT, APP_LABEL);
    let mut krate = Attr::none(cx, WHAT, crate::krate::CRATE);
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("auth")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(TABLE) {
                table.set(&meta.path, meta.value()?.parse::<LitStr>()?);
            } else if meta.path.is_ident(ENTITY) {
                entity.set(&meta.path, meta.value()?.parse::<LitStr>()?);
            } else if meta.path.is_ident(APP_LABEL) {
                app_label.set(&meta.path, meta.value()?.parse::<LitStr>()?);
            } else if meta.path.is_ident(crate::krate::CRATE) {
                let value = meta.value()?.parse::<LitStr>()?;
                if let Some(path) = crate::krate::parse(cx, &value) {
                    krate.set(&meta.path, path);
                }
            } else {
                return Err(meta.error(format!(
                    "unknown `auth` attribute `{}` on a user struct; expected `table = \"...\"`, \
                     `entity = \"...\"`, `app_label = \"...\"` or `crate = \"...\"`",
                    path_to_string(&meta.path)
                )));
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.push(err);
        }
    }
    (table.get(), entity.get(), app_label.get())
}

/// Reads the `#[auth(...)]` attributes of one field.
fn field_attrs<'a>(cx: &Ctxt, field: &'a syn::Field) -> Field<'a> {
    let mut base = Attr::none(cx, WHAT, BASE);
    let mut column = Attr::none(cx, WHAT, COLUMN);
    let mut unique = Flag::none(cx, WHAT, UNIQUE);
    let mut indexed = Flag::none(cx, WHAT, INDEXED);
    let mut required = Flag::none(cx, WHAT, REQUIRED);
    let mut max_length = Attr::none(cx, WHAT, MAX_LENGTH);
    let mut default = Attr::none(cx, WHAT, DEFAULT);
    let mut keys = Vec::new();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("auth")) {
        let result = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            if path.is_ident(BASE) {
                base.set(path, path.span());
            } else if path.is_ident(UNIQUE) {
                unique.set(path);
            } else if path.is_ident(INDEXED) {
                indexed.set(path);
            } else if path.is_ident(REQUIRED) {
                required.set(path);
            } else if path.is_ident(COLUMN) {
                column.set(path, meta.value()?.parse::<LitStr>()?);
            } else if path.is_ident(MAX_LENGTH) {
                max_length.set(path, meta.value()?.parse::<LitInt>()?);
            } else if path.is_ident(DEFAULT) {
                default.set(path, meta.value()?.parse::<Lit>()?);
            } else {
                return Err(meta.error(format!(
                    "unknown `auth` attribute `{}` on a field; expected `base`, `column = \
                     \"...\"`, `unique`, `indexed`, `required`, `max_length = N` or \
                     `default = <literal>`",
                    path_to_string(path)
                )));
            }
            if !path.is_ident(BASE) {
                keys.push(path.clone());
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.push(err);
        }
    }
    Field {
        ident: field.ident.as_ref().expect("named fields have idents"),
        ty: &field.ty,
        base: base.get(),
        keys,
        column: column.get(),
        unique: unique.get(),
        indexed: indexed.get(),
        required: required.get(),
        max_length: max_length.get(),
        default: default.get(),
    }
}
