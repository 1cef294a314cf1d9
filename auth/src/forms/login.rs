//! The login form (Django's `AuthenticationForm`): `username` (stripped
//! and NFKC-normalised, as Django's `UsernameField`) and `password`.

use super::{Form, widgets::FormField};
use crate::{
    http::body::FormData,
    user::{USERNAME_MAX_LENGTH, normalize_username},
};

/// The generic failure message: the same for an unknown user, a wrong
/// password and an inactive user, so accounts cannot be enumerated.
pub const INVALID_LOGIN: &str =
    "Please enter a correct username and password. Note that both fields may be case-sensitive.";

/// A submitted login form.
#[derive(Debug)]
pub(crate) struct LoginForm {
    pub(crate) form: Form,
    /// The username as cleaned (shown again on errors).
    pub(crate) username: String,
    pub(crate) password: String,
}

impl LoginForm {
    /// The empty form.
    pub(crate) fn blank() -> Form {
        Form::new(fields(""))
    }

    /// The form as submitted, its fields validated.
    pub(crate) fn bound(data: &FormData) -> Self {
        let username = normalize_username(data.get("username").unwrap_or(""));
        let password = data.get("password").unwrap_or("").to_owned();
        let mut form = Form::new(fields(&username));
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
        }
    }
}

fn fields(username: &str) -> Vec<FormField> {
    let mut username_field = FormField::new("username", "Username", "text")
        .attr("autofocus", "")
        .attr("autocapitalize", "none")
        .attr("autocomplete", "username")
        .attr("maxlength", USERNAME_MAX_LENGTH.to_string());
    username_field.value = username.to_owned();
    let password_field =
        FormField::new("password", "Password", "password").attr("autocomplete", "current-password");
    vec![username_field, password_field]
}
