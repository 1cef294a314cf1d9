//! `PasswordResetConfirmView` and `PasswordResetCompleteView`: following
//! the link from the message and choosing a new password (Django's views
//! and `SetPasswordForm`).
//!
//! As in Django, a valid `/reset/<uidb64>/<token>/` stores the token in the
//! session and redirects to `/reset/<uidb64>/set-password/`, so the token
//! is not in the address of the page that loads (and cannot leak through
//! `Referer`); stricter than Django, the session gets a new id as the token
//! moves in, so a session id planted in the browser beforehand leads
//! nowhere. A used, expired, tampered or foreign token, or an unknown
//! uid, gets the "invalid link" page.

use std::{borrow::Cow, sync::Arc};

use axum::{
    body::Body,
    extract::{FromRequestParts, RawPathParams},
    response::Response,
    routing::MethodRouter,
};
use http::{Method, Request};

use super::{
    FormData, View,
    form::{FormField, REQUIRED, form_value},
    redirect, render, route,
};
use crate::{
    Result,
    password::validation::{password_validators_help_texts, validate_password},
    session::request::RequestAuth,
    tokens::decode_uid,
    user::LoadedUser,
    views::PASSWORD_MISMATCH,
};

/// Where the token waits between the link and the form (Django's
/// `INTERNAL_RESET_SESSION_TOKEN`).
const RESET_SESSION_TOKEN: &str = "_password_reset_token";

/// What stands for the token in the form's address (Django's
/// `reset_url_token`).
const RESET_URL_TOKEN: &str = "set-password";

/// The page for a bad link.
const INVALID_TITLE: &str = "Password reset unsuccessful";

/// Sets a new password from a reset link. Mount it on a path with
/// `<uidb64>` and `<token>` segments (`auth_urls!` turns them into route
/// parameters): `/reset/<uidb64>/<token>/`.
#[derive(Clone, Debug)]
pub struct PasswordResetConfirmView {
    template_name: Cow<'static, str>,
    success_url: Cow<'static, str>,
    post_reset_login: bool,
}

impl Default for PasswordResetConfirmView {
    fn default() -> Self {
        PasswordResetConfirmView {
            template_name: Cow::Borrowed("registration/password_reset_confirm.html"),
            success_url: Cow::Borrowed("/reset/done/"),
            post_reset_login: false,
        }
    }
}

impl PasswordResetConfirmView {
    /// With Django's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The template (`validlink`, `form`, `title`).
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// Where a successful reset goes.
    pub fn success_url(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.success_url = url.into();
        self
    }

    /// Log the user in after a successful reset.
    pub fn post_reset_login(mut self, login: bool) -> Self {
        self.post_reset_login = login;
        self
    }

    /// The route: GET and POST; anything else is 405.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }

    async fn handle(&self, request: &Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
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
            return self.invalid(request).await;
        };
        let Some(user) = self.user(request, &uidb64).await? else {
            return self.invalid(request).await;
        };
        let core = &request.core;
        let now = core.clock.now();
        if token != RESET_URL_TOKEN {
            if !core.reset_tokens.check_token(user.base(), &token, now) {
                return self.invalid(request).await;
            }
            // A new session id: a planted one (cookie tossing) must not
            // lead its owner to this user's form.
            if request.session.id().is_some() {
                request.session.cycle_id().await?;
            }
            request
                .session
                .insert(RESET_SESSION_TOKEN, token.clone())
                .await?;
            let path = parts.uri.path();
            let form_path = match path.rsplit_once(&format!("/{token}")) {
                Some((before, after)) => format!("{before}/{RESET_URL_TOKEN}{after}"),
                None => return self.invalid(request).await,
            };
            return Ok(redirect(&form_path));
        }
        let session_token = match request.session.get_value(RESET_SESSION_TOKEN).await? {
            Some(serde_json::Value::String(token)) => token,
            _ => return self.invalid(request).await,
        };
        if !core
            .reset_tokens
            .check_token(user.base(), &session_token, now)
        {
            return self.invalid(request).await;
        }
        let help = password_validators_help_texts(&core.validators);
        if parts.method != Method::POST {
            return self.form_page(request, fields(help)).await;
        }
        let form = match FormData::read(Request::from_parts(parts, body), &core.settings).await {
            Ok(form) => form,
            Err(response) => return Ok(response),
        };
        let new1 = form.get("new_password1").unwrap_or("");
        let new2 = form.get("new_password2").unwrap_or("");
        let mut fields = fields(help);
        for (field, value) in fields.iter_mut().zip([new1, new2]) {
            if value.is_empty() {
                field.errors.push(REQUIRED.into());
            }
        }
        if !new1.is_empty() && !new2.is_empty() {
            if new1 != new2 {
                fields[1].errors.push(PASSWORD_MISMATCH.into());
            } else if let Err(errors) = validate_password(new2, Some(user.base()), &core.validators)
            {
                fields[1]
                    .errors
                    .extend(errors.into_iter().map(|e| e.to_string()));
            }
        }
        if fields.iter().any(|f| !f.errors.is_empty()) {
            return self.form_page(request, fields).await;
        }
        let id = user.base().id;
        // A new hash: the token (and every session made with the old
        // password) stops working.
        core.set_password(id, new2).await?;
        request.session.remove_value(RESET_SESSION_TOKEN).await?;
        if self.post_reset_login
            && let Some(changed) = core
                .with_timeout(core.model.find_by_id(&core.db, id))
                .await?
        {
            let backend = core.model.first_backend();
            crate::session::login_loaded(request, changed, backend).await?;
        }
        Ok(redirect(&self.success_url))
    }

    /// The user a `uidb64` names, read from the database (not a cache: the
    /// token must be checked against the current password and login).
    async fn user(&self, request: &RequestAuth, uidb64: &str) -> Result<Option<LoadedUser>> {
        let Some(id) = decode_uid(uidb64) else {
            return Ok(None);
        };
        let core = &request.core;
        core.with_timeout(core.model.find_by_id(&core.db, id)).await
    }

    async fn invalid(&self, request: &Arc<RequestAuth>) -> Result<Response> {
        let context = minijinja::context! {
            validlink => false,
            title => INVALID_TITLE,
        };
        render(request, &self.template_name, context).await
    }

    async fn form_page(
        &self,
        request: &Arc<RequestAuth>,
        fields: Vec<FormField>,
    ) -> Result<Response> {
        let context = minijinja::context! {
            validlink => true,
            form => form_value(&fields, &[]),
            title => "Enter new password",
        };
        render(request, &self.template_name, context).await
    }
}

fn fields(help: Vec<String>) -> Vec<FormField> {
    let mut new1 = FormField::new("new_password1", "New password", "password")
        .attr("autocomplete", "new-password")
        .attr("autofocus", "");
    new1.help_texts = help;
    let new2 = FormField::new("new_password2", "New password confirmation", "password")
        .attr("autocomplete", "new-password");
    vec![new1, new2]
}

/// The "your password is set" page.
#[derive(Clone, Debug)]
pub struct PasswordResetCompleteView {
    template_name: Cow<'static, str>,
}

impl Default for PasswordResetCompleteView {
    fn default() -> Self {
        PasswordResetCompleteView {
            template_name: Cow::Borrowed("registration/password_reset_complete.html"),
        }
    }
}

impl PasswordResetCompleteView {
    /// With Django's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The template (`login_url`, `title`).
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// The route: GET only.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }
}

impl View for PasswordResetConfirmView {
    const METHODS: &'static [Method] = &[Method::GET, Method::HEAD, Method::POST];

    async fn run(&self, request: Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        self.handle(&request, req).await
    }
}

impl View for PasswordResetCompleteView {
    const METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn run(&self, request: Arc<RequestAuth>, _req: Request<Body>) -> Result<Response> {
        let login_url = request.core.settings.login_url().to_owned();
        render(
            &request,
            &self.template_name,
            minijinja::context! { title => "Password reset complete", login_url },
        )
        .await
    }
}
