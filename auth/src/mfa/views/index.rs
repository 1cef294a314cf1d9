//! `MfaIndexView`: the user's second factors (its options are in
//! `table.rs`).

use super::MfaIndexView;
use axum::{body::Body, response::Response};
use http::Request;

use crate::{
    kernel::error::Result,
    login::Session,
    mfa,
    views::{View, render, require_login},
};

impl View for MfaIndexView {
    async fn run(&self, session: Session, _req: Request<Body>) -> Result<Response> {
        let user = match require_login(&session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        let shared = &session.request.shared;
        let id = user.base().id;
        let totp_active = mfa::totp_active(shared, id).await?;
        let left = mfa::recovery_codes_left(shared, id).await?;
        let urls = &shared.urls;
        let context = minijinja::context! {
            title => "Two-factor authentication",
            totp_active,
            recovery_codes_left => left.map(|(left, _)| left),
            recovery_codes_total => left.map(|(_, total)| total),
            totp_activate_url => urls.path_of_view("TotpActivateView"),
            totp_deactivate_url => urls.path_of_view("TotpDeactivateView"),
            recovery_codes_url => urls.path_of_view("RecoveryCodesView"),
            passkeys_url => urls.path_of_view("PasskeysView"),
            passkey_count => passkey_count(shared, id).await?,
        };
        render(&session, &self.template_name, context).await
    }
}

/// How many passkeys user `id` has (none without `passkeys`).
async fn passkey_count(
    shared: &crate::apps::Shared,
    id: i64,
) -> crate::kernel::error::Result<usize> {
    #[cfg(feature = "passkeys")]
    return Ok(mfa::passkeys(shared, id).await?.len());
    #[cfg(not(feature = "passkeys"))]
    {
        let _ = (shared, id);
        Ok(0)
    }
}
