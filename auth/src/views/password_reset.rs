//! `PasswordResetView` and `PasswordResetDoneView`: asking for a reset
//! link by email (Django's `PasswordResetView` and `PasswordResetForm`).
//!
//! The answer to a valid request is always the redirect to the done page,
//! at once: looking up the address, throttling, rendering and sending
//! happen after the response, in a bounded number of background tasks, so
//! neither the page nor its timing tells whether an account exists.

use std::{borrow::Cow, sync::Arc};

use axum::{body::Body, response::Response, routing::MethodRouter};
use http::{Method, Request};

use super::{
    FormData, View,
    form::{FormField, REQUIRED, form_value},
    redirect, render, route,
};
use crate::{
    Error, Result,
    app::Core,
    http::host,
    mail::EmailMessage,
    session::request::RequestAuth,
    templates::user_value,
    throttle::{reset_mail_counters, reset_request_counters},
    tokens::encode_uid,
    user::LoadedUser,
};

/// Django's `EmailField` message.
pub const INVALID_EMAIL: &str = "Enter a valid email address.";

/// The longest address accepted (RFC 5321's path limit, Django's
/// `EmailField` maximum).
const EMAIL_MAX_LENGTH: usize = 254;

/// Asks for a password-reset link: a form with `email`; a valid POST
/// redirects (303) to `success_url` whatever the address, and a message
/// goes to every active user with that address and a usable password.
#[derive(Clone, Debug)]
pub struct PasswordResetView {
    template_name: Cow<'static, str>,
    email_template_name: Cow<'static, str>,
    subject_template_name: Cow<'static, str>,
    success_url: Cow<'static, str>,
    from_email: Option<Cow<'static, str>>,
    confirm_url: Cow<'static, str>,
}

impl Default for PasswordResetView {
    fn default() -> Self {
        PasswordResetView {
            template_name: Cow::Borrowed("registration/password_reset_form.html"),
            email_template_name: Cow::Borrowed("registration/password_reset_email.html"),
            subject_template_name: Cow::Borrowed("registration/password_reset_subject.txt"),
            success_url: Cow::Borrowed("/password_reset/done/"),
            from_email: None,
            confirm_url: Cow::Borrowed("/reset/<uidb64>/<token>/"),
        }
    }
}

impl PasswordResetView {
    /// With Django's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The form template.
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// The message body's template (`protocol`, `domain`, `site_name`,
    /// `uid`, `token`, `reset_path`, `user`, `email`).
    pub fn email_template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.email_template_name = name.into();
        self
    }

    /// The subject's template (its lines are joined into one).
    pub fn subject_template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.subject_template_name = name.into();
        self
    }

    /// Where a valid request goes.
    pub fn success_url(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.success_url = url.into();
        self
    }

    /// The sender (default `settings.default_from_email`).
    pub fn from_email(mut self, from: impl Into<Cow<'static, str>>) -> Self {
        self.from_email = Some(from.into());
        self
    }

    /// The route of [`PasswordResetConfirmView`](super::PasswordResetConfirmView),
    /// with `<uidb64>` and `<token>` segments (`auth_urls!` fills it in).
    pub fn confirm_url(mut self, pattern: impl Into<Cow<'static, str>>) -> Self {
        self.confirm_url = pattern.into();
        self
    }

    /// The route: GET and POST; anything else is 405.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }

    async fn handle(&self, request: &Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        if req.method() != Method::POST {
            return self.form_page(request, email_field()).await;
        }
        let form = match FormData::read(req, &request.core.settings).await {
            Ok(form) => form,
            Err(response) => return Ok(response),
        };
        let email = form.get("email").unwrap_or("").trim().to_owned();
        let mut field = email_field();
        field.value = email.clone();
        if email.is_empty() {
            field.errors.push(REQUIRED.into());
        } else if !is_email(&email) {
            field.errors.push(INVALID_EMAIL.into());
        }
        if !field.errors.is_empty() {
            return self.form_page(request, field).await;
        }
        self.send_in_background(request, email);
        Ok(redirect(&self.success_url))
    }

    async fn form_page(&self, request: &Arc<RequestAuth>, field: FormField) -> Result<Response> {
        let context = minijinja::context! {
            form => form_value(&[field], &[]),
            title => "Password reset",
        };
        render(request, &self.template_name, context).await
    }

    /// Hands the work to a background task, when a slot is free.
    fn send_in_background(&self, request: &RequestAuth, email: String) {
        let core = request.core.clone();
        let Some(origin) = link_origin(request) else {
            tracing::error!(
                host = request.host.as_deref().unwrap_or(""),
                "password reset not sent: the Host header is not guarded; set \
                 AUTH_ALLOWED_HOSTS to the site's host names, or AUTH_SITE_URL"
            );
            return;
        };
        let Ok(slot) = core.mail_slots.clone().try_acquire_owned() else {
            tracing::warn!("password reset not sent: too many messages in preparation");
            return;
        };
        let job = Job {
            view: self.clone(),
            email,
            client: request.client_ip,
            origin,
        };
        tokio::spawn(async move {
            if let Err(err) = job.run(&core).await {
                tracing::error!(error = %err, "password reset message not sent");
            }
            drop(slot);
        });
    }
}

/// One reset request being served after its response.
struct Job {
    view: PasswordResetView,
    email: String,
    client: Option<std::net::IpAddr>,
    origin: Origin,
}

impl Job {
    async fn run(self, core: &Arc<Core>) -> Result<()> {
        let settings = &core.settings;
        if let Some(client) = self.client {
            // Each request from an address counts, whatever it matches.
            match core
                .throttle
                .reserve(&reset_request_counters(settings, client))
                .await
            {
                Ok(counted) => core.throttle.failed(counted),
                Err(Error::Throttled) => {
                    tracing::warn!(client = %client, "password reset requests throttled for this client");
                    return Ok(());
                }
                Err(err) => return Err(err),
            }
        }
        let users = core
            .with_timeout(core.model.find_for_password_reset(&core.db, &self.email))
            .await?;
        for user in users {
            let counters = reset_mail_counters(settings, user.base().id, self.client);
            match core.throttle.reserve(&counters).await {
                Ok(counted) => core.throttle.failed(counted),
                Err(Error::Throttled) => {
                    tracing::warn!(
                        user_id = user.base().id,
                        "password reset messages throttled for this user"
                    );
                    continue;
                }
                Err(err) => return Err(err),
            }
            let message = self.message(core, &user)?;
            core.mailer.send(&message).await?;
            tracing::info!(user_id = user.base().id, "password reset message sent");
        }
        Ok(())
    }

    fn message(&self, core: &Core, user: &LoadedUser) -> Result<EmailMessage> {
        let base = user.base();
        let uid = encode_uid(base.id);
        let token = core.reset_tokens.make_token(base, core.clock.now());
        let reset_path = self
            .view
            .confirm_url
            .replace("<uidb64>", &uid)
            .replace("<token>", &token);
        let context = minijinja::context! {
            email => base.email.clone(),
            domain => self.origin.domain.clone(),
            site_name => self.origin.domain.clone(),
            protocol => self.origin.protocol,
            uid => uid,
            token => token,
            reset_path => reset_path,
            user => user_value(Some(user.clone())),
        };
        let subject = core
            .templates
            .render(&self.view.subject_template_name, context.clone())?;
        // Django: "Email subject *must not* contain newlines".
        let subject = subject.lines().collect::<Vec<_>>().join("");
        let body = core
            .templates
            .render(&self.view.email_template_name, context)?;
        Ok(EmailMessage {
            subject: subject.trim().to_owned(),
            body: body.trim_start_matches('\n').to_owned(),
            from_email: self
                .view
                .from_email
                .as_deref()
                .unwrap_or(&core.settings.default_from_email)
                .to_owned(),
            to: vec![base.email.clone()],
        })
    }
}

/// Where links in the message point: scheme and host.
#[derive(Clone, Debug)]
struct Origin {
    protocol: &'static str,
    domain: String,
}

/// `site_url` when set (the production setting: a `Host` header, even one
/// `allowed_hosts` lets through with a port of the sender's choice, never
/// shapes the link); else the request's own host when `allowed_hosts`
/// guards it; else the request's host only when it is `localhost` or a
/// loopback address (a poisoned `Host` could not point a link elsewhere);
/// else nothing: a link to an unchecked host would let anyone who asks a
/// reset for a victim receive the victim's token.
fn link_origin(request: &RequestAuth) -> Option<Origin> {
    let settings = &request.core.settings;
    if let Some(site) = &settings.site_url {
        return site_origin(site);
    }
    let protocol = if request.secure() { "https" } else { "http" };
    let guarded =
        !settings.allowed_hosts.is_empty() && !settings.allowed_hosts.iter().any(|h| h == "*");
    let own = || {
        request
            .host
            .clone()
            .map(|domain| Origin { protocol, domain })
    };
    if guarded {
        return own();
    }
    let host = request.host.as_deref()?;
    let (domain, _) = host::split_domain_port(host)?;
    is_loopback(domain).then(own).flatten()
}

/// `https://example.com[:port]` → its scheme and host.
fn site_origin(site: &str) -> Option<Origin> {
    let (protocol, rest) = if let Some(rest) = site.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = site.strip_prefix("http://") {
        ("http", rest)
    } else {
        tracing::error!(
            site_url = site,
            "AUTH_SITE_URL must start with https:// or http://"
        );
        return None;
    };
    let domain = rest.trim_end_matches('/');
    (!domain.is_empty() && !domain.contains(['/', '?', '#', '@', ' '])).then(|| Origin {
        protocol,
        domain: domain.to_owned(),
    })
}

fn is_loopback(domain: &str) -> bool {
    let domain = domain.to_ascii_lowercase();
    if domain == "localhost" || domain.ends_with(".localhost") {
        return true;
    }
    domain
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// A plausible address: one `@` with text on both sides, a dot-free
/// local part edge, a domain with a dot or `localhost`, no spaces or
/// control characters, at most 254 characters (Django's `EmailValidator`,
/// loosely: the message decides the rest).
fn is_email(value: &str) -> bool {
    if value.len() > EMAIL_MAX_LENGTH || value.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return false;
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains('@')
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !domain.is_empty()
        && (domain.contains('.') || domain == "localhost")
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
}

fn email_field() -> FormField {
    FormField::new("email", "Email", "email")
        .attr("autocomplete", "email")
        .attr("maxlength", EMAIL_MAX_LENGTH.to_string())
        .attr("autofocus", "")
}

/// The "check your email" page.
#[derive(Clone, Debug)]
pub struct PasswordResetDoneView {
    template_name: Cow<'static, str>,
}

impl Default for PasswordResetDoneView {
    fn default() -> Self {
        PasswordResetDoneView {
            template_name: Cow::Borrowed("registration/password_reset_done.html"),
        }
    }
}

impl PasswordResetDoneView {
    /// With Django's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The template.
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// The route: GET only.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }
}

impl View for PasswordResetView {
    const METHODS: &'static [Method] = &[Method::GET, Method::HEAD, Method::POST];

    async fn run(&self, request: Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        self.handle(&request, req).await
    }
}

impl View for PasswordResetDoneView {
    const METHODS: &'static [Method] = &[Method::GET, Method::HEAD];

    async fn run(&self, request: Arc<RequestAuth>, _req: Request<Body>) -> Result<Response> {
        render(
            &request,
            &self.template_name,
            minijinja::context! { title => "Password reset sent" },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_loosely_but_safely() {
        for good in [
            "a@example.com",
            "first.last+tag@sub.example.co",
            "x@localhost",
            "ü@bücher.de",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "@example.com",
            "a@",
            "a@b",
            "a @example.com",
            "a@exa mple.com",
            "a@example.com\n",
            ".a@example.com",
            "a.@example.com",
            "a@.example.com",
            "a@example..com",
            "a@example.com.",
            "a@@example.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_email(&format!("{}@example.com", "a".repeat(250))));
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "localhost",
            "LOCALHOST",
            "app.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "localhost.example.com",
            "10.0.0.1",
            "[::2]",
            "evil",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn site_urls_give_scheme_and_host() {
        let origin = site_origin("https://example.com/").unwrap();
        assert_eq!(
            (origin.protocol, origin.domain.as_str()),
            ("https", "example.com")
        );
        let origin = site_origin("http://127.0.0.1:8000").unwrap();
        assert_eq!(
            (origin.protocol, origin.domain.as_str()),
            ("http", "127.0.0.1:8000")
        );
        assert!(site_origin("example.com").is_none());
        assert!(site_origin("https://example.com/path").is_none());
        assert!(site_origin("https://user@example.com").is_none());
    }
}
