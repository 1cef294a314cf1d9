//! `LoginView`: Django's `LoginView` (its options are in `table.rs`).

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{
    LoginView, NEXT, SESSION_EXPIRED, View, form_page_with_status, query_param, redirect, safe_next,
};
use crate::{
    apps::MethodAnswer,
    forms::{
        Form,
        login::{INVALID_LOGIN, LoginForm},
    },
    http::body::FormData,
    kernel::error::{Error, Result},
    login::{LoginStage, Session},
    settings::RememberMe,
};

impl LoginView {
    fn success_url(&self, session: &Session, next: Option<String>) -> String {
        next.or_else(|| self.next_page.as_ref().map(|p| p.to_string()))
            .unwrap_or_else(|| {
                session
                    .request
                    .shared
                    .settings
                    .login_redirect_url()
                    .to_owned()
            })
    }

    async fn get(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let next = safe_next(session, None, query_param(&req, NEXT));
        if self.redirect_authenticated_user && session.request.user().await?.is_some() {
            let target = self.success_url(session, next.clone());
            if target == req.uri().path() {
                return Err(Error::Config(
                    "redirection loop for an authenticated user: login_redirect_url points to the login page".into(),
                ));
            }
            return Ok(redirect(&target));
        }
        let form = LoginForm::blank(asks_remember(session));
        self.page(session, &form, next, StatusCode::OK).await
    }

    async fn post(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let query_next = query_param(&req, NEXT);
        let shared = &session.request.shared;
        let headers = match shared.login_methods().next().is_none() {
            true => http::HeaderMap::new(),
            false => req.headers().clone(),
        };
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let next = safe_next(session, Some(&data), query_next);
        for method in shared.login_methods() {
            let answer = match method.answer(session, &headers, &data).await {
                Ok(None) => continue,
                // A step of the method's own (a ceremony's options): as is.
                Ok(Some(MethodAnswer::Respond(response))) => return Ok(response),
                Ok(Some(MethodAnswer::User(user))) => {
                    let login = LoginForm::bound(&data, asks_remember(session));
                    let response = self.log_in(session, login, &user, next.clone()).await?;
                    if response.status().is_redirection() {
                        method.logged_in(session).await?;
                    }
                    response
                }
                Ok(Some(MethodAnswer::Refused(message))) => {
                    let mut form = LoginForm::blank(asks_remember(session));
                    form.add_non_field_error(message);
                    self.page(session, &form, next.clone(), StatusCode::OK)
                        .await?
                }
                Err(Error::Throttled) => {
                    let mut form = LoginForm::blank(asks_remember(session));
                    form.add_non_field_error(Error::Throttled.to_string());
                    let status = StatusCode::TOO_MANY_REQUESTS;
                    self.page(session, &form, next.clone(), status).await?
                }
                Err(err) => return Err(err),
            };
            return Ok(method.finish(session, answer));
        }
        let mut login = LoginForm::bound(&data, asks_remember(session));
        if !login.form.is_valid() {
            return self.page(session, &login.form, next, StatusCode::OK).await;
        }
        session.set_remember(login.remember);
        let operations = &session.request.shared.operations;
        match operations
            .authenticate(session, &login.username, &login.password)
            .await
        {
            Ok(Some(user)) => self.log_in(session, login, &user, next).await,
            Ok(None) => {
                login.form.add_non_field_error(INVALID_LOGIN);
                self.page(session, &login.form, next, StatusCode::OK).await
            }
            Err(Error::Throttled) => {
                login.form.add_non_field_error(Error::Throttled.to_string());
                self.page(session, &login.form, next, StatusCode::TOO_MANY_REQUESTS)
                    .await
            }
            Err(err) => Err(err),
        }
    }

    /// The login of `user`, whose credentials `login` carried, through
    /// its stages: logged in, or sent to the second step.
    async fn log_in(
        &self,
        session: &Session,
        mut login: LoginForm,
        user: &crate::user::erased::LoadedUser,
        next: Option<String>,
    ) -> Result<Response> {
        let operations = &session.request.shared.operations;
        match operations.stage_login(session, user, next.as_deref()).await {
            Ok(LoginStage::LoggedIn) => Ok(redirect(&self.success_url(session, next))),
            Ok(LoginStage::Pending { url }) => Ok(redirect(&url)),
            Err(Error::TooManySessions) => {
                login
                    .form
                    .add_non_field_error(Error::TooManySessions.to_string());
                self.page(session, &login.form, next, StatusCode::FORBIDDEN)
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
        let shared = &session.request.shared;
        let urls = &shared.urls;
        let expired = session.request.take_expired_notice().await?;
        let notice = session.request.take_login_notice().await?;
        let methods: std::collections::BTreeMap<String, bool> = shared
            .login_methods()
            .map(|method| method.offered(shared))
            .map(|(name, offered)| (name.to_owned(), offered))
            .collect();
        let extra = minijinja::context! {
            next => next.unwrap_or_default(),
            password_reset_url => urls.path_of_view("PasswordResetView"),
            session_expired => expired.then(|| SESSION_EXPIRED.to_owned()).or(notice),
            ..minijinja::Value::from(methods)
        };
        form_page_with_status(
            session,
            &self.template_name,
            form,
            ("Log in", extra),
            status,
        )
        .await
    }
}

/// Whether the login form has a "Remember me" box.
fn asks_remember(session: &Session) -> bool {
    session.request.shared.settings.session_remember == RememberMe::Ask
}

impl View for LoginView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            self.get(&session, req).await
        } else {
            self.post(&session, req).await
        }
    }
}
