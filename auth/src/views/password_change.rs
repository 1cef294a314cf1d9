//! `PasswordChangeView` and `PasswordChangeDoneView` (their options are in
//! `table.rs`).

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{
    PasswordChangeDoneView, PasswordChangeView, View, form_page, redirect, render, require_login,
};
use crate::{
    events::EventKind,
    forms::password_change::{PASSWORD_INCORRECT, PasswordChangeForm},
    http::body::FormData,
    kernel::error::{Error, Result},
    login::Session,
    throttle::{Verdict, login_counters},
    user::erased::LoadedUser,
};

impl PasswordChangeView {
    async fn change(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let user = match require_login(session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        let shared = &session.request.shared;
        if req.method() != Method::POST {
            let form = PasswordChangeForm::blank(&shared.validators);
            return self.page(session, &form).await;
        }
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let mut change = PasswordChangeForm::bound(&data, user.base(), &shared.validators).await;
        if !change.old_password.is_empty() {
            match check_current_password(session, &user, &change.old_password).await {
                Ok(true) => {}
                Ok(false) => change.form.add_error("old_password", PASSWORD_INCORRECT),
                Err(Error::Throttled) => {
                    // A hijacked session must not be an unthrottled oracle
                    // for the password: the login's limits apply.
                    change
                        .form
                        .add_error("old_password", Error::Throttled.to_string());
                    let mut page = self.page(session, &change.form).await?;
                    *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    return Ok(page);
                }
                Err(err) => return Err(err),
            }
        }
        if !change.form.is_valid() {
            return self.page(session, &change.form).await;
        }
        let id = user.base().id;
        let hash = shared.hasher.make_async(&change.new_password).await?;
        shared.users.set_password_hash(id, &hash).await?;
        let event = session.request.event(EventKind::PasswordChanged);
        shared.events.emit(
            event
                .user(id, &user.base().username)
                .email(&user.base().email),
        );
        match shared.users.get(id).await? {
            Some(changed) => {
                shared
                    .operations
                    .update_session_auth_hash(session, &changed)
                    .await?
            }
            // Deleted meanwhile: nothing to stay logged in as.
            None => crate::login::logout(session).await?,
        }
        Ok(redirect(&self.success_url))
    }

    async fn page(&self, session: &Session, form: &crate::forms::Form) -> Result<Response> {
        let extra = minijinja::context! {};
        form_page(session, &self.template_name, form, "Password change", extra).await
    }
}

/// Checks a password the user typed against `user`'s (the password
/// change's old password, a re-authentication), counted by the login
/// throttle (username and client address, username, address) as a login
/// attempt is. Checked without upgrading an outdated hash: a failed form
/// must not change the stored hash (and with it this session's auth hash);
/// a successful one replaces it anyway.
pub(super) async fn check_current_password(
    session: &Session,
    user: &LoadedUser,
    old: &str,
) -> Result<bool> {
    let request = &session.request;
    let shared = &request.shared;
    let base = user.base();
    let counters = login_counters(&shared.settings, &base.username, request.origin.client_ip);
    let checked = shared.throttle.attempt(&counters, async {
        match shared.hasher.check_async(old, &base.password).await {
            Ok(check) if check.is_match() => (Verdict::Passed, Ok(true)),
            Ok(_) => (Verdict::Failed, Ok(false)),
            Err(err) => (Verdict::DidNotHappen, Err(err)),
        }
    });
    Ok(checked.await??)
}

impl View for PasswordChangeView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.change(&session, req).await
    }
}

impl View for PasswordChangeDoneView {
    async fn run(&self, session: Session, _req: Request<Body>) -> Result<Response> {
        if let Err(redirect) = require_login(&session, self.login_url.as_deref()).await? {
            return Ok(redirect);
        }
        render(
            &session,
            &self.template_name,
            minijinja::context! { title => "Password change successful" },
        )
        .await
    }
}
