//! Two-factor login as a stage of every login ([`TwoFactor`], registered
//! by the builder with the `mfa` feature): between the password and
//! [`login`](crate::login), whether a user must pass a second step, and
//! which view takes it.
//!
//! The rule, for every way in (the built-in views, custom views on the
//! primitives, a reset that logs in): a user with a second factor, or one
//! who must set one up (`AUTH_MFA_REQUIRED`), is never logged in on the
//! password alone. [`stage_login`](crate::stage_login) makes such a login
//! pending and names the view; [`login`](crate::login) refuses it.

use crate::{
    apps::{LoginStep, Shared, Step},
    kernel::error::{Error, Result},
    kernel::future::BoxFuture,
    login::Session,
    user::AbstractUser,
};

/// The second factor, as a login stage.
pub(crate) struct TwoFactor;

impl LoginStep for TwoFactor {
    fn next<'a>(
        &'a self,
        shared: &'a Shared,
        user: &'a AbstractUser,
    ) -> BoxFuture<'a, Result<Option<Step>>> {
        Box::pin(step_for(shared, user))
    }

    fn pend<'a>(
        &'a self,
        session: &'a Session,
        user: &'a AbstractUser,
        backend: &'a str,
        step: Step,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(super::pending::begin(session, user, backend, step.set_up))
    }

    fn forget<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            super::pending::drop_ceremony_keys(session).await?;
            super::pending::clear(session).await
        })
    }
}

/// The second step `user`'s login must take, if any. A user who needs
/// one while the app declares no view to take it cannot log in: a
/// configuration error that names the fix, never a login on the password
/// alone.
pub(crate) async fn step_for(shared: &Shared, user: &AbstractUser) -> Result<Option<Step>> {
    let urls = &shared.urls;
    if super::has_second_factor(shared, user.id).await? {
        return match urls.path_of_view("MfaAuthenticateView") {
            Some(path) => Ok(Some(Step {
                path,
                set_up: false,
            })),
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
        Some(path) => Ok(Some(Step { path, set_up: true })),
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
