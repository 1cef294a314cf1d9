//! The validated user model the expansion works from: every choice made,
//! nothing optional that must be there.

use syn::{Ident, Lit, LitStr, Type};

/// A user struct that passed every check.
pub(crate) struct User<'a> {
    pub ident: &'a Ident,
    pub vis: &'a syn::Visibility,
    /// The table name.
    pub table: String,
    /// The app label, model name and verbose name of the default
    /// permissions (`accounts`, `user`, `user`).
    pub permission_model: (String, String, String),
    /// The generated entity module.
    pub module: Ident,
    /// The `#[auth(base)]` field.
    pub base: &'a Ident,
    pub extras: Vec<Extra<'a>>,
}

/// An extra field, with a supported type.
pub(crate) struct Extra<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub kind: FieldKind,
    /// `#[auth(column = "...")]`, when the column is renamed.
    pub column: Option<LitStr>,
    pub unique: bool,
    pub indexed: bool,
    /// Asked for by `createsuperuser`/`createuser` (Django's
    /// `REQUIRED_FIELDS`): `#[auth(required)]`, or a non-`Option` text,
    /// number or boolean field without a `default`.
    pub required: bool,
    pub max_length: Option<u32>,
    /// A default that fits the type.
    pub default: Option<Lit>,
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

impl FieldKind {
    /// Recognises a supported type by its last path segment, with at most
    /// one `Option` around it.
    pub(crate) fn from_type(ty: &Type) -> Option<Self> {
        let (last, args) = last_segment(ty)?;
        if last == "Option" {
            let inner = single_type_argument(args?)?;
            return Some(FieldKind {
                scalar: Scalar::from_type(inner)?,
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

/// The last segment of a type path and its angle-bracketed arguments.
pub(crate) fn last_segment(
    ty: &Type,
) -> Option<(String, Option<&syn::AngleBracketedGenericArguments>)> {
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

/// Whether `name` is safe as an unquoted SQL identifier on every backend.
pub(crate) fn is_sql_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63
}
