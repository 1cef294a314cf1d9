//! `TotpActivateView` and `TotpDeactivateView`: TOTP on and off (their
//! options are in `table.rs`).

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{NEW_CODES_KEY, needs_reauth};
use crate::{
    Result, Session,
    events::EventKind,
    forms::{
        Form,
        mfa_code::{CodeForm, INVALID_CODE},
    },
    http::body::FormData,
    mfa::{self, qr, totp},
    views::{TotpActivateView, TotpDeactivateView, View, redirect, render, require_login},
};

/// The session key of the secret offered and not activated yet: a reload
/// shows the same one, so a code from an app that already scanned it
/// still works.
const OFFERED_KEY: &str = "_auth_mfa_totp_offered";

impl TotpActivateView {
    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let user = match require_login(session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        if let Some(answer) = super::needs_reauth(session, &req).await {
            return Ok(answer);
        }
        let request = &session.request;
        let shared = &request.shared;
        let (id, username) = (user.base().id, user.base().username.clone());
        let index = shared.urls.path_of_view("MfaIndexView");
        if mfa::totp_active(shared, id).await? {
            return Ok(redirect(index.unwrap_or("/")));
        }
        let secret = match request
            .session
            .get::<String>(OFFERED_KEY)
            .await?
            .and_then(|text| totp::from_base32(&text))
            .filter(|secret| secret.len() == totp::SECRET_BYTES)
        {
            Some(secret) => secret,
            None => {
                let secret = totp::new_secret();
                request
                    .session
                    .insert(OFFERED_KEY, totp::base32(&secret))
                    .await?;
                secret
            }
        };
        if req.method() != Method::POST {
            let form = CodeForm::blank(true);
            return self
                .page(session, &form, &secret, &username, StatusCode::OK)
                .await;
        }
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let mut submitted = CodeForm::bound(&data, true);
        if !submitted.form.is_valid() {
            return self
                .page(session, &submitted.form, &secret, &username, StatusCode::OK)
                .await;
        }
        let Some(new_codes) = mfa::activate_totp(shared, id, &secret, &submitted.code).await?
        else {
            submitted.form.add_error("code", INVALID_CODE);
            return self
                .page(session, &submitted.form, &secret, &username, StatusCode::OK)
                .await;
        };
        request.session.remove_value(OFFERED_KEY).await?;
        mfa::changed(session, id, &username, EventKind::MfaEnabled, mfa::TOTP).await?;
        let codes_url = shared.urls.path_of_view("RecoveryCodesView");
        match (new_codes, codes_url) {
            (Some(codes), Some(url)) => {
                request.session.insert(NEW_CODES_KEY, codes).await?;
                Ok(redirect(url))
            }
            _ => Ok(redirect(index.unwrap_or("/"))),
        }
    }

    async fn page(
        &self,
        session: &Session,
        form: &Form,
        secret: &[u8],
        username: &str,
        status: StatusCode,
    ) -> Result<Response> {
        let request = &session.request;
        let settings = &request.shared.settings;
        let issuer = settings
            .mfa_totp_issuer
            .clone()
            .or_else(|| request.origin.host.clone())
            .unwrap_or_else(|| "auth".to_owned());
        let uri = totp::otpauth_uri(&issuer, username, secret);
        let context = minijinja::context! {
            title => "Turn on two-factor authentication",
            form => form.to_value(),
            secret => totp::base32(secret),
            qr_code => qr::svg(&uri).map(minijinja::Value::from_safe_string),
            otpauth_uri => uri,
        };
        let mut response = render(session, &self.template_name, context).await?;
        *response.status_mut() = status;
        Ok(response)
    }
}

impl View for TotpActivateView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.respond(&session, req).await
    }
}

impl TotpDeactivateView {
    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let user = match require_login(session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        if req.method() != Method::POST {
            let context = minijinja::context! { title => "Turn off two-factor authentication" };
            return render(session, &self.template_name, context).await;
        }
        if let Some(answer) = needs_reauth(session, &req).await {
            return Ok(answer);
        }
        let shared = &session.request.shared;
        let (id, username) = (user.base().id, user.base().username.clone());
        if mfa::deactivate_totp(shared, id).await? {
            mfa::changed(session, id, &username, EventKind::MfaDisabled, mfa::TOTP).await?;
        }
        let index = shared.urls.path_of_view("MfaIndexView");
        Ok(redirect(index.unwrap_or("/")))
    }
}

impl View for TotpDeactivateView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.respond(&session, req).await
    }
}
