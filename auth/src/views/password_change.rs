//! `PasswordChangeView` and `PasswordChangeDoneView`.

use std::{borrow::Cow, sync::Arc};

use axum::{body::Body, response::Response, routing::MethodRouter};
use http::{Method, Request, StatusCode};

use super::{
    FormData, View,
    form::{FormField, REQUIRED, form_value},
    redirect, render, route,
};
use crate::{
    Error, Result,
    password::validation::{password_validators_help_texts, validate_password},
    session::request::RequestAuth,
    throttle::login_counters,
    user::LoadedUser,
};

/// Wrong current password.
pub const PASSWORD_INCORRECT: &str =
    "Your old password was entered incorrectly. Please enter it again.";
/// The two new passwords differ (with Django's curly apostrophe).
pub const PASSWORD_MISMATCH: &str = "The two password fields didn’t match.";

/// The logged-in user, or the login redirect for anonymous requests.
async fn require_login(
    request: &RequestAuth,
    login_url: Option<&str>,
) -> Result<std::result::Result<LoadedUser, Response>> {
    Ok(match request.user().await? {
        Some(user) => Ok(user),
        None => Err(request.login_redirect(login_url, Some(crate::REDIRECT_FIELD_NAME))),
    })
}

/// Checks the form's old password against `user`'s, counted by the login
/// throttle (username and client address, username, address) as a login
/// attempt is. Checked without upgrading an outdated hash: a failed form
/// must not change the stored hash (and with it this session's auth hash);
/// a successful one replaces it anyway.
async fn check_old_password(request: &RequestAuth, user: &LoadedUser, old: &str) -> Result<bool> {
    let core = &request.core;
    let base = user.base();
    let counters = login_counters(&core.settings, &base.username, request.client_ip);
    let reservation = core.throttle.reserve(&counters).await?;
    match core.hasher.check_async(old, &base.password).await {
        Ok(check) if check.is_match() => {
            core.throttle.succeeded(reservation).await?;
            Ok(true)
        }
        Ok(_) => {
            core.throttle.failed(reservation);
            Ok(false)
        }
        Err(err) => {
            core.throttle.did_not_happen(reservation).await?;
            Err(err)
        }
    }
}

/// Lets a logged-in user change their password: `old_password`,
/// `new_password1`, `new_password2`, checked with Django's messages and the
/// password validators. On success this session stays logged in (with a
/// new id), every other session of the user ends, and the response
/// redirects (303) to `success_url`.
#[derive(Clone, Debug)]
pub struct PasswordChangeView {
    template_name: Cow<'static, str>,
    success_url: Cow<'static, str>,
    login_url: Option<Cow<'static, str>>,
}

impl Default for PasswordChangeView {
    fn default() -> Self {
        PasswordChangeView {
            template_name: Cow::Borrowed("registration/password_change_form.html"),
            success_url: Cow::Borrowed("/password_change/done/"),
            login_url: None,
        }
    }
}

impl PasswordChangeView {
    /// With Django's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The form template.
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// Where to go after a successful change.
    pub fn success_url(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.success_url = url.into();
        self
    }

    /// Where anonymous users are sent (default `settings.login_url`).
    pub fn login_url(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// The route: GET and POST; anything else is 405.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }

    async fn change(&self, request: &Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        let user = match require_login(request, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        let help = password_validators_help_texts(&request.core.validators);
        if req.method() != Method::POST {
            return self.form_page(request, fields(help)).await;
        }
        let form = match FormData::read(req, &request.core.settings).await {
            Ok(form) => form,
            Err(response) => return Ok(response),
        };
        let old = form.get("old_password").unwrap_or("");
        let new1 = form.get("new_password1").unwrap_or("");
        let new2 = form.get("new_password2").unwrap_or("");
        let mut fields = fields(help);
        for (field, value) in fields.iter_mut().zip([old, new1, new2]) {
            if value.is_empty() {
                field.errors.push(REQUIRED.into());
            }
        }
        let core = &request.core;
        if !old.is_empty() {
            match check_old_password(request, &user, old).await {
                Ok(true) => {}
                Ok(false) => fields[0].errors.push(PASSWORD_INCORRECT.into()),
                Err(Error::Throttled) => {
                    // A hijacked session must not be an unthrottled oracle
                    // for the password: the login's limits apply.
                    fields[0].errors.push(Error::Throttled.to_string());
                    let mut page = self.form_page(request, fields).await?;
                    *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                    return Ok(page);
                }
                Err(err) => return Err(err),
            }
        }
        if !new1.is_empty() && !new2.is_empty() {
            if new1 != new2 {
                fields[2].errors.push(PASSWORD_MISMATCH.into());
            } else if let Err(errors) = validate_password(new2, Some(user.base()), &core.validators)
            {
                fields[2]
                    .errors
                    .extend(errors.into_iter().map(|e| e.to_string()));
            }
        }
        if fields.iter().any(|f| !f.errors.is_empty()) {
            return self.form_page(request, fields).await;
        }
        let id = user.base().id;
        core.set_password(id, new2).await?;
        match core.find_user(id).await? {
            Some(changed) => {
                crate::session::update_session_auth_hash_loaded(request, changed).await?
            }
            // Deleted meanwhile: nothing to stay logged in as.
            None => crate::session::logout_request(request).await?,
        }
        Ok(redirect(&self.success_url))
    }

    async fn form_page(
        &self,
        request: &Arc<RequestAuth>,
        fields: Vec<FormField>,
    ) -> Result<Response> {
        let context = minijinja::context! {
            form => form_value(&fields, &[]),
            title => "Password change",
        };
        render(request, &self.template_name, context).await
    }
}

fn fields(help: Vec<String>) -> Vec<FormField> {
    let old = FormField::new("old_password", "Old password", "password")
        .attr("autocomplete", "current-password")
        .attr("autofocus", "");
    let mut new1 = FormField::new("new_password1", "New password", "password")
        .attr("autocomplete", "new-password");
    new1.help_texts = help;
    let new2 = FormField::new("new_password2", "New password confirmation", "password")
        .attr("autocomplete", "new-password");
    vec![old, new1, new2]
}

/// The "password changed" page, for logged-in users.
#[derive(Clone, Debug)]
pub struct PasswordChangeDoneView {
    template_name: Cow<'static, str>,
    login_url: Option<Cow<'static, str>>,
}

impl Default for PasswordChangeDoneView {
    fn default() -> Self {
        PasswordChangeDoneView {
            template_name: Cow::Borrowed("registration/password_change_done.html"),
            login_url: None,
        }
    }
}

impl PasswordChangeDoneView {
    /// With Django's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The template.
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// Where anonymous users are sent (default `settings.login_url`).
    pub fn login_url(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// The route: GET only.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }

    async fn page(&self, request: &Arc<RequestAuth>) -> Result<Response> {
        if let Err(redirect) = require_login(request, self.login_url.as_deref()).await? {
            return Ok(redirect);
        }
        render(
            request,
            &self.template_name,
            minijinja::context! { title => "Password change successful" },
        )
        .await
    }
}

impl View for PasswordChangeView {
    const METHODS: &'static [Method] = &[Method::GET, Method::HEAD, Method::POST];

    async fn run(&self, request: Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        self.change(&request, req).await
    }
}

impl View for PasswordChangeDoneView {
    const METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn run(&self, request: Arc<RequestAuth>, _req: Request<Body>) -> Result<Response> {
        self.page(&request).await
    }
}
