//! Asking for a password-reset link (Django's `PasswordResetForm`): an
//! `email`, checked for shape (Django's `EmailField`, loosely: the message
//! decides the rest).

use super::{Form, REQUIRED, widgets::FormField};
use crate::http::body::FormData;

/// Django's `EmailField` message.
pub(crate) const INVALID_EMAIL: &str = "Enter a valid email address.";

/// The longest address accepted (RFC 5321's path limit, Django's
/// `EmailField` maximum).
const EMAIL_MAX_LENGTH: usize = 254;

/// A submitted reset-request form.
#[derive(Debug)]
pub(crate) struct PasswordResetForm {
    pub(crate) form: Form,
    pub(crate) email: String,
}

impl PasswordResetForm {
    /// The empty form.
    pub(crate) fn blank() -> Form {
        Form::new(vec![email_field()])
    }

    /// The form as submitted, validated.
    pub(crate) fn bound(data: &FormData) -> Self {
        let email = data.get("email").unwrap_or("").trim().to_owned();
        let mut field = email_field();
        field.value = email.clone();
        let mut form = Form::new(vec![field]);
        if email.is_empty() {
            form.add_error("email", REQUIRED);
        } else if !is_email(&email) {
            form.add_error("email", INVALID_EMAIL);
        }
        PasswordResetForm { form, email }
    }
}

/// A plausible address: one `@` with text on both sides, a dot-free
/// local part edge, a domain with a dot or `localhost`, no spaces or
/// control characters, at most 254 characters (Django's `EmailValidator`,
/// loosely: the message decides the rest).
fn is_email(value: &str) -> bool {
    if value.len() > EMAIL_MAX_LENGTH || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !domain.is_empty()
        && (domain.contains('.') || domain == "localhost")
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
}

fn email_field() -> FormField {
    FormField::new("email", "Email", "email")
        .attr("autocomplete", "email")
        .attr("maxlength", EMAIL_MAX_LENGTH.to_string())
        .attr("autofocus", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_loosely_but_safely() {
        for good in [
            "a@example.com",
            "first.last+tag@sub.example.co",
            "x@localhost",
            "ü@bücher.de",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "@example.com",
            "a@",
            "a@b",
            "a @example.com",
            "a@exa mple.com",
            "a@example.com\n",
            ".a@example.com",
            "a.@example.com",
            "a@.example.com",
            "a@example..com",
            "a@example.com.",
            "a@@example.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_email(&format!("{}@example.com", "a".repeat(250))));
    }
}
