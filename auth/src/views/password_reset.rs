//! `PasswordResetView` and `PasswordResetDoneView`: asking for a reset
//! link by email (Django's `PasswordResetView` and `PasswordResetForm`;
//! their options are in `table.rs`).
//!
//! The answer to a valid request is always the redirect to the done page,
//! at once: looking up the address, throttling, rendering and sending
//! happen after the response, in a bounded number of background tasks, so
//! neither the page nor its timing tells whether an account exists.

use std::sync::Arc;

use axum::{body::Body, response::Response};
use http::{Method, Request};

use super::{PasswordResetDoneView, PasswordResetView, View, form_page, redirect, render};
use crate::{
    apps::Shared,
    events::{Event, EventKind},
    forms::password_reset::PasswordResetForm,
    http::{body::FormData, host},
    kernel::error::Result,
    login::Session,
    login::request::RequestAuth,
    mail::EmailMessage,
    templates::user_value,
    throttle::{reset_mail_counters, reset_request_counters},
    tokens::encode_uid,
    user::erased::LoadedUser,
};

impl PasswordResetView {
    async fn handle(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        if req.method() != Method::POST {
            return self.page(session, &PasswordResetForm::blank()).await;
        }
        let data = match FormData::read(req, &session.request.shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let reset = PasswordResetForm::bound(&data);
        if !reset.form.is_valid() {
            return self.page(session, &reset.form).await;
        }
        self.send_in_background(&session.request, reset.email);
        Ok(redirect(&self.success_url))
    }

    async fn page(&self, session: &Session, form: &crate::forms::Form) -> Result<Response> {
        let extra = minijinja::context! {};
        form_page(session, &self.template_name, form, "Password reset", extra).await
    }

    /// Hands the work to a background task, when a slot is free.
    fn send_in_background(&self, request: &RequestAuth, email: String) {
        let shared = request.shared.clone();
        let Some(origin) = link_origin(request) else {
            tracing::error!(
                host = request.origin.host.as_deref().unwrap_or(""),
                "password reset not sent: the Host header is not guarded; set \
                 AUTH_ALLOWED_HOSTS to the site's host names, or AUTH_SITE_URL"
            );
            return;
        };
        let Some(slot) = shared.mail.slot() else {
            tracing::warn!("password reset not sent: too many messages in preparation");
            return;
        };
        let job = Job {
            view: self.clone(),
            email,
            client: request.origin.client_ip,
            origin,
            event: request.event(EventKind::PasswordResetRequested),
        };
        tokio::spawn(async move {
            if let Err(err) = job.run(&shared).await {
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
    /// The event each message sent reports, without its user.
    event: Event,
}

impl Job {
    async fn run(self, shared: &Arc<Shared>) -> Result<()> {
        let settings = &shared.settings;
        if let Some(client) = self.client {
            // Each request from an address counts, whatever it matches.
            let counters = reset_request_counters(settings, client);
            if shared.throttle.count(&counters).await?.is_err() {
                tracing::warn!(client = %client, "password reset requests throttled for this client");
                return Ok(());
            }
        }
        let users = shared.users.find_for_password_reset(&self.email).await?;
        for user in users {
            let counters = reset_mail_counters(settings, user.base().id, self.client);
            if shared.throttle.count(&counters).await?.is_err() {
                tracing::warn!(
                    user_id = user.base().id,
                    "password reset messages throttled for this user"
                );
                continue;
            }
            let message = self.message(shared, &user)?;
            shared.mail.send(&message).await?;
            tracing::info!(user_id = user.base().id, "password reset message sent");
            let base = user.base();
            shared
                .events
                .emit(self.event.clone().user(base.id, &base.username));
        }
        Ok(())
    }

    fn message(&self, shared: &Shared, user: &LoadedUser) -> Result<EmailMessage> {
        let base = user.base();
        let uid = encode_uid(base.id);
        let token = shared.reset_tokens.make_token(base, shared.clock.now());
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
        let subject = shared
            .templates
            .render(&self.view.subject_template_name, context.clone())?;
        // Django: "Email subject *must not* contain newlines".
        let subject = subject.lines().collect::<Vec<_>>().join("");
        let body = shared
            .templates
            .render(&self.view.email_template_name, context)?;
        Ok(EmailMessage {
            subject: subject.trim().to_owned(),
            body: body.trim_start_matches('\n').to_owned(),
            from_email: self
                .view
                .from_email
                .as_deref()
                .unwrap_or(&shared.settings.default_from_email)
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
    let settings = &request.shared.settings;
    if let Some(site) = &settings.site_url {
        return site_origin(site);
    }
    let protocol = if request.secure() { "https" } else { "http" };
    let guarded =
        !settings.allowed_hosts.is_empty() && !settings.allowed_hosts.iter().any(|h| h == "*");
    let own = || {
        request
            .origin
            .host
            .clone()
            .map(|domain| Origin { protocol, domain })
    };
    if guarded {
        return own();
    }
    let host = request.origin.host.as_deref()?;
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

impl View for PasswordResetView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.handle(&session, req).await
    }
}

impl View for PasswordResetDoneView {
    async fn run(&self, session: Session, _req: Request<Body>) -> Result<Response> {
        render(
            &session,
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
