//! [`PwnedPasswordValidator`]: refuses passwords that appear in a list of
//! breached passwords (OWASP ASVS 6.2.12), asked of a range service with
//! the k-anonymity protocol (`range.rs`, feature `pwned-online`) or read
//! from a local copy of the list (`file.rs`). The password itself never
//! leaves the process; online, only the first 5 hex digits of its SHA-1
//! do.
//!
//! When the list cannot be asked (the service is down or slow, the file
//! is gone), [`PwnedFail`] decides: `open` lets the password through with
//! a logged warning, `closed` refuses it with a message that says why.

#[cfg(feature = "pwned-online")]
mod cache;
mod file;
#[cfg(feature = "pwned-online")]
mod range;

use std::path::Path;
#[cfg(feature = "pwned-online")]
use std::sync::Arc;
#[cfg(feature = "pwned-online")]
use std::time::Duration;

use futures_util::future::BoxFuture;
use sha1::{Digest, Sha1};

use self::file::BreachFile;
use super::validation::PasswordValidator;
pub use crate::settings::PwnedFail;
use crate::{kernel::error::ValidationError, user::AbstractUser};

/// The message for a breached password (Django-style wording).
const BREACHED: &str =
    "This password has appeared in a data breach and can’t be used. Choose a different one.";

/// The message when the list cannot be asked and the policy is `closed`.
const UNAVAILABLE: &str = "This password could not be checked against known data breaches \
                           right now. Try again in a few minutes.";

/// Refuses passwords found in a list of breached passwords' SHA-1 hashes:
/// Have I Been Pwned's range API or a mirror (`AUTH_PWNED_PASSWORDS_URL`),
/// or a local sorted file (`AUTH_PWNED_PASSWORDS_FILE`).
#[derive(Clone, Debug)]
pub struct PwnedPasswordValidator {
    source: Source,
    fail: PwnedFail,
}

#[derive(Clone, Debug)]
enum Source {
    File(BreachFile),
    #[cfg(feature = "pwned-online")]
    Range(Arc<range::RangeApi>),
}

/// The breached-password list the settings name, if any: the file of
/// `AUTH_PWNED_PASSWORDS_FILE`, or the range service of
/// `AUTH_PWNED_PASSWORDS_URL` (feature `pwned-online`), failing as
/// `AUTH_PWNED_FAIL` says. An error when the file cannot be read, the URL
/// is not one, or both are set: a list set up but not used must not pass
/// silently.
pub(crate) fn from_settings(
    settings: &crate::settings::Settings,
) -> crate::kernel::error::Result<Option<PwnedPasswordValidator>> {
    use crate::kernel::error::Error;
    #[cfg(feature = "pwned-online")]
    let url = settings.pwned_passwords_url.as_deref();
    #[cfg(not(feature = "pwned-online"))]
    let url: Option<&str> = None;
    if settings.pwned_passwords_file.is_some() && url.is_some() {
        return Err(Error::Config(
            "AUTH_PWNED_PASSWORDS_FILE and AUTH_PWNED_PASSWORDS_URL are both set: set the one \
             list to check new passwords against"
                .into(),
        ));
    }
    let list = if let Some(path) = &settings.pwned_passwords_file {
        PwnedPasswordValidator::from_file(path).map_err(|err| {
            Error::Config(format!(
                "AUTH_PWNED_PASSWORDS_FILE={}: {err}",
                path.display()
            ))
        })?
    } else {
        #[cfg(feature = "pwned-online")]
        let Some(url) = url else {
            return Ok(None);
        };
        #[cfg(not(feature = "pwned-online"))]
        return Ok(url.and(None));
        #[cfg(feature = "pwned-online")]
        PwnedPasswordValidator::online(url, settings.pwned_timeout, settings.pwned_cache_ttl)
            .map_err(|err| Error::Config(format!("AUTH_PWNED_PASSWORDS_URL={err}")))?
    };
    Ok(Some(list.fail(settings.pwned_fail)))
}

/// Why the list could not be asked.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PwnedLookupError(String);

impl PwnedPasswordValidator {
    /// The validator on the sorted list at `path`; an error when it cannot
    /// be opened. It fails open (see [`fail`](Self::fail)).
    pub fn from_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        Ok(PwnedPasswordValidator {
            source: Source::File(BreachFile::open(path.as_ref())?),
            fail: PwnedFail::Open,
        })
    }

    /// The validator on the range service at `url` (the 5-digit prefix is
    /// appended to it: `https://api.pwnedpasswords.com/range/`), waiting
    /// at most `timeout` per request and keeping each answer `cache_ttl`
    /// (at most 512 of them, least recently used out first). It fails
    /// open (see [`fail`](Self::fail)). An error when `url` is not an
    /// http(s) URL.
    #[cfg(feature = "pwned-online")]
    pub fn online(
        url: &str,
        timeout: Duration,
        cache_ttl: Duration,
    ) -> Result<Self, PwnedLookupError> {
        let api = range::RangeApi::new(url, timeout, cache_ttl).map_err(PwnedLookupError)?;
        Ok(PwnedPasswordValidator {
            source: Source::Range(Arc::new(api)),
            fail: PwnedFail::Open,
        })
    }

    /// The same validator with another policy for when the list cannot be
    /// asked.
    pub fn fail(mut self, policy: PwnedFail) -> Self {
        self.fail = policy;
        self
    }

    /// Whether `password` is in the list.
    pub async fn is_breached(&self, password: &str) -> Result<bool, PwnedLookupError> {
        let digest = digest(password);
        match &self.source {
            Source::File(file) => file.contains(&digest).map_err(|err| self.failed(err)),
            #[cfg(feature = "pwned-online")]
            Source::Range(api) => api.contains(&digest).await.map_err(|err| self.failed(err)),
        }
    }

    /// [`is_breached`](Self::is_breached) without a runtime: online, a
    /// range not in the cache blocks the caller up to the timeout.
    pub fn is_breached_blocking(&self, password: &str) -> Result<bool, PwnedLookupError> {
        let digest = digest(password);
        match &self.source {
            Source::File(file) => file.contains(&digest).map_err(|err| self.failed(err)),
            #[cfg(feature = "pwned-online")]
            Source::Range(api) => api
                .contains_blocking(&digest)
                .map_err(|err| self.failed(err)),
        }
    }

    /// A lookup's failure, with the list it asked (file or URL).
    fn failed(&self, err: impl std::fmt::Display) -> PwnedLookupError {
        let list = match &self.source {
            Source::File(file) => file.path().display().to_string(),
            #[cfg(feature = "pwned-online")]
            Source::Range(api) => api.url().to_owned(),
        };
        PwnedLookupError(format!("{list}: {err}"))
    }

    /// The answer for a lookup's outcome, under the failure policy.
    fn verdict(&self, outcome: Result<bool, PwnedLookupError>) -> Result<(), ValidationError> {
        match outcome {
            Ok(true) => Err(ValidationError::new("password_pwned", BREACHED)),
            Ok(false) => Ok(()),
            Err(err) => {
                metrics::counter!("auth_pwned_unavailable_total").increment(1);
                match self.fail {
                    PwnedFail::Open => {
                        tracing::warn!(
                            error = %err,
                            "the breached-password list cannot be asked; the password is let \
                             through (AUTH_PWNED_FAIL=open)"
                        );
                        Ok(())
                    }
                    PwnedFail::Closed => {
                        tracing::warn!(
                            error = %err,
                            "the breached-password list cannot be asked; the password is \
                             refused (AUTH_PWNED_FAIL=closed)"
                        );
                        Err(ValidationError::new(
                            "password_pwned_unavailable",
                            UNAVAILABLE,
                        ))
                    }
                }
            }
        }
    }
}

/// The password's SHA-1, 40 upper-case hex digits (the list's format).
fn digest(password: &str) -> String {
    hex::encode_upper(Sha1::digest(password.as_bytes()))
}

impl PasswordValidator for PwnedPasswordValidator {
    fn validate(
        &self,
        password: &str,
        _user: Option<&AbstractUser>,
    ) -> Result<(), ValidationError> {
        self.verdict(self.is_breached_blocking(password))
    }

    fn validate_async<'a>(
        &'a self,
        password: &'a str,
        _user: Option<&'a AbstractUser>,
    ) -> BoxFuture<'a, Result<(), ValidationError>> {
        Box::pin(async move { self.verdict(self.is_breached(password).await) })
    }

    fn help_text(&self) -> String {
        "Your password can’t be one that has appeared in a known data breach.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::{file::tests::list, *};

    #[tokio::test]
    async fn refuses_with_the_breach_message_and_follows_the_policy_when_unreadable() {
        let (path, _) = list(50);
        let open = PwnedPasswordValidator::from_file(&path.0).unwrap();
        let closed = open.clone().fail(PwnedFail::Closed);
        for validator in [&open, &closed] {
            let refused = validator.validate("breached-7", None).unwrap_err();
            assert_eq!(refused.code(), "password_pwned");
            assert!(
                refused
                    .message()
                    .starts_with("This password has appeared in a data breach")
            );
            let refused = validator.validate_async("breached-8", None).await;
            assert_eq!(refused.unwrap_err().code(), "password_pwned");
            assert!(validator.validate("a fine passphrase", None).is_ok());
        }
        drop(path);
        assert!(open.validate("breached-7", None).is_ok(), "fails open");
        let refused = closed.validate_async("breached-7", None).await.unwrap_err();
        assert_eq!(refused.code(), "password_pwned_unavailable", "fails closed");
        assert!(PwnedPasswordValidator::from_file("/nonexistent/pwned.txt").is_err());
    }
}
