//! Validation of the parsed user struct, before any code is generated.

use syn::Lit;

use super::ast::{Scalar, User};
use crate::ctxt::Ctxt;

/// The columns (and `Model` fields) that `AbstractUser` already provides.
pub(crate) const BASE_COLUMNS: [&str; 11] = [
    "id",
    "username",
    "password",
    "email",
    "first_name",
    "last_name",
    "is_staff",
    "is_active",
    "is_superuser",
    "last_login",
    "date_joined",
];

pub(crate) fn check(cx: &Ctxt, user: &User) {
    check_base(cx, user);
    check_extras(cx, user);
}

fn check_base(cx: &Ctxt, user: &User) {
    match user.base.as_slice() {
        [] => cx.error_spanned_by(
            user.ident,
            "missing base field: add `#[auth(base)] base: auth::AbstractUser` to hold the \
             username, password and other standard columns",
        ),
        [_, rest @ ..] => {
            for extra in rest {
                cx.push(syn::Error::new(
                    extra.marker,
                    "only one field can be `#[auth(base)]`; remove this one",
                ));
            }
        }
    }
    for base in &user.base {
        for key in &base.extra_keys {
            cx.error_spanned_by(
                key,
                "the `#[auth(base)]` field takes no other `auth` options",
            );
        }
        let is_abstract_user = match base.ty {
            syn::Type::Path(p) => p
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "AbstractUser" && s.arguments.is_none()),
            _ => false,
        };
        if !is_abstract_user {
            cx.error_spanned_by(
                base.ty,
                "the `#[auth(base)]` field must have type `auth::AbstractUser`",
            );
        }
    }
}

fn check_extras(cx: &Ctxt, user: &User) {
    let mut seen: Vec<String> = Vec::new();
    for field in &user.extras {
        let name = field.ident.to_string();
        let column = field.column_name();
        if BASE_COLUMNS.contains(&name.as_str()) {
            cx.error_spanned_by(
                field.ident,
                format!(
                    "field `{name}` collides with the base column `{name}` of `AbstractUser`; \
                     rename the field (the base value is reachable as `user.{name}`)"
                ),
            );
        } else if BASE_COLUMNS.contains(&column.as_str()) {
            let lit = field.column.as_ref().expect("a renamed column");
            cx.error_spanned_by(
                lit,
                format!("column `{column}` collides with a base column of `AbstractUser`; choose another name"),
            );
        } else if seen.contains(&column) {
            let span = field
                .column
                .as_ref()
                .map_or(field.ident.span(), |lit| lit.span());
            cx.push(syn::Error::new(
                span,
                format!(
                    "column `{column}` is used by two fields; give one `#[auth(column = \"...\")]`"
                ),
            ));
        }
        seen.push(column);

        let Some(kind) = field.kind else { continue };
        if let Some(max_length) = &field.max_length
            && kind.scalar != Scalar::String
        {
            cx.error_spanned_by(max_length, "`max_length` applies only to `String` fields");
        }
        if let Some(default) = &field.default {
            let fits = matches!(
                (kind.scalar, default),
                (Scalar::String, Lit::Str(_))
                    | (Scalar::Bool, Lit::Bool(_))
                    | (Scalar::I32 | Scalar::I64, Lit::Int(_))
                    | (Scalar::F64, Lit::Float(_) | Lit::Int(_))
            );
            if !fits {
                let expected = match kind.scalar {
                    Scalar::String => "a string literal such as `\"\"`",
                    Scalar::Bool => "`true` or `false`",
                    Scalar::I32 | Scalar::I64 => "an integer literal such as `0`",
                    Scalar::F64 => "a number literal such as `0.0`",
                    Scalar::Date | Scalar::DateTime | Scalar::Uuid => {
                        "nothing: date, datetime and uuid fields cannot take `default` (they default \
                         to today, now and a random UUID; use `Option` for no value)"
                    }
                };
                cx.error_spanned_by(
                    default,
                    format!("this `default` does not fit the field; expected {expected}"),
                );
            } else if let (Scalar::I32, Lit::Int(int)) = (kind.scalar, default)
                && int.base10_parse::<i32>().is_err()
            {
                cx.error_spanned_by(int, "this `default` does not fit in an `i32`");
            }
        }
    }
}
