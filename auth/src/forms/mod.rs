//! The built-in views' forms (Django's `forms.py`): each reads a submitted
//! form, validates its fields with Django's messages, and gives templates
//! its fields (`widgets.rs`). What needs the database (the credentials,
//! the old password) is checked by the view, which adds the error to the
//! form, as Django's forms do in `clean`.
//!
//! - `login.rs`: Django's `AuthenticationForm`;
//! - `set_password.rs`: `SetPasswordForm` (a reset's new password, and the
//!   second half of the password change);
//! - `password_change.rs`: `PasswordChangeForm`;
//! - `password_reset.rs`: `PasswordResetForm`;
//! - `reauthenticate.rs`: django-allauth's `ReauthenticateForm`.
//!
//! Feature apps keep their forms in their own folder.

pub(crate) mod login;
pub(crate) mod password_change;
pub(crate) mod password_reset;
pub(crate) mod reauthenticate;
pub(crate) mod set_password;
pub(crate) mod widgets;

use widgets::FormField;

/// "This field is required."
pub(crate) const REQUIRED: &str = "This field is required.";

/// A form's fields and its errors, as templates see it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Form {
    pub(crate) fields: Vec<FormField>,
    pub(crate) non_field_errors: Vec<String>,
}

impl Form {
    pub(crate) fn new(fields: Vec<FormField>) -> Self {
        Form {
            fields,
            non_field_errors: Vec::new(),
        }
    }

    /// The field named `name` (every form knows its own fields).
    fn field_mut(&mut self, name: &str) -> Option<&mut FormField> {
        self.fields.iter_mut().find(|field| field.name == name)
    }

    /// Adds an error to field `name` (Django's `add_error`).
    pub(crate) fn add_error(&mut self, name: &str, message: impl Into<String>) {
        if let Some(field) = self.field_mut(name) {
            field.errors.push(message.into());
        }
    }

    /// Adds an error about the whole form.
    pub(crate) fn add_non_field_error(&mut self, message: impl Into<String>) {
        self.non_field_errors.push(message.into());
    }

    /// Marks each of `names` required when its value is empty.
    pub(crate) fn require(&mut self, values: &[(&str, &str)]) {
        for (name, value) in values {
            if value.is_empty() {
                self.add_error(name, REQUIRED);
            }
        }
    }

    /// Whether no field and no check failed.
    pub(crate) fn is_valid(&self) -> bool {
        self.non_field_errors.is_empty() && self.fields.iter().all(|f| f.errors.is_empty())
    }

    /// The form as templates see it.
    pub(crate) fn to_value(&self) -> minijinja::Value {
        widgets::form_value(&self.fields, &self.non_field_errors)
    }
}
