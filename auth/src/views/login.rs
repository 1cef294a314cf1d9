//! `LoginView`: Django's `LoginView`.

use std::{borrow::Cow, sync::Arc};

use axum::{body::Body, response::Response, routing::MethodRouter};
use http::{Method, Request, StatusCode};

use super::{
    FormData, NEXT, View,
    form::{FormField, REQUIRED, form_value},
    query_param, redirect, render, route, safe_next,
};
use crate::{Error, Result, session::request::RequestAuth, user::USERNAME_MAX_LENGTH};

/// The generic failure message: the same for an unknown user, a wrong
/// password and an inactive user, so accounts cannot be enumerated.
pub const INVALID_LOGIN: &str =
    "Please enter a correct username and password. Note that both fields may be case-sensitive.";

/// Shows the login form (GET) and logs the user in (POST).
///
/// A successful POST redirects (303) to the safe `next` (form first, then
/// query string), else `next_page`, else `settings.login_redirect_url`.
/// Invalid credentials re-render the form with 200 and [`INVALID_LOGIN`];
/// too many failures for the username or the client re-render it with 429
/// and "Too many failed login attempts. Try again later.", without
/// checking the password.
#[derive(Clone, Debug)]
pub struct LoginView {
    template_name: Cow<'static, str>,
    redirect_authenticated_user: bool,
    next_page: Option<Cow<'static, str>>,
}

impl Default for LoginView {
    fn default() -> Self {
        LoginView {
            template_name: Cow::Borrowed("registration/login.html"),
            redirect_authenticated_user: false,
            next_page: None,
        }
    }
}

impl LoginView {
    /// With Django's defaults (template `registration/login.html`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The template to render.
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// Send users who are already logged in straight to the success URL.
    pub fn redirect_authenticated_user(mut self, redirect: bool) -> Self {
        self.redirect_authenticated_user = redirect;
        self
    }

    /// Where to go after login when there is no safe `next`.
    pub fn next_page(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.next_page = Some(url.into());
        self
    }

    /// The route: GET and POST (PUT is treated as POST, as Django's
    /// `FormView` does); anything else is 405.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }

    fn success_url(&self, request: &RequestAuth, next: Option<String>) -> String {
        next.or_else(|| self.next_page.as_ref().map(|p| p.to_string()))
            .unwrap_or_else(|| request.core.settings.login_redirect_url().to_owned())
    }

    async fn get(&self, request: &Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        let next = safe_next(request, None, query_param(&req, NEXT));
        if self.redirect_authenticated_user && request.user().await?.is_some() {
            let target = self.success_url(request, next.clone());
            if target == req.uri().path() {
                return Err(Error::Config(
                    "redirection loop for an authenticated user: login_redirect_url points to the login page".into(),
                ));
            }
            return Ok(redirect(&target));
        }
        self.form_page(request, fields(""), Vec::new(), next).await
    }

    async fn post(&self, request: &Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        let query_next = query_param(&req, NEXT);
        let form = match FormData::read(req, &request.core.settings).await {
            Ok(form) => form,
            Err(response) => return Ok(response),
        };
        let next = safe_next(request, Some(&form), query_next);
        let username = crate::normalize_username(form.get("username").unwrap_or(""));
        let password = form.get("password").unwrap_or("");

        let mut fields = fields(&username);
        if username.is_empty() {
            fields[0].errors.push(REQUIRED.into());
        } else if username.chars().count() > USERNAME_MAX_LENGTH {
            fields[0].errors.push(format!(
                "Ensure this value has at most {USERNAME_MAX_LENGTH} characters (it has {}).",
                username.chars().count()
            ));
        }
        if password.is_empty() {
            fields[1].errors.push(REQUIRED.into());
        }
        if fields.iter().any(|f| !f.errors.is_empty()) {
            return self.form_page(request, fields, Vec::new(), next).await;
        }
        let core = &request.core;
        match core.model.authenticate(core, &username, password).await {
            Ok(Some((user, backend))) => {
                crate::session::login_loaded(request, user, backend).await?;
                Ok(redirect(&self.success_url(request, next)))
            }
            Ok(None) => {
                self.form_page(request, fields, vec![INVALID_LOGIN.to_owned()], next)
                    .await
            }
            Err(Error::Throttled) => {
                let mut page = self
                    .form_page(request, fields, vec![Error::Throttled.to_string()], next)
                    .await?;
                *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                Ok(page)
            }
            Err(err) => Err(err),
        }
    }

    async fn form_page(
        &self,
        request: &Arc<RequestAuth>,
        fields: Vec<FormField>,
        non_field_errors: Vec<String>,
        next: Option<String>,
    ) -> Result<Response> {
        let context = minijinja::context! {
            form => form_value(&fields, &non_field_errors),
            next => next.unwrap_or_default(),
            title => "Log in",
            password_reset_url => crate::views::urls::declared_view("PasswordResetView"),
        };
        let mut response = render(request, &self.template_name, context).await?;
        *response.status_mut() = StatusCode::OK;
        Ok(response)
    }
}

fn fields(username: &str) -> Vec<FormField> {
    let mut username_field = FormField::new("username", "Username", "text")
        .attr("autofocus", "")
        .attr("autocapitalize", "none")
        .attr("autocomplete", "username")
        .attr("maxlength", USERNAME_MAX_LENGTH.to_string());
    username_field.value = username.to_owned();
    let password_field =
        FormField::new("password", "Password", "password").attr("autocomplete", "current-password");
    vec![username_field, password_field]
}

impl View for LoginView {
    const METHODS: &'static [Method] = &[Method::GET, Method::HEAD, Method::POST, Method::PUT];

    async fn run(&self, request: Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            self.get(&request, req).await
        } else {
            self.post(&request, req).await
        }
    }
}
