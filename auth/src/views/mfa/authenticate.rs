//! `MfaAuthenticateView`: the second step of a two-factor login (its
//! options are in `table.rs`).
//!
//! Each answer (a code, a passkey) counts against the second factor's own
//! limits (`AUTH_MFA_FAILURE_LIMIT` per window, per day), which the
//! password step does not reset; three wrong answers end the pending
//! login (the password again); reaching the limit mails the user.

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{
    PASSKEY_OPTIONS, end_challenge, new_challenge, options_response, take_challenge, with_next,
};
use crate::{
    Error, LoginStage, Result, Session,
    events::{
        EventKind,
        notify::{self, MfaNotice},
    },
    forms::{
        Form,
        mfa_code::{CodeForm, INVALID_CODE},
    },
    http::body::FormData,
    mfa::{self, challenge, challenge::Purpose, pending, webauthn},
    throttle::{Verdict, second_step_counters},
    user::erased::LoadedUser,
    views::{
        MfaAuthenticateView, NEXT, View, form_page_with_status, query_param, redirect, safe_next,
    },
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
        let challenge_cookie = challenge::cookie_in(req.headers());
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let next = safe_next(session, Some(&data), query_next);
        if data.get("action") == Some(PASSKEY_OPTIONS) {
            let rp = mfa::relying_party(shared)?;
            let (challenge, cookie) =
                new_challenge(session, Purpose::SecondStep, Some(pending.user));
            let allow: Vec<Vec<u8>> = mfa::passkeys(shared, pending.user)
                .await?
                .into_iter()
                .map(|p| p.credential_id)
                .collect();
            let options = webauthn::request_options(&rp, &challenge, &allow, "preferred");
            return Ok(options_response(options, cookie));
        }
        let passkey = data.get("credential").filter(|c| !c.is_empty());
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
                Some(posted) => {
                    self.check_passkey(session, challenge_cookie.as_deref(), id, posted)
                        .await
                }
                None => mfa::verify(shared, id, &submitted.code).await,
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
                let event = request.event(EventKind::LoginLockedOut).user(id, &username);
                if refused.first {
                    notify::mfa(shared, id, MfaNotice::Failing, "", &event);
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
            let event = request.event(EventKind::MfaFailed).user(id, &username);
            if !pending::failed(session, pending).await? {
                // Someone who has the password keeps failing the second
                // factor: the password again, and the owner told.
                notify::mfa(shared, id, MfaNotice::Failing, "", &event);
                shared.events.emit(event);
                let login = with_next(shared.login_url(), next.as_deref());
                let page = self.ended(session, &login).await?;
                return Ok(self.answered(session, passkey.is_some(), page));
            }
            shared.events.emit(event);
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
        if passkey {
            end_challenge(session, response)
        } else {
            response
        }
    }

    /// A passkey posted at the second step: `Passkey` when it verifies
    /// against the challenge issued for this user's second step.
    async fn check_passkey(
        &self,
        session: &Session,
        cookie: Option<&str>,
        user_id: i64,
        posted: &str,
    ) -> Result<Option<mfa::Passed>> {
        let Ok(assertion) = webauthn::parse_assertion(posted) else {
            return Ok(None);
        };
        let Some(challenge) =
            take_challenge(session, cookie, Purpose::SecondStep, Some(user_id)).await?
        else {
            return Ok(None);
        };
        let shared = &session.request.shared;
        let passed = mfa::verify_passkey(shared, user_id, &assertion, &challenge, false).await?;
        Ok(passed.then_some(mfa::Passed::Passkey))
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
