//! `MfaIndexView`: the user's second factors (its options are in
//! `table.rs`).

use axum::{body::Body, response::Response};
use http::Request;

use crate::{
    Result, Session, mfa,
    views::{MfaIndexView, View, render, require_login},
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
            passkey_count => mfa::passkeys(shared, id).await?.len(),
        };
        render(&session, &self.template_name, context).await
    }
}
