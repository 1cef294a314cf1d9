//! `ReauthenticateView`: the password again before a sensitive action
//! (its options are in `table.rs`).

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{
    NEXT, ReauthenticateView, View, form_page_with_status, password_change::check_current_password,
    query_param, redirect, require_login, safe_next,
};
use crate::{
    forms::{
        Form,
        reauthenticate::{REAUTH_INCORRECT, ReauthenticateForm},
    },
    http::body::FormData,
    kernel::error::{Error, Result},
    login::Session,
};

impl ReauthenticateView {
    async fn reauthenticate(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let user = match require_login(session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        let query_next = query_param(&req, NEXT);
        if req.method() != Method::POST {
            let next = safe_next(session, None, query_next);
            let form = ReauthenticateForm::blank();
            return self.page(session, &form, next, StatusCode::OK).await;
        }
        let request = &session.request;
        let data = match FormData::read(req, &request.shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let next = safe_next(session, Some(&data), query_next);
        let mut reauth = ReauthenticateForm::bound(&data);
        if !reauth.form.is_valid() {
            return self.page(session, &reauth.form, next, StatusCode::OK).await;
        }
        match check_current_password(session, &user, &reauth.password).await {
            Ok(true) => {
                request.reauthenticated().await?;
                let target =
                    next.unwrap_or_else(|| request.shared.settings.login_redirect_url().to_owned());
                Ok(redirect(&target))
            }
            Ok(false) => {
                reauth.form.add_error("password", REAUTH_INCORRECT);
                self.page(session, &reauth.form, next, StatusCode::OK).await
            }
            Err(Error::Throttled) => {
                reauth
                    .form
                    .add_error("password", Error::Throttled.to_string());
                self.page(session, &reauth.form, next, StatusCode::TOO_MANY_REQUESTS)
                    .await
            }
            Err(err) => Err(err),
        }
    }

    async fn page(
        &self,
        session: &Session,
        form: &Form,
        next: Option<String>,
        status: StatusCode,
    ) -> Result<Response> {
        let extra = minijinja::context! { next => next.unwrap_or_default() };
        let title = "Confirm it's you";
        form_page_with_status(session, &self.template_name, form, (title, extra), status).await
    }
}

impl View for ReauthenticateView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.reauthenticate(&session, req).await
    }
}
