//! `MfaAuthenticateView`: the second step of a two-factor login (its
//! options are in `table.rs`).

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{PASSKEY_OPTIONS, new_challenge, options_response, take_challenge, with_next};
use crate::{
    Error, Result, Session,
    events::EventKind,
    forms::{
        Form,
        mfa_code::{CodeForm, INVALID_CODE},
    },
    http::body::FormData,
    mfa::{self, pending, webauthn},
    throttle::login_counters,
    views::{
        MfaAuthenticateView, NEXT, View, form_page_with_status, query_param, redirect, safe_next,
    },
};

impl MfaAuthenticateView {
    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let request = &session.request;
        let shared = &request.shared;
        let query_next = query_param(&req, NEXT);
        let Some(pending) = pending::current(session).await? else {
            // No password was typed, or too long ago: start again.
            let next = safe_next(session, None, query_next);
            return Ok(redirect(&with_next(shared.login_url(), next.as_deref())));
        };
        if req.method() != Method::POST {
            let next = safe_next(session, None, query_next);
            let form = CodeForm::blank(false);
            return self.page(session, &form, next, StatusCode::OK).await;
        }
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let next = safe_next(session, Some(&data), query_next);
        if data.get("action") == Some(PASSKEY_OPTIONS) {
            let rp = mfa::relying_party(shared)?;
            let challenge = new_challenge(session).await?;
            let allow: Vec<Vec<u8>> = mfa::passkeys(shared, pending.user)
                .await?
                .into_iter()
                .map(|p| p.credential_id)
                .collect();
            let options = webauthn::request_options(&rp, &challenge, &allow, "preferred");
            return Ok(options_response(options));
        }
        let passkey = data.get("credential").filter(|c| !c.is_empty());
        let mut submitted = CodeForm::bound(&data, false);
        if passkey.is_none() && !submitted.form.is_valid() {
            return self
                .page(session, &submitted.form, next, StatusCode::OK)
                .await;
        }
        let Some(user) = shared
            .backends
            .get_user(shared, &pending.backend, pending.user)
            .await?
        else {
            // Deactivated or deleted since the password: start again.
            pending::clear(session).await?;
            return Ok(redirect(shared.login_url()));
        };
        let (id, username) = (user.base().id, user.base().username.clone());
        let counters = login_counters(&shared.settings, &username, request.origin.client_ip);
        let reservation = match shared.throttle.reserve(&counters).await {
            Err(Error::Throttled) => {
                let mut event = request.event(EventKind::LoginLockedOut);
                event.username = username;
                shared.events.emit(event);
                submitted
                    .form
                    .add_error("code", Error::Throttled.to_string());
                return self
                    .page(
                        session,
                        &submitted.form,
                        next,
                        StatusCode::TOO_MANY_REQUESTS,
                    )
                    .await;
            }
            other => other?,
        };
        let checked = match passkey {
            Some(posted) => self.check_passkey(session, id, posted).await,
            None => mfa::verify(shared, id, &submitted.code).await,
        };
        let passed = match checked {
            Ok(passed) => passed,
            Err(err) => {
                shared.throttle.did_not_happen(reservation).await?;
                return Err(err);
            }
        };
        let Some(passed) = passed else {
            shared.throttle.failed(reservation);
            shared
                .events
                .emit(request.event(EventKind::MfaFailed).user(id, &username));
            submitted.form.add_error("code", INVALID_CODE);
            return self
                .page(session, &submitted.form, next, StatusCode::OK)
                .await;
        };
        shared.throttle.succeeded(reservation).await?;
        pending::passed(session, &pending).await?;
        match shared.operations.login(session, &user).await {
            Ok(()) => {}
            Err(Error::TooManySessions) => {
                submitted
                    .form
                    .add_non_field_error(Error::TooManySessions.to_string());
                return self
                    .page(session, &submitted.form, next, StatusCode::FORBIDDEN)
                    .await;
            }
            Err(err) => return Err(err),
        }
        mfa::record_factor(session, passed).await?;
        let target = next.unwrap_or_else(|| shared.settings.login_redirect_url().to_owned());
        Ok(redirect(&target))
    }

    /// A passkey posted at the second step: `Passkey` when it verifies.
    async fn check_passkey(
        &self,
        session: &Session,
        user_id: i64,
        posted: &str,
    ) -> Result<Option<mfa::Passed>> {
        let challenge = take_challenge(session).await?.unwrap_or_default();
        let Ok(assertion) = webauthn::parse_assertion(posted) else {
            return Ok(None);
        };
        let shared = &session.request.shared;
        let passed = mfa::verify_passkey(shared, user_id, &assertion, &challenge, false).await?;
        Ok(passed.then_some(mfa::Passed::Passkey))
    }

    async fn page(
        &self,
        session: &Session,
        form: &Form,
        next: Option<String>,
        status: StatusCode,
    ) -> Result<Response> {
        let shared = &session.request.shared;
        let passkeys = match pending::current(session).await? {
            Some(pending) if shared.urls.path_of_view("PasskeysView").is_some() => {
                !mfa::passkeys(shared, pending.user).await?.is_empty()
            }
            _ => false,
        };
        let extra = minijinja::context! { next => next.unwrap_or_default(), passkeys };
        let title = "Two-factor authentication";
        form_page_with_status(session, &self.template_name, form, (title, extra), status).await
    }
}

impl View for MfaAuthenticateView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.respond(&session, req).await
    }
}
