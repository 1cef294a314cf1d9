//! Choosing a new password (Django's `SetPasswordForm`): `new_password1`
//! and `new_password2`, which must match and pass the password
//! validators. The reset's form, and the second half of the change form.

use super::{Form, widgets::FormField};
use crate::{
    http::body::FormData,
    password::validation::{Validators, password_validators_help_texts, validate_password_async},
    user::AbstractUser,
};

/// The two new passwords differ (with Django's curly apostrophe).
pub(crate) const PASSWORD_MISMATCH: &str = "The two password fields didn’t match.";

/// A submitted new-password form.
#[derive(Debug)]
pub(crate) struct SetPasswordForm {
    pub(crate) form: Form,
    /// The new password, when both fields were given.
    pub(crate) password: String,
}

impl SetPasswordForm {
    /// The empty fields, with the validators' help texts.
    pub(crate) fn fields(validators: &Validators, autofocus: bool) -> Vec<FormField> {
        let mut new1 = FormField::new("new_password1", "New password", "password")
            .attr("autocomplete", "new-password");
        if autofocus {
            new1 = new1.attr("autofocus", "");
        }
        new1.help_texts = password_validators_help_texts(validators);
        let new2 = FormField::new("new_password2", "New password confirmation", "password")
            .attr("autocomplete", "new-password");
        vec![new1, new2]
    }

    /// The empty form.
    pub(crate) fn blank(validators: &Validators) -> Form {
        Form::new(Self::fields(validators, true))
    }

    /// Validates the new passwords of `data` for `user` into `form`
    /// (which holds the two fields).
    pub(crate) async fn clean(
        form: &mut Form,
        data: &FormData,
        user: &AbstractUser,
        validators: &Validators,
    ) -> String {
        let new1 = data.get("new_password1").unwrap_or("");
        let new2 = data.get("new_password2").unwrap_or("");
        form.require(&[("new_password1", new1), ("new_password2", new2)]);
        if !new1.is_empty() && !new2.is_empty() {
            if new1 != new2 {
                form.add_error("new_password2", PASSWORD_MISMATCH);
            } else if let Err(errors) = validate_password_async(new2, Some(user), validators).await
            {
                for error in errors {
                    form.add_error("new_password2", error.to_string());
                }
            }
        }
        new2.to_owned()
    }

    /// The form as submitted for `user`, validated.
    pub(crate) async fn bound(
        data: &FormData,
        user: &AbstractUser,
        validators: &Validators,
    ) -> Self {
        let mut form = Form::new(Self::fields(validators, true));
        let password = Self::clean(&mut form, data, user, validators).await;
        SetPasswordForm { form, password }
    }
}
