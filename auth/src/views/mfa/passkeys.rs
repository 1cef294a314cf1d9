//! `PasskeysView` (its options are in `table.rs`), and the login with a
//! passkey alone that `LoginView` offers next to the password.

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{
    NEW_CODES_KEY, PASSKEY_OPTIONS, needs_reauth, new_challenge, offers_passkey_login,
    options_response, take_challenge,
};
use crate::{
    Error, Result, Session,
    events::EventKind,
    http::{body::FormData, html::error_page},
    mfa::{self, webauthn},
    throttle::login_counters,
    user::erased::LoadedUser,
    views::{PasskeysView, View, redirect, render, require_login, sessions::when},
};

/// The longest passkey name kept.
const NAME_LENGTH: usize = 64;

/// A passkey's name as typed: trimmed, control characters out, at most
/// 64 characters; "Passkey" when empty.
fn clean_name(typed: Option<&str>) -> String {
    let name: String = typed
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME_LENGTH)
        .collect();
    match name.trim() {
        "" => "Passkey".to_owned(),
        trimmed => trimmed.to_owned(),
    }
}

impl PasskeysView {
    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let user = match require_login(session, self.login_url.as_deref()).await? {
            Ok(user) => user,
            Err(redirect) => return Ok(redirect),
        };
        if let Some(answer) = needs_reauth(session, &req).await {
            return Ok(answer);
        }
        let request = &session.request;
        let shared = &request.shared;
        let (id, username) = (user.base().id, user.base().username.clone());
        let here = req.uri().to_string();
        if req.method() != Method::POST {
            return self.page(session, id, None).await;
        }
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let rp = mfa::relying_party(shared)?;
        match data.get("action").unwrap_or("") {
            PASSKEY_OPTIONS => {
                let challenge = new_challenge(session).await?;
                let exclude: Vec<Vec<u8>> = mfa::passkeys(shared, id)
                    .await?
                    .into_iter()
                    .map(|p| p.credential_id)
                    .collect();
                let site = request.origin.host.clone().unwrap_or_else(|| rp.id.clone());
                Ok(options_response(webauthn::creation_options(
                    &rp,
                    &site,
                    &mfa::user_handle(id),
                    &username,
                    &challenge,
                    &exclude,
                )))
            }
            "add" => {
                let challenge = take_challenge(session).await?.unwrap_or_default();
                let posted = data.get("credential").unwrap_or("");
                let credential = match webauthn::verify_registration(&rp, &challenge, posted) {
                    Ok(credential) => credential,
                    Err(err) => {
                        tracing::info!(user_id = id, error = %err, "a passkey registration was refused");
                        let message = "The passkey could not be added. Try again.";
                        return self.page(session, id, Some(message)).await;
                    }
                };
                let name = clean_name(data.get("name"));
                let codes = mfa::add_passkey(shared, id, &credential, &name).await?;
                mfa::changed(session, id, &username, EventKind::MfaEnabled, mfa::WEBAUTHN).await?;
                match (codes, shared.urls.path_of_view("RecoveryCodesView")) {
                    (Some(codes), Some(url)) => {
                        request.session.insert(NEW_CODES_KEY, codes).await?;
                        Ok(redirect(url))
                    }
                    _ => Ok(redirect(&here)),
                }
            }
            "rename" => {
                let Some(passkey) = data.get("passkey").and_then(|v| v.parse().ok()) else {
                    return Ok(bad_request());
                };
                let name = clean_name(data.get("name"));
                if !mfa::rename_passkey(shared, id, passkey, &name).await? {
                    return Ok(not_found());
                }
                Ok(redirect(&here))
            }
            "remove" => {
                let Some(passkey) = data.get("passkey").and_then(|v| v.parse().ok()) else {
                    return Ok(bad_request());
                };
                if !mfa::remove_passkey(shared, id, passkey).await? {
                    return Ok(not_found());
                }
                mfa::changed(
                    session,
                    id,
                    &username,
                    EventKind::MfaDisabled,
                    mfa::WEBAUTHN,
                )
                .await?;
                Ok(redirect(&here))
            }
            _ => Ok(bad_request()),
        }
    }

    async fn page(&self, session: &Session, user_id: i64, error: Option<&str>) -> Result<Response> {
        let shared = &session.request.shared;
        let passkeys: Vec<minijinja::Value> = mfa::passkeys(shared, user_id)
            .await?
            .into_iter()
            .map(|p| {
                minijinja::context! {
                    id => p.id,
                    name => p.name,
                    created => when(p.created),
                    last_used => p.last_used.map(when),
                }
            })
            .collect();
        let context = minijinja::context! {
            title => "Passkeys",
            passkeys,
            error,
            index_url => shared.urls.path_of_view("MfaIndexView"),
        };
        let mut response = render(session, &self.template_name, context).await?;
        if error.is_some() {
            *response.status_mut() = StatusCode::BAD_REQUEST;
        }
        Ok(response)
    }
}

fn bad_request() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "This form was not understood.",
    )
}

fn not_found() -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "You have no such passkey.",
    )
}

impl View for PasskeysView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.respond(&session, req).await
    }
}

/// What the login page's passkey form asked.
pub(in crate::views) enum PasskeyLogin {
    /// The options for `navigator.credentials.get()` (JSON).
    Options(Response),
    /// A user whose passkey verified: log them in.
    User(LoadedUser),
    /// Refused, with the message for the form.
    Refused(&'static str),
}

/// The message when a passkey does not log anyone in.
const PASSKEY_REFUSED: &str = "This passkey could not be used to log in.";

/// `LoginView`'s POST when it is the passkey form's (`action` is
/// `passkey_options`, or a `credential` is posted); `None` otherwise. A
/// passkey alone logs in only when the authenticator verified the user
/// (PIN or biometrics): that is two factors in one.
pub(in crate::views) async fn passkey_login(
    session: &Session,
    data: &FormData,
) -> Result<Option<PasskeyLogin>> {
    let request = &session.request;
    let shared = &request.shared;
    let asks_options = data.get("action") == Some(PASSKEY_OPTIONS);
    let posted = data.get("credential").filter(|c| !c.is_empty());
    if !offers_passkey_login(shared) || (!asks_options && posted.is_none()) {
        return Ok(None);
    }
    let rp = mfa::relying_party(shared)?;
    if asks_options {
        let challenge = new_challenge(session).await?;
        let options = webauthn::request_options(&rp, &challenge, &[], "required");
        return Ok(Some(PasskeyLogin::Options(options_response(options))));
    }
    let challenge = take_challenge(session).await?.unwrap_or_default();
    let Ok(assertion) = webauthn::parse_assertion(posted.unwrap_or("")) else {
        return Ok(Some(PasskeyLogin::Refused(PASSKEY_REFUSED)));
    };
    let Some(user_id) = assertion
        .user_handle
        .as_deref()
        .and_then(mfa::user_of_handle)
    else {
        return Ok(Some(PasskeyLogin::Refused(PASSKEY_REFUSED)));
    };
    let backend = shared.backends.first();
    let Some(user) = shared.backends.get_user(shared, backend, user_id).await? else {
        return Ok(Some(PasskeyLogin::Refused(PASSKEY_REFUSED)));
    };
    let username = user.base().username.clone();
    let counters = login_counters(&shared.settings, &username, request.origin.client_ip);
    let reservation = match shared.throttle.reserve(&counters).await {
        Err(Error::Throttled) => return Err(Error::Throttled),
        other => other?,
    };
    if mfa::verify_passkey(shared, user_id, &assertion, &challenge, true).await? {
        shared.throttle.succeeded(reservation).await?;
        request.set_authenticated_by(user_id, backend);
        Ok(Some(PasskeyLogin::User(user)))
    } else {
        shared.throttle.failed(reservation);
        let event = request.event(EventKind::MfaFailed).user(user_id, &username);
        shared.events.emit(event);
        Ok(Some(PasskeyLogin::Refused(PASSKEY_REFUSED)))
    }
}
