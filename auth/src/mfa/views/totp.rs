//! `TotpActivateView` and `TotpDeactivateView`: TOTP on and off (their
//! options are in `table.rs`).

use super::{TotpActivateView, TotpDeactivateView};
use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{CONTINUE_KEY, NEW_CODES_KEY, needs_reauth};
use crate::{
    events::EventKind,
    forms::Form,
    http::body::FormData,
    kernel::error::Result,
    login::{LoginStage, Session},
    mfa::forms::{CodeForm, INVALID_CODE},
    mfa::{
        self,
        pending::{self, OFFERED_KEY, Pending},
        qr, totp,
    },
    user::erased::LoadedUser,
    views::{NEXT, View, query_param, redirect, render, require_login, safe_next},
};

/// A TOTP secret offered to a user and not activated yet (under
/// `pending::OFFERED_KEY`): a reload shows the same one, so a code from an
/// app that already scanned it still works; bound to its user, so a
/// session planted with a secret of someone else's never offers it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Offered {
    user: i64,
    secret: String,
}

impl TotpActivateView {
    /// Who is setting TOTP up: the logged-in user (after a recent
    /// authentication), or the user of a pending login that must enrol
    /// (`AUTH_MFA_REQUIRED`; the password was just typed). Otherwise the
    /// answer to send instead.
    async fn who(
        &self,
        session: &Session,
        reauth: impl Future<Output = Option<Response>> + Send,
    ) -> Result<std::result::Result<(LoadedUser, Option<Pending>), Response>> {
        let request = &session.request;
        let shared = &request.shared;
        if request.user().await?.is_none()
            && pending::current(session).await?.is_some_and(|p| p.enrol)
        {
            return Ok(match pending::resume(session).await? {
                Some((pending, user)) => Ok((user, Some(pending))),
                None => Err(redirect(shared.login_url())),
            });
        }
        let user = match require_login(session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(Err(redirect)),
        };
        if let Some(answer) = reauth.await {
            return Ok(Err(answer));
        }
        Ok(Ok((user, None)))
    }

    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let (user, enrolling) = match self.who(session, needs_reauth(session, &req)).await? {
            Ok(who) => who,
            Err(answer) => return Ok(answer),
        };
        let request = &session.request;
        let shared = &request.shared;
        let (id, username) = (user.base().id, user.base().username.clone());
        let index = shared.urls.path_of_view("MfaIndexView");
        if mfa::totp_active(shared, id).await? {
            return Ok(redirect(index.unwrap_or("/")));
        }
        let offered = request
            .session
            .get_value(OFFERED_KEY)
            .await?
            .and_then(|value| serde_json::from_value::<Offered>(value).ok())
            .filter(|offered| offered.user == id)
            .and_then(|offered| totp::from_base32(&offered.secret))
            .filter(|secret| secret.len() == totp::SECRET_BYTES);
        let secret = match offered {
            Some(secret) => secret,
            None => {
                let secret = totp::new_secret();
                let offered = Offered {
                    user: id,
                    secret: totp::base32(&secret),
                };
                request.session.insert(OFFERED_KEY, offered).await?;
                secret
            }
        };
        let query_next = query_param(&req, NEXT);
        if req.method() != Method::POST {
            let form = CodeForm::blank(true);
            return self
                .page(
                    session,
                    &form,
                    &secret,
                    &username,
                    enrolling.is_some(),
                    StatusCode::OK,
                )
                .await;
        }
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let next = safe_next(session, Some(&data), query_next);
        let mut submitted = CodeForm::bound(&data, true);
        if !submitted.form.is_valid() {
            return self
                .page(
                    session,
                    &submitted.form,
                    &secret,
                    &username,
                    enrolling.is_some(),
                    StatusCode::OK,
                )
                .await;
        }
        let Some(new_codes) = mfa::activate_totp(shared, id, &secret, &submitted.code).await?
        else {
            submitted.form.add_error("code", INVALID_CODE);
            return self
                .page(
                    session,
                    &submitted.form,
                    &secret,
                    &username,
                    enrolling.is_some(),
                    StatusCode::OK,
                )
                .await;
        };
        request.session.remove_value(OFFERED_KEY).await?;
        if let Some(pending) = enrolling {
            // The factor was the last step of this login.
            pending::passed(session, &pending).await?;
            if let LoginStage::Pending { url } =
                shared.operations.stage_login(session, &user, None).await?
            {
                return Ok(redirect(&url));
            }
            mfa::record_factor(session, mfa::Passed::Totp).await?;
            let target = next.unwrap_or_else(|| shared.settings.login_redirect_url().to_owned());
            request.session.insert(CONTINUE_KEY, target).await?;
        }
        mfa::changed(session, id, &username, EventKind::MfaEnabled, mfa::TOTP).await?;
        let codes_url = shared.urls.path_of_view("RecoveryCodesView");
        match (new_codes, codes_url) {
            (Some(codes), Some(url)) => {
                request.session.insert(NEW_CODES_KEY, codes).await?;
                Ok(redirect(url))
            }
            _ => {
                let after = request.session.remove_value(CONTINUE_KEY).await?;
                let after = after.as_ref().and_then(|v| v.as_str()).map(str::to_owned);
                Ok(redirect(
                    &after.unwrap_or_else(|| index.unwrap_or("/").to_owned()),
                ))
            }
        }
    }

    async fn page(
        &self,
        session: &Session,
        form: &Form,
        secret: &[u8],
        username: &str,
        enrolling: bool,
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
            required => enrolling,
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
