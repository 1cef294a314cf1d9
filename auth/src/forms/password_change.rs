//! Changing one's password (Django's `PasswordChangeForm`): the old
//! password (checked by the view, counted by the login throttle) and a
//! new one ([`SetPasswordForm`]).

use super::{Form, set_password::SetPasswordForm, widgets::FormField};
use crate::{http::body::FormData, password::validation::Validators, user::AbstractUser};

/// Wrong current password.
pub(crate) const PASSWORD_INCORRECT: &str =
    "Your old password was entered incorrectly. Please enter it again.";

/// A submitted password-change form.
#[derive(Debug)]
pub(crate) struct PasswordChangeForm {
    pub(crate) form: Form,
    pub(crate) old_password: String,
    pub(crate) new_password: String,
}

impl PasswordChangeForm {
    fn fields(validators: &Validators) -> Vec<FormField> {
        let old = FormField::new("old_password", "Old password", "password")
            .attr("autocomplete", "current-password")
            .attr("autofocus", "");
        std::iter::once(old)
            .chain(SetPasswordForm::fields(validators, false))
            .collect()
    }

    /// The empty form.
    pub(crate) fn blank(validators: &Validators) -> Form {
        Form::new(Self::fields(validators))
    }

    /// The form as submitted by `user`, its fields validated (the old
    /// password only for presence: the view checks it).
    pub(crate) async fn bound(
        data: &FormData,
        user: &AbstractUser,
        validators: &Validators,
    ) -> Self {
        let mut form = Form::new(Self::fields(validators));
        let old_password = data.get("old_password").unwrap_or("").to_owned();
        form.require(&[("old_password", &old_password)]);
        let new_password = SetPasswordForm::clean(&mut form, data, user, validators).await;
        PasswordChangeForm {
            form,
            old_password,
            new_password,
        }
    }
}
