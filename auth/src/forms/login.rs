//! The login form (Django's `AuthenticationForm`): `username` (stripped
//! and NFKC-normalised, as Django's `UsernameField`) and `password`; with
//! `AUTH_SESSION_REMEMBER=ask`, a `remember` checkbox.

use super::{Form, widgets::FormField};
use crate::{
    http::body::FormData,
    user::{USERNAME_MAX_LENGTH, normalize_username},
};

/// The generic failure message: the same for an unknown user, a wrong
/// password and an inactive user, so accounts cannot be enumerated.
pub(crate) const INVALID_LOGIN: &str =
    "Please enter a correct username and password. Note that both fields may be case-sensitive.";

/// A submitted login form.
#[derive(Debug)]
pub(crate) struct LoginForm {
    pub(crate) form: Form,
    /// The username as cleaned (shown again on errors).
    pub(crate) username: String,
    pub(crate) password: String,
    /// Whether "remember me" was ticked (`false` without the box).
    pub(crate) remember: bool,
}

impl LoginForm {
    /// The empty form (with the "remember me" box when `ask_remember`).
    pub(crate) fn blank(ask_remember: bool) -> Form {
        Form::new(fields("", ask_remember.then_some(false)))
    }

    /// The form as submitted, its fields validated.
    pub(crate) fn bound(data: &FormData, ask_remember: bool) -> Self {
        let username = normalize_username(data.get("username").unwrap_or(""));
        let password = data.get("password").unwrap_or("").to_owned();
        let remember = ask_remember && data.get("remember").is_some_and(is_ticked);
        let mut form = Form::new(fields(&username, ask_remember.then_some(remember)));
        form.require(&[("username", &username), ("password", &password)]);
        let length = username.chars().count();
        if length > USERNAME_MAX_LENGTH {
            form.add_error(
                "username",
                format!(
                    "Ensure this value has at most {USERNAME_MAX_LENGTH} characters (it has {length})."
                ),
            );
        }
        LoginForm {
            form,
            username,
            password,
            remember,
        }
    }
}

/// Whether a checkbox's submitted value means ticked (browsers send `on`).
fn is_ticked(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "off" | "no"
    )
}

/// The fields; `remember` is the box's state, when the form has one.
fn fields(username: &str, remember: Option<bool>) -> Vec<FormField> {
    let mut username_field = FormField::new("username", "Username", "text")
        .attr("autofocus", "")
        .attr("autocapitalize", "none")
        .attr("autocomplete", "username")
        .attr("maxlength", USERNAME_MAX_LENGTH.to_string());
    username_field.value = username.to_owned();
    let password_field =
        FormField::new("password", "Password", "password").attr("autocomplete", "current-password");
    let mut fields = vec![username_field, password_field];
    if let Some(ticked) = remember {
        let mut remember_field = FormField::new("remember", "Remember me", "checkbox");
        if ticked {
            remember_field.value = "on".into();
        }
        fields.push(remember_field);
    }
    fields
}
