//! Templates: a minijinja environment with embedded defaults for every
//! built-in view, overridable by name from a directory or from code.
//!
//! Every render through [`Templates`] gets `user` (with `is_authenticated`,
//! `username`, the other base fields and the model's extra fields),
//! `perms` (`{% if perms.accounts.view_report %}`), `csrf_token` and
//! `csrf_input`, so
//! `{% if user.is_authenticated %}Welcome, {{ user.username }}!{% endif %}`
//! works as written in a Django template. Templates named `*.html` are
//! auto-escaped.

mod context;
mod csrf;
pub(crate) mod engine;
pub(crate) mod errors;
mod perms;
mod url;

use std::sync::{Arc, LazyLock};

use axum::{extract::FromRequestParts, response::Html};
use http::request::Parts;
use minijinja::{
    Value,
    value::{Enumerator, Object},
};

use crate::{kernel::error::Result, login::request::RequestAuth, user::erased::LoadedUser};

/// The `user` value for templates: the base fields, `is_authenticated`,
/// `is_anonymous`, `pk`, `get_full_name`, and the extra fields. Fields are
/// computed when a template reads them, not up front.
pub(crate) fn user_value(user: Option<LoadedUser>) -> Value {
    // The anonymous user's is the same for every request: made once.
    static ANONYMOUS: LazyLock<Value> =
        LazyLock::new(|| Value::from_object(UserObject { user: None }));
    match user {
        None => ANONYMOUS.clone(),
        user => Value::from_object(UserObject { user }),
    }
}

struct UserObject {
    user: Option<LoadedUser>,
}

impl std::fmt::Debug for UserObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base = self.user.as_ref().map(|u| u.base());
        f.debug_struct("User")
            .field("username", &base.map(|b| b.username.as_str()))
            .finish()
    }
}

const USER_FIELDS: &[&str] = &[
    "is_authenticated",
    "is_anonymous",
    "id",
    "pk",
    "username",
    "email",
    "first_name",
    "last_name",
    "get_full_name",
    "is_staff",
    "is_active",
    "is_superuser",
    "last_login",
    "date_joined",
];

impl Object for UserObject {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let Some(user) = &self.user else {
            return Some(match key {
                "is_authenticated" | "is_staff" | "is_active" | "is_superuser" => {
                    Value::from(false)
                }
                "is_anonymous" => Value::from(true),
                "username" | "email" | "first_name" | "last_name" | "get_full_name" => {
                    Value::from("")
                }
                "id" | "pk" | "last_login" | "date_joined" => Value::from(()),
                _ => return None,
            });
        };
        let base = user.base();
        Some(match key {
            "is_authenticated" => Value::from(true),
            "is_anonymous" => Value::from(false),
            "id" | "pk" => Value::from(base.id),
            "username" => Value::from(base.username.as_str()),
            "email" => Value::from(base.email.as_str()),
            "first_name" => Value::from(base.first_name.as_str()),
            "last_name" => Value::from(base.last_name.as_str()),
            "get_full_name" => Value::from(base.get_full_name()),
            "is_staff" => Value::from(base.is_staff),
            "is_active" => Value::from(base.is_active),
            "is_superuser" => Value::from(base.is_superuser),
            "last_login" => base
                .last_login
                .map_or(Value::from(()), |d| Value::from(format_datetime(d))),
            "date_joined" => Value::from(format_datetime(base.date_joined)),
            extra => user.extra_field(extra)?,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = USER_FIELDS.iter().map(|k| Value::from(*k)).collect();
        if let Some(user) = &self.user {
            keys.extend(user.extra_names().into_iter().map(Value::from));
        }
        Enumerator::Values(keys)
    }
}

fn format_datetime(value: crate::kernel::DateTime) -> String {
    value
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Converts an extra user field for templates (used by the derive).
#[doc(hidden)]
pub trait TemplateField {
    /// The template value.
    fn to_template(&self) -> Value;
}

macro_rules! plain_template_field {
    ($($ty:ty),*) => {$(
        impl TemplateField for $ty {
            fn to_template(&self) -> Value {
                Value::from(self.clone())
            }
        }
    )*};
}
plain_template_field!(String, bool, i32, i64, f64);

impl TemplateField for crate::kernel::Date {
    fn to_template(&self) -> Value {
        Value::from(self.to_string())
    }
}

impl TemplateField for crate::kernel::DateTime {
    fn to_template(&self) -> Value {
        Value::from(format_datetime(*self))
    }
}

impl TemplateField for crate::kernel::Uuid {
    fn to_template(&self) -> Value {
        Value::from(self.to_string())
    }
}

impl<T: TemplateField> TemplateField for Option<T> {
    fn to_template(&self) -> Value {
        match self {
            Some(v) => v.to_template(),
            None => Value::from(()),
        }
    }
}

/// Renders templates with `user`, `csrf_token` and `csrf_input` in the
/// context. An extractor: take it as a handler argument.
#[derive(Clone)]
pub struct Templates {
    request: Arc<RequestAuth>,
    user: Value,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    pub(crate) async fn for_request(request: Arc<RequestAuth>) -> Result<Self> {
        let user = user_value(request.user().await?);
        Ok(Templates { request, user })
    }

    /// Renders template `name` with `context` plus `user`, `perms`,
    /// `csrf_token` and `csrf_input`. The user's permissions are loaded
    /// (once per request) only when the template reads `perms`.
    pub async fn render(&self, name: &str, context: Value) -> Result<Html<String>> {
        self.render_string(name, context).await.map(Html)
    }

    pub(crate) async fn render_string(&self, name: &str, context: Value) -> Result<String> {
        let perms = if self.request.shared.templates.reads_perms(name) {
            perms::perms_value(self.request.permissions().await?)
        } else {
            Value::UNDEFINED
        };
        // The CSRF token is made only if the template prints one (no form,
        // no cookie); the handler's context wins over the added names.
        let context =
            context::RenderContext::value(context, self.user.clone(), perms, self.request.clone());
        self.request.shared.templates.render(name, context)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Templates {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        Templates::for_request(request)
            .await
            .map_err(axum::response::IntoResponse::into_response)
    }
}
