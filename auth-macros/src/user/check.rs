//! Validation of the parsed struct into the model the expansion uses.
//! Every problem is recorded; `None` comes back exactly when one was.

use heck::ToSnakeCase;
use quote::format_ident;
use syn::{Ident, Lit};

use super::{
    ast::{Field, Input},
    columns::BaseColumns,
    model::{Extra, FieldKind, Scalar, User, is_sql_name, last_segment},
};
use crate::{attr::is_app_label, ctxt::Ctxt};

/// The struct name in snake case (`StaffMember` → `staff_member`).
pub(crate) fn snake_name(ident: &Ident) -> String {
    ident.to_string().trim_start_matches("r#").to_snake_case()
}

/// English plural of a snake-case name: `user` → `users`, `address` →
/// `addresses`, `company` → `companies`.
pub(crate) fn plural(snake: &str) -> String {
    let vowel_before_y = snake
        .strip_suffix('y')
        .and_then(|rest| rest.chars().last())
        .is_some_and(|c| "aeiou".contains(c));
    if let Some(stem) = snake.strip_suffix('y').filter(|_| !vowel_before_y) {
        format!("{stem}ies")
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| snake.ends_with(end))
    {
        format!("{snake}es")
    } else {
        format!("{snake}s")
    }
}

/// The entity module's name: `#[auth(entity = "...")]` or `<snake>_entity`.
pub(crate) fn module_name(input: &Input) -> Ident {
    match &input.entity {
        Some(lit) if syn::parse_str::<Ident>(&lit.value()).is_ok() => {
            Ident::new(&lit.value(), lit.span())
        }
        _ => format_ident!("{}_entity", snake_name(input.ident)),
    }
}

pub(crate) fn validate<'a>(
    cx: &Ctxt,
    input: &Input<'a>,
    base_columns: &BaseColumns,
) -> Option<User<'a>> {
    let mut ok = true;
    let mut fail = |tokens: &dyn quote::ToTokens, message: String| {
        cx.error_spanned_by(tokens, message);
        ok = false;
    };
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        fail(
            input.generics,
            "`AuthUser` cannot be derived for a generic struct; remove the generic parameters"
                .into(),
        );
    }
    if let Some(entity) = &input.entity
        && syn::parse_str::<Ident>(&entity.value()).is_err()
    {
        fail(
            entity,
            "`entity` must be a valid module name, such as `user_entity`".into(),
        );
    }
    if let Some(table) = &input.table
        && !is_sql_name(&table.value())
    {
        fail(
            table,
            "`table` must be letters, digits and underscores, such as `accounts_user`".into(),
        );
    }

    if let Some(label) = &input.app_label
        && !is_app_label(&label.value())
    {
        fail(
            label,
            "`app_label` must be a lowercase identifier, such as `accounts`".into(),
        );
    }

    let bases: Vec<&Field> = input.fields.iter().filter(|f| f.base.is_some()).collect();
    // A field of type `AbstractUser` without the key gets its own error
    // (in `extra`), which says what to write.
    let unmarked_base = input
        .fields
        .iter()
        .any(|f| f.base.is_none() && is_abstract_user(f.ty));
    match bases.as_slice() {
        [] if unmarked_base => ok = false,
        [] => fail(
            input.ident,
            "missing base field: add `#[auth(base)] base: auth::AbstractUser` to hold the \
             username, password and other standard columns"
                .into(),
        ),
        [_, rest @ ..] => {
            for extra in rest {
                cx.push(syn::Error::new(
                    extra.base.expect("a base field"),
                    "only one field can be `#[auth(base)]`; remove this one",
                ));
                ok = false;
            }
        }
    }
    for base in &bases {
        for key in &base.keys {
            cx.error_spanned_by(
                key,
                "the `#[auth(base)]` field takes no other `auth` options",
            );
            ok = false;
        }
        if !is_abstract_user(base.ty) {
            cx.error_spanned_by(
                base.ty,
                "the `#[auth(base)]` field must have type `auth::AbstractUser`",
            );
            ok = false;
        }
    }

    let mut extras = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for field in input.fields.iter().filter(|f| f.base.is_none()) {
        match extra(cx, field, &mut columns, base_columns) {
            Some(extra) => extras.push(extra),
            None => ok = false,
        }
    }
    if !ok {
        return None;
    }
    let snake = snake_name(input.ident);
    let table = input
        .table
        .as_ref()
        .map_or_else(|| plural(&snake), |t| t.value());
    let app_label = match &input.app_label {
        Some(label) => label.value(),
        // `accounts_user` for `User`: app `accounts`, as Django names tables.
        None => table
            .strip_suffix(&format!("_{snake}"))
            .filter(|prefix| is_app_label(prefix))
            .unwrap_or("auth")
            .to_owned(),
    };
    let model_name = input
        .ident
        .to_string()
        .trim_start_matches("r#")
        .to_lowercase();
    Some(User {
        ident: input.ident,
        vis: input.vis,
        permission_model: (app_label, model_name, snake.replace('_', " ")),
        table,
        module: module_name(input),
        base: bases[0].ident,
        extras,
    })
}

fn is_abstract_user(ty: &syn::Type) -> bool {
    matches!(last_segment(ty), Some((name, None)) if name == "AbstractUser")
}

/// One extra field, checked; `None` when something was reported.
fn extra<'a>(
    cx: &Ctxt,
    field: &Field<'a>,
    columns: &mut Vec<String>,
    base_columns: &BaseColumns,
) -> Option<Extra<'a>> {
    let mut ok = true;
    let name = field.ident.to_string().trim_start_matches("r#").to_owned();
    let column = field
        .column
        .as_ref()
        .map_or_else(|| name.clone(), |lit| lit.value());
    if let Some(lit) = &field.column
        && !is_sql_name(&column)
    {
        cx.error_spanned_by(
            lit,
            "`column` must be letters, digits and underscores, such as `bio_text`",
        );
        ok = false;
    }
    if base_columns.contains(&name) {
        cx.error_spanned_by(
            field.ident,
            format!(
                "field `{name}` collides with the base column `{name}` of `AbstractUser`; \
                 rename the field (the base value is reachable as `user.{name}`)"
            ),
        );
        ok = false;
    } else if let Some(lit) = field
        .column
        .as_ref()
        .filter(|_| base_columns.contains(&column))
    {
        cx.error_spanned_by(
            lit,
            format!(
                "column `{column}` collides with a base column of `AbstractUser`; choose another name"
            ),
        );
        ok = false;
    } else if columns.contains(&column) {
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
        ok = false;
    }
    columns.push(column);

    let Some(kind) = FieldKind::from_type(field.ty) else {
        if is_abstract_user(field.ty) {
            cx.error_spanned_by(
                field.ident,
                "this field holds the standard columns: add `#[auth(base)]` to it",
            );
        } else {
            cx.error_spanned_by(
                field.ty,
                "unsupported type for a user column; use `String`, `bool`, `i32`, `i64`, `f64`, \
                 `auth::Date`, `auth::DateTime`, `auth::Uuid`, or an `Option` of one of them",
            );
        }
        return None;
    };
    let max_length = match &field.max_length {
        None => None,
        Some(lit) if kind.scalar != Scalar::String => {
            cx.error_spanned_by(lit, "`max_length` applies only to `String` fields");
            ok = false;
            None
        }
        Some(lit) => match lit.base10_parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                cx.error_spanned_by(lit, "`max_length` must be a positive integer");
                ok = false;
                None
            }
        },
    };
    if let Some(default) = &field.default
        && !default_fits(cx, kind.scalar, default)
    {
        ok = false;
    }
    // Date, datetime and UUID fields default to today, now and a random
    // UUID; the other scalars need a value unless they have a default.
    let implicit_default = matches!(kind.scalar, Scalar::Date | Scalar::DateTime | Scalar::Uuid);
    let required =
        field.required || (!kind.optional && field.default.is_none() && !implicit_default);
    ok.then(|| Extra {
        ident: field.ident,
        ty: field.ty,
        kind,
        column: field.column.clone(),
        unique: field.unique,
        indexed: field.indexed,
        required,
        max_length,
        default: field.default.clone(),
    })
}

/// Whether a `default` literal fits the field's type; reports it if not.
fn default_fits(cx: &Ctxt, scalar: Scalar, default: &Lit) -> bool {
    let fits = matches!(
        (scalar, default),
        (Scalar::String, Lit::Str(_))
            | (Scalar::Bool, Lit::Bool(_))
            | (Scalar::I32 | Scalar::I64, Lit::Int(_))
            | (Scalar::F64, Lit::Float(_) | Lit::Int(_))
    );
    if !fits {
        let expected = match scalar {
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
        return false;
    }
    if let (Scalar::I32, Lit::Int(int)) = (scalar, default)
        && int.base10_parse::<i32>().is_err()
    {
        cx.error_spanned_by(int, "this `default` does not fit in an `i32`");
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_cases() {
        let name = |s: &str| snake_name(&Ident::new(s, proc_macro2::Span::call_site()));
        assert_eq!(name("User"), "user");
        assert_eq!(name("StaffMember"), "staff_member");
        assert_eq!(name("HTTPUser"), "http_user");
        assert_eq!(name("User2Fa"), "user2_fa");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("user"), "users");
        assert_eq!(plural("staff_member"), "staff_members");
        assert_eq!(plural("boss"), "bosses");
        assert_eq!(plural("company"), "companies");
        assert_eq!(plural("day"), "days");
    }
}
