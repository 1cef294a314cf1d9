//! `MfaAuthenticateView`: the second step of a two-factor login (its
//! options are in `table.rs`).
//!
//! Each answer (a code, a passkey) counts against the second factor's own
//! limits (`AUTH_MFA_FAILURE_LIMIT` per window, per day), which the
//! password step does not reset; three wrong answers end the pending
//! login (the password again); reaching the limit mails the user.

use super::MfaAuthenticateView;
use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

#[cfg(feature = "passkeys")]
use super::passkeys::{self, PASSKEY_OPTIONS, end_challenge};
use super::with_next;
use crate::{
    events::EventKind,
    forms::Form,
    http::body::FormData,
    kernel::error::{Error, Result},
    login::{LoginStage, Session},
    mfa::{
        self,
        counters::second_step_counters,
        forms::{CodeForm, INVALID_CODE},
        pending,
    },
    throttle::Verdict,
    user::erased::LoadedUser,
    views::{NEXT, View, form_page_with_status, query_param, redirect, safe_next},
};

/// What the login page says after the pending login ended on wrong
/// answers.
const TOO_MANY_WRONG: &str = "Too many wrong codes. Log in again.";

impl MfaAuthenticateView {
    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let request = &session.request;
        let shared = &request.shared;
        let query_next = query_param(&req, NEXT);
        let Some((pending, user)) = pending::resume(session).await? else {
            // No password was typed, too long ago, or the user or their
            // password changed since: start again.
            let next = safe_next(session, None, query_next);
            return Ok(redirect(&with_next(shared.login_url(), next.as_deref())));
        };
        if req.method() != Method::POST {
            let next = safe_next(session, None, query_next);
            let form = CodeForm::blank(false);
            return self.page(session, &form, next, StatusCode::OK).await;
        }
        #[cfg(feature = "passkeys")]
        let challenge_cookie = crate::mfa::challenge::cookie_in(req.headers());
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let next = safe_next(session, Some(&data), query_next);
        #[cfg(feature = "passkeys")]
        if data.get("action") == Some(PASSKEY_OPTIONS) {
            return passkeys::second_step_options(session, pending.user).await;
        }
        // A passkey's answer (with `passkeys`), else a code.
        #[cfg(feature = "passkeys")]
        let passkey = data.get("credential").filter(|c| !c.is_empty());
        #[cfg(not(feature = "passkeys"))]
        let passkey: Option<&str> = None;
        let mut submitted = CodeForm::bound(&data, false);
        if passkey.is_none() && !submitted.form.is_valid() {
            return self
                .page(session, &submitted.form, next, StatusCode::OK)
                .await;
        }
        let (id, username) = (user.base().id, user.base().username.clone());
        let counters = second_step_counters(&shared.settings, id, request.origin.client_ip);
        let checked = shared.throttle.attempt(&counters, async {
            let checked = match passkey {
                #[cfg(feature = "passkeys")]
                Some(posted) => {
                    let cookie = challenge_cookie.as_deref();
                    passkeys::check_second_step(session, cookie, id, posted).await
                }
                _ => mfa::verify(shared, id, &submitted.code).await,
            };
            match checked {
                Ok(Some(passed)) => (Verdict::Passed, Ok(Some(passed))),
                Ok(None) => (Verdict::Failed, Ok(None)),
                Err(err) => (Verdict::DidNotHappen, Err(err)),
            }
        });
        let answered = match checked.await? {
            Ok(answered) => answered,
            Err(refused) => {
                if refused.first {
                    let event = request.event(EventKind::MfaLockedOut).user(id, &username);
                    shared.events.emit(event);
                }
                submitted
                    .form
                    .add_error("code", Error::Throttled.to_string());
                let page = self
                    .page(
                        session,
                        &submitted.form,
                        next,
                        StatusCode::TOO_MANY_REQUESTS,
                    )
                    .await?;
                return Ok(self.answered(session, passkey.is_some(), page));
            }
        };
        let Some(passed) = answered else {
            shared
                .events
                .emit(request.event(EventKind::MfaFailed).user(id, &username));
            if !pending::failed(session, pending).await? {
                // Someone who has the password keeps failing the second
                // factor: the password again, and the owner told (the
                // mail is the event's).
                let event = request.event(EventKind::MfaLockedOut).user(id, &username);
                shared.events.emit(event);
                let login = with_next(shared.login_url(), next.as_deref());
                let page = self.ended(session, &login).await?;
                return Ok(self.answered(session, passkey.is_some(), page));
            }
            submitted.form.add_error("code", INVALID_CODE);
            let page = self
                .page(session, &submitted.form, next, StatusCode::OK)
                .await?;
            return Ok(self.answered(session, passkey.is_some(), page));
        };
        let response = self.log_in(session, &pending, &user, passed, next, &mut submitted.form);
        Ok(self.answered(session, passkey.is_some(), response.await?))
    }

    /// The login of `user`, whose second step passed with `passed`.
    async fn log_in(
        &self,
        session: &Session,
        pending: &pending::Pending,
        user: &LoadedUser,
        passed: mfa::Passed,
        next: Option<String>,
        form: &mut Form,
    ) -> Result<Response> {
        let shared = &session.request.shared;
        pending::passed(session, pending).await?;
        match shared.operations.stage_login(session, user, None).await {
            Ok(LoginStage::LoggedIn) => {}
            Ok(LoginStage::Pending { url }) => return Ok(redirect(&url)),
            Err(Error::TooManySessions) => {
                form.add_non_field_error(Error::TooManySessions.to_string());
                return self.page(session, form, next, StatusCode::FORBIDDEN).await;
            }
            Err(err) => return Err(err),
        }
        mfa::record_factor(session, passed).await?;
        let target = next.unwrap_or_else(|| shared.settings.login_redirect_url().to_owned());
        Ok(redirect(&target))
    }

    /// `response` to an answer: a passkey's ends its challenge cookie.
    fn answered(&self, session: &Session, passkey: bool, response: Response) -> Response {
        #[cfg(feature = "passkeys")]
        if passkey {
            return end_challenge(session, response);
        }
        let _ = (session, passkey);
        response
    }

    /// The page after the pending login ended: the login page, saying
    /// why.
    async fn ended(&self, session: &Session, login: &str) -> Result<Response> {
        session
            .request
            .session
            .insert(crate::session::metadata::NOTICE_KEY, TOO_MANY_WRONG)
            .await?;
        Ok(redirect(login))
    }

    async fn page(
        &self,
        session: &Session,
        form: &Form,
        next: Option<String>,
        status: StatusCode,
    ) -> Result<Response> {
        #[cfg(feature = "passkeys")]
        let passkeys = match pending::current(session).await? {
            Some(pending) => {
                let shared = &session.request.shared;
                passkeys::offered_at_second_step(shared, pending.user).await?
            }
            None => false,
        };
        #[cfg(not(feature = "passkeys"))]
        let passkeys = false;
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
