//! The re-authentication form (django-allauth's `ReauthenticateForm`):
//! the current user's `password`, nothing else.

use super::{Form, widgets::FormField};
use crate::http::body::FormData;

/// The message for a wrong password.
pub(crate) const REAUTH_INCORRECT: &str = "Incorrect password. Please try again.";

/// A submitted re-authentication form.
#[derive(Debug)]
pub(crate) struct ReauthenticateForm {
    pub(crate) form: Form,
    pub(crate) password: String,
}

impl ReauthenticateForm {
    /// The empty form.
    pub(crate) fn blank() -> Form {
        Form::new(fields())
    }

    /// The form as submitted, its field validated.
    pub(crate) fn bound(data: &FormData) -> Self {
        let password = data.get("password").unwrap_or("").to_owned();
        let mut form = Form::new(fields());
        form.require(&[("password", &password)]);
        ReauthenticateForm { form, password }
    }
}

fn fields() -> Vec<FormField> {
    vec![
        FormField::new("password", "Password", "password")
            .attr("autofocus", "")
            .attr("autocomplete", "current-password"),
    ]
}
