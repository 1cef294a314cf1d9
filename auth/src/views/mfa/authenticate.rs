//! `MfaAuthenticateView`: the second step of a two-factor login (its
//! options are in `table.rs`).

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::with_next;
use crate::{
    Error, Result, Session,
    events::EventKind,
    forms::{
        Form,
        mfa_code::{CodeForm, INVALID_CODE},
    },
    http::body::FormData,
    mfa::{self, pending},
    throttle::login_counters,
    views::{MfaAuthenticateView, NEXT, View, form_page, query_param, redirect, safe_next},
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
        let mut submitted = CodeForm::bound(&data, false);
        if !submitted.form.is_valid() {
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
        let passed = match mfa::verify(shared, id, &submitted.code).await {
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
        pending::clear(session).await?;
        if let Some(backend) = shared.backends.named(&pending.backend) {
            request.set_authenticated_by(id, backend);
        }
        if let Some(remember) = pending.remember {
            request.set_remember(remember);
        }
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

    async fn page(
        &self,
        session: &Session,
        form: &Form,
        next: Option<String>,
        status: StatusCode,
    ) -> Result<Response> {
        let extra = minijinja::context! { next => next.unwrap_or_default() };
        let mut response = form_page(
            session,
            &self.template_name,
            form,
            "Two-factor authentication",
            extra,
        )
        .await?;
        *response.status_mut() = status;
        Ok(response)
    }
}

impl View for MfaAuthenticateView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.respond(&session, req).await
    }
}
