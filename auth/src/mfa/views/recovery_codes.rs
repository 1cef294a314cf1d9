//! `RecoveryCodesView`: the recovery codes, shown once, and a new set on
//! request (its options are in `table.rs`).

use super::RecoveryCodesView;
use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{CONTINUE_KEY, NEW_CODES_KEY, needs_reauth};
use crate::{
    events::EventKind,
    http::{body::FormData, html::error_page},
    kernel::error::Result,
    login::Session,
    mfa,
    views::{View, render, require_login},
};

impl RecoveryCodesView {
    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let user = match require_login(session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        let request = &session.request;
        let shared = &request.shared;
        let (id, username) = (user.base().id, user.base().username.clone());
        let codes: Option<Vec<String>> = if req.method() == Method::POST {
            if let Some(answer) = needs_reauth(session, &req).await {
                return Ok(answer);
            }
            // The form has no fields but its CSRF token: read it all the
            // same, within the body limits.
            if let Err(response) = FormData::read(req, &shared.settings).await {
                return Ok(response);
            }
            if !mfa::has_second_factor(shared, id).await? {
                return Ok(error_page(
                    StatusCode::CONFLICT,
                    "No second factor",
                    "Recovery codes back up a second factor: turn one on first.",
                ));
            }
            let codes = mfa::regenerate_recovery_codes(shared, id).await?;
            mfa::changed(
                session,
                id,
                &username,
                EventKind::MfaEnabled,
                mfa::RECOVERY_CODES,
            )
            .await?;
            Some(codes)
        } else if req.method() == Method::HEAD {
            // A HEAD shows nothing: the codes wait for the GET.
            None
        } else {
            request
                .session
                .remove_value(NEW_CODES_KEY)
                .await?
                .and_then(|value| serde_json::from_value(value).ok())
        };
        let continue_url = match &codes {
            Some(_) => request
                .session
                .remove_value(CONTINUE_KEY)
                .await?
                .and_then(|value| value.as_str().map(str::to_owned)),
            None => None,
        };
        let left = mfa::recovery_codes_left(shared, id).await?;
        let context = minijinja::context! {
            continue_url,
            title => "Recovery codes",
            codes,
            left => left.map(|(left, _)| left),
            total => left.map(|(_, total)| total),
            index_url => shared.urls.path_of_view("MfaIndexView"),
        };
        render(session, &self.template_name, context).await
    }
}

impl View for RecoveryCodesView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.respond(&session, req).await
    }
}
