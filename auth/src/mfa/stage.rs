//! The login stage two-factor login adds between the password and
//! [`login`](crate::login): whether a user must pass a second step
//! before their login completes, and which view takes it.
//!
//! The rule, for every way in (the built-in views, custom views on the
//! primitives, a reset that logs in): a user with a second factor, or one
//! who must set one up (`AUTH_MFA_REQUIRED`), is never logged in on the
//! password alone. [`stage_login`](crate::stage_login) makes such a login
//! pending and names the view; [`login`](crate::login) refuses it.

use crate::{AbstractUser, Error, Result, app::shared::Shared};

/// The step a login must take before it completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// The path of the view that takes it.
    pub(crate) path: &'static str,
    /// Whether the step is setting up a first factor
    /// (`AUTH_MFA_REQUIRED`), not passing one.
    pub(crate) enrol: bool,
}

/// The second step `user`'s login must take, if any. A user who needs
/// one while the app declares no view to take it cannot log in: a
/// configuration error that names the fix, never a login on the password
/// alone.
pub(crate) async fn step_for(shared: &Shared, user: &AbstractUser) -> Result<Option<Step>> {
    let urls = &shared.urls;
    if super::has_second_factor(shared, user.id).await? {
        return match urls.path_of_view("MfaAuthenticateView") {
            Some(path) => Ok(Some(Step { path, enrol: false })),
            None => Err(missing_view(
                "has a second factor",
                "MfaAuthenticateView",
                urls.routes().is_empty(),
            )),
        };
    }
    if !super::required(shared, user).await? {
        return Ok(None);
    }
    match urls.path_of_view("TotpActivateView") {
        Some(path) => Ok(Some(Step { path, enrol: true })),
        None => Err(missing_view(
            "must set up a second factor (AUTH_MFA_REQUIRED)",
            "TotpActivateView",
            urls.routes().is_empty(),
        )),
    }
}

/// The error for a login whose user needs `view`, which the app's URL
/// table lacks: the likeliest cause first.
fn missing_view(why: &str, view: &str, no_table: bool) -> Error {
    let cause = if no_table {
        "the builder was given no URL table: add `.urls(urls::URLCONF)` to `Auth::builder()`"
            .to_owned()
    } else {
        format!("declare a {view} in auth_urls!")
    };
    tracing::error!(
        "a login was refused: the user {why}, but no {view} is in the app's URL table; {cause}"
    );
    Error::Config(format!(
        "the user {why}, but no {view} is in the app's URL table ({cause})"
    ))
}
