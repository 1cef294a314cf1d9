//! Password validators: Django's four defaults, with Django's messages.
//!
//! [`validate_password`] runs every configured validator and returns every
//! message, in order. Used by the password change view and by the
//! `createsuperuser`/`changepassword` commands.

use std::{collections::HashSet, sync::OnceLock};

use futures_util::future::BoxFuture;

use crate::{
    kernel::error::{Error, ValidationError},
    user::AbstractUser,
};

/// One password rule (Django's password validator classes).
pub trait PasswordValidator: Send + Sync {
    /// An error when `password` breaks the rule (`user` is the account the
    /// password is for, when known).
    fn validate(&self, password: &str, user: Option<&AbstractUser>) -> Result<(), ValidationError>;
    /// The same check for async callers (the views and commands use it):
    /// a rule that asks a remote service overrides it so that the wait
    /// does not block a runtime thread. The default runs
    /// [`validate`](Self::validate).
    fn validate_async<'a>(
        &'a self,
        password: &'a str,
        user: Option<&'a AbstractUser>,
    ) -> BoxFuture<'a, Result<(), ValidationError>> {
        let outcome = self.validate(password, user);
        Box::pin(std::future::ready(outcome))
    }
    /// A sentence describing the rule, for forms.
    fn help_text(&self) -> String;
}

/// The validators, in order.
pub type Validators = Vec<Box<dyn PasswordValidator>>;

/// Django's `startproject` defaults: attribute similarity (0.7), minimum
/// length 8, common passwords, entirely numeric.
pub fn default_validators() -> Validators {
    vec![
        Box::new(UserAttributeSimilarityValidator::default()),
        Box::new(MinimumLengthValidator::default()),
        Box::new(CommonPasswordValidator),
        Box::new(NumericPasswordValidator),
    ]
}

/// Runs every validator; `Err` lists every failure, in order.
pub fn validate_password(
    password: &str,
    user: Option<&AbstractUser>,
    validators: &[Box<dyn PasswordValidator>],
) -> Result<(), Vec<ValidationError>> {
    let errors: Vec<ValidationError> = validators
        .iter()
        .filter_map(|v| v.validate(password, user).err())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// [`validate_password`] for async callers: each validator's
/// [`validate_async`](PasswordValidator::validate_async), in order.
pub async fn validate_password_async(
    password: &str,
    user: Option<&AbstractUser>,
    validators: &[Box<dyn PasswordValidator>],
) -> Result<(), Vec<ValidationError>> {
    let mut errors = Vec::new();
    for validator in validators {
        if let Err(error) = validator.validate_async(password, user).await {
            errors.push(error);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The help texts of `validators`.
pub fn password_validators_help_texts(validators: &[Box<dyn PasswordValidator>]) -> Vec<String> {
    validators.iter().map(|v| v.help_text()).collect()
}

/// Refuses passwords too similar to the username, names or email.
#[derive(Clone, Debug)]
pub struct UserAttributeSimilarityValidator {
    max_similarity: f64,
}

impl Default for UserAttributeSimilarityValidator {
    fn default() -> Self {
        UserAttributeSimilarityValidator {
            max_similarity: 0.7,
        }
    }
}

impl UserAttributeSimilarityValidator {
    /// With another threshold; below 0.1 it would refuse almost everything,
    /// so that is an error (as in Django).
    pub fn new(max_similarity: f64) -> Result<Self, Error> {
        if max_similarity < 0.1 {
            return Err(Error::Config("max_similarity must be at least 0.1".into()));
        }
        Ok(UserAttributeSimilarityValidator { max_similarity })
    }
}

impl PasswordValidator for UserAttributeSimilarityValidator {
    fn validate(&self, password: &str, user: Option<&AbstractUser>) -> Result<(), ValidationError> {
        let Some(user) = user else {
            return Ok(());
        };
        let password: Vec<char> = password.to_lowercase().chars().collect();
        let attributes = [
            ("username", &user.username),
            ("first name", &user.first_name),
            ("last name", &user.last_name),
            ("email address", &user.email),
        ];
        for (verbose_name, value) in attributes {
            if value.is_empty() {
                continue;
            }
            let value = value.to_lowercase();
            let mut parts: Vec<&str> = value
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .collect();
            parts.push(&value);
            for part in parts {
                let part: Vec<char> = part.chars().collect();
                if exceeds_maximum_length_ratio(password.len(), self.max_similarity, part.len()) {
                    continue;
                }
                if quick_ratio(&password, &part) >= self.max_similarity {
                    return Err(ValidationError::new(
                        "password_too_similar",
                        format!("The password is too similar to the {verbose_name}."),
                    ));
                }
            }
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be too similar to your other personal information.".into()
    }
}

/// Skips comparisons that cannot reach the threshold: a short attribute
/// part against a much longer password.
fn exceeds_maximum_length_ratio(
    password_len: usize,
    max_similarity: f64,
    value_len: usize,
) -> bool {
    let bound = max_similarity / 2.0 * password_len as f64;
    password_len >= 10 * value_len && (value_len as f64) < bound
}

/// Python's `SequenceMatcher.quick_ratio`: 2 × (characters in common,
/// counted as multisets) / (total length).
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 1.0;
    }
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for &c in b {
        *available.entry(c).or_default() += 1;
    }
    let mut matches = 0;
    for c in a {
        if let Some(n) = available.get_mut(c).filter(|n| **n > 0) {
            *n -= 1;
            matches += 1;
        }
    }
    2.0 * matches as f64 / total as f64
}

/// Refuses passwords shorter than `min_length` characters.
#[derive(Clone, Debug)]
pub struct MinimumLengthValidator {
    /// The shortest length accepted (default 8).
    pub min_length: usize,
}

impl Default for MinimumLengthValidator {
    fn default() -> Self {
        MinimumLengthValidator { min_length: 8 }
    }
}

impl PasswordValidator for MinimumLengthValidator {
    fn validate(
        &self,
        password: &str,
        _user: Option<&AbstractUser>,
    ) -> Result<(), ValidationError> {
        if password.chars().count() < self.min_length {
            let plural = if self.min_length == 1 {
                "character"
            } else {
                "characters"
            };
            return Err(ValidationError::new(
                "password_too_short",
                format!(
                    "This password is too short. It must contain at least {} {plural}.",
                    self.min_length
                ),
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        let plural = if self.min_length == 1 {
            "character"
        } else {
            "characters"
        };
        format!(
            "Your password must contain at least {} {plural}.",
            self.min_length
        )
    }
}

/// Refuses the 19,640 common passwords Django ships (compared lowercased
/// and trimmed).
#[derive(Clone, Copy, Debug, Default)]
pub struct CommonPasswordValidator;

static COMMON_PASSWORDS: OnceLock<HashSet<&'static str>> = OnceLock::new();

fn common_passwords() -> &'static HashSet<&'static str> {
    COMMON_PASSWORDS.get_or_init(|| {
        include_str!("../../data/common-passwords.txt")
            .lines()
            .collect()
    })
}

impl CommonPasswordValidator {
    /// How many passwords the list holds.
    pub fn len(&self) -> usize {
        common_passwords().len()
    }

    /// Whether the list is empty (it never is).
    pub fn is_empty(&self) -> bool {
        common_passwords().is_empty()
    }
}

impl PasswordValidator for CommonPasswordValidator {
    fn validate(
        &self,
        password: &str,
        _user: Option<&AbstractUser>,
    ) -> Result<(), ValidationError> {
        if common_passwords().contains(password.to_lowercase().trim()) {
            return Err(ValidationError::new(
                "password_too_common",
                "This password is too common.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be a commonly used password.".into()
    }
}

/// Refuses passwords made only of digits.
#[derive(Clone, Copy, Debug, Default)]
pub struct NumericPasswordValidator;

impl PasswordValidator for NumericPasswordValidator {
    fn validate(
        &self,
        password: &str,
        _user: Option<&AbstractUser>,
    ) -> Result<(), ValidationError> {
        if !password.is_empty() && password.chars().all(char::is_numeric) {
            return Err(ValidationError::new(
                "password_entirely_numeric",
                "This password is entirely numeric.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be entirely numeric.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str) -> AbstractUser {
        AbstractUser::new(username)
    }

    fn errors(password: &str, user: Option<&AbstractUser>) -> Vec<String> {
        validate_password(password, user, &default_validators())
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn djangos_probes() {
        assert_eq!(
            errors("12345678", None),
            [
                "This password is too common.",
                "This password is entirely numeric."
            ]
        );
        let alice = user("alice");
        assert_eq!(
            errors("alice", Some(&alice)),
            [
                "The password is too similar to the username.",
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
            ]
        );
        assert_eq!(
            errors("1234567", None)[0],
            "This password is too short. It must contain at least 8 characters."
        );
        assert_eq!(errors("godzilla", None), ["This password is too common."]);
        assert_eq!(
            errors("42424242", None),
            ["This password is entirely numeric."]
        );
        assert_eq!(
            errors("testclient", Some(&user("testclient"))),
            ["The password is too similar to the username."]
        );
        assert!(errors("correct horse battery staple", Some(&alice)).is_empty());
    }

    #[test]
    fn email_parts_are_compared() {
        let mut u = user("someone");
        u.email = "marguerite@example.com".into();
        assert_eq!(
            errors("Marguerite1", Some(&u)),
            ["The password is too similar to the email address."]
        );
    }

    #[test]
    fn an_empty_list_accepts_anything() {
        assert!(validate_password("password", None, &[]).is_ok());
    }

    #[test]
    fn the_common_list_is_djangos() {
        assert_eq!(CommonPasswordValidator.len(), 19_640);
        assert!(
            CommonPasswordValidator
                .validate("  PassWord ", None)
                .is_err()
        );
    }

    #[test]
    fn similarity_threshold_is_checked() {
        assert!(UserAttributeSimilarityValidator::new(0.05).is_err());
        assert!(UserAttributeSimilarityValidator::new(0.5).is_ok());
    }
}
