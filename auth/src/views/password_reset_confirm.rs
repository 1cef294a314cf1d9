//! `PasswordResetConfirmView` and `PasswordResetCompleteView`: following
//! the link from the message and choosing a new password (Django's views
//! and `SetPasswordForm`; their options are in `table.rs`).
//!
//! As in Django, a valid `/reset/<uidb64>/<token>/` stores the token in the
//! session and redirects to `/reset/<uidb64>/set-password/`, so the token
//! is not in the address of the page that loads (and cannot leak through
//! `Referer`); stricter than Django, the session gets a new id as the token
//! moves in, so a session id planted in the browser beforehand leads
//! nowhere. A used, expired, tampered or foreign token, or an unknown uid,
//! gets the "invalid link" page.

use axum::{
    body::Body,
    extract::{FromRequestParts, RawPathParams},
    response::Response,
};
use http::{Method, Request};

use super::{
    PasswordResetCompleteView, PasswordResetConfirmView, View, form_page, redirect, render,
};
use crate::{
    events::EventKind,
    forms::{Form, set_password::SetPasswordForm},
    http::body::FormData,
    kernel::error::Result,
    login::{LoginStage, Session},
    tokens::decode_uid,
    user::erased::LoadedUser,
};

/// Where the token waits between the link and the form (Django's
/// `INTERNAL_RESET_SESSION_TOKEN`).
const RESET_SESSION_TOKEN: &str = "_password_reset_token";

/// What stands for the token in the form's address (Django's
/// `reset_url_token`).
const RESET_URL_TOKEN: &str = "set-password";

impl PasswordResetConfirmView {
    async fn handle(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let (mut parts, body) = req.into_parts();
        let params = RawPathParams::from_request_parts(&mut parts, &())
            .await
            .ok();
        let param = |name: &str| {
            params.as_ref().and_then(|p| {
                p.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, v)| v.to_owned())
            })
        };
        let (Some(uidb64), Some(token)) = (param("uidb64"), param("token")) else {
            tracing::error!(
                path = parts.uri.path(),
                "PasswordResetConfirmView needs a route with {{uidb64}} and {{token}} parameters"
            );
            return self.invalid(session).await;
        };
        let Some(user) = self.user(session, &uidb64).await? else {
            return self.invalid(session).await;
        };
        let shared = &session.request.shared;
        let now = shared.clock.now();
        if token != RESET_URL_TOKEN {
            if !shared.reset_tokens.check_token(user.base(), &token, now) {
                return self.invalid(session).await;
            }
            // A new session id: a planted one (cookie tossing) must not
            // lead its owner to this user's form.
            if session.id().is_some() {
                session.cycle_id().await?;
            }
            session.insert(RESET_SESSION_TOKEN, token.clone()).await?;
            let path = parts.uri.path();
            let form_path = match path.rsplit_once(&format!("/{token}")) {
                Some((before, after)) => format!("{before}/{RESET_URL_TOKEN}{after}"),
                None => return self.invalid(session).await,
            };
            return Ok(redirect(&form_path));
        }
        let session_token = match session.get_value(RESET_SESSION_TOKEN).await? {
            Some(serde_json::Value::String(token)) => token,
            _ => return self.invalid(session).await,
        };
        if !shared
            .reset_tokens
            .check_token(user.base(), &session_token, now)
        {
            return self.invalid(session).await;
        }
        if parts.method != Method::POST {
            return self
                .form_page(session, &SetPasswordForm::blank(&shared.validators))
                .await;
        }
        let data = match FormData::read(Request::from_parts(parts, body), &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let new = SetPasswordForm::bound(&data, user.base(), &shared.validators).await;
        if !new.form.is_valid() {
            return self.form_page(session, &new.form).await;
        }
        let id = user.base().id;
        // A new hash: the token (and every session made with the old
        // password) stops working.
        let hash = shared.hasher.make_async(&new.password).await?;
        shared.users.set_password_hash(id, &hash).await?;
        session.remove_value(RESET_SESSION_TOKEN).await?;
        let event = session.request.event(EventKind::PasswordResetCompleted);
        shared.events.emit(
            event
                .user(id, &user.base().username)
                .email(&user.base().email),
        );
        if self.post_reset_login
            && let Some(changed) = shared.users.get_fresh(id).await?
        {
            // Through the login's stages: a user with a second factor is
            // asked for it, as at the login page.
            let staged = shared
                .operations
                .stage_login(session, &changed, None)
                .await?;
            if let LoginStage::Pending { url } = staged {
                return Ok(redirect(&url));
            }
        }
        Ok(redirect(&self.success_url))
    }

    /// The user a `uidb64` names, read from the database (not a cache: the
    /// token must be checked against the current password and login).
    async fn user(&self, session: &Session, uidb64: &str) -> Result<Option<LoadedUser>> {
        let Some(id) = decode_uid(uidb64) else {
            return Ok(None);
        };
        session.request.shared.users.get_fresh(id).await
    }

    async fn invalid(&self, session: &Session) -> Result<Response> {
        let context = minijinja::context! {
            validlink => false,
            title => "Password reset unsuccessful",
        };
        render(session, &self.template_name, context).await
    }

    async fn form_page(&self, session: &Session, form: &Form) -> Result<Response> {
        let extra = minijinja::context! { validlink => true };
        form_page(
            session,
            &self.template_name,
            form,
            "Enter new password",
            extra,
        )
        .await
    }
}

impl View for PasswordResetConfirmView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.handle(&session, req).await
    }
}

impl View for PasswordResetCompleteView {
    async fn run(&self, session: Session, _req: Request<Body>) -> Result<Response> {
        let login_url = session.request.shared.login_url().to_owned();
        render(
            &session,
            &self.template_name,
            minijinja::context! { title => "Password reset complete", login_url },
        )
        .await
    }
}
