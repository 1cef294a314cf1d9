//! `PasskeysView` (its options are in `table.rs`), and the login with a
//! passkey alone that `LoginView` offers next to the password.

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use super::{
    NEW_CODES_KEY, PASSKEY_OPTIONS, end_challenge, needs_reauth, new_challenge,
    offers_passkey_login, options_response, take_challenge,
};
use crate::{
    Error, Result, Session,
    events::EventKind,
    http::{body::FormData, html::error_page},
    mfa::{self, challenge, challenge::Purpose, webauthn},
    throttle::{Verdict, login_counters, passkey_options_counters, unknown_credential_counters},
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
        let challenge_cookie = challenge::cookie_in(req.headers());
        let data = match FormData::read(req, &shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let rp = mfa::relying_party(shared)?;
        match data.get("action").unwrap_or("") {
            PASSKEY_OPTIONS => {
                let (challenge, cookie) = new_challenge(session, Purpose::Register, Some(id));
                let exclude: Vec<Vec<u8>> = mfa::passkeys(shared, id)
                    .await?
                    .into_iter()
                    .map(|p| p.credential_id)
                    .collect();
                let site = request.origin.host.clone().unwrap_or_else(|| rp.id.clone());
                Ok(options_response(
                    webauthn::creation_options(
                        &rp,
                        &site,
                        &mfa::user_handle(id),
                        &username,
                        &challenge,
                        &exclude,
                    ),
                    cookie,
                ))
            }
            "add" => {
                let added = self
                    .add(session, challenge_cookie.as_deref(), &user, &data, &here)
                    .await?;
                Ok(end_challenge(session, added))
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

    /// Adds the passkey the page posted, when it answers the challenge
    /// issued to this user for a registration.
    async fn add(
        &self,
        session: &Session,
        cookie: Option<&str>,
        user: &LoadedUser,
        data: &FormData,
        here: &str,
    ) -> Result<Response> {
        let request = &session.request;
        let shared = &request.shared;
        let (id, username) = (user.base().id, user.base().username.clone());
        let rp = mfa::relying_party(shared)?;
        let refused = "The passkey could not be added. Try again.";
        let Some(challenge) = take_challenge(session, cookie, Purpose::Register, Some(id)).await?
        else {
            tracing::info!(
                user_id = id,
                "a passkey registration was refused: no challenge"
            );
            return self.page(session, id, Some(refused)).await;
        };
        let posted = data.get("credential").unwrap_or("");
        let credential = match webauthn::verify_registration(&rp, &challenge, posted) {
            Ok(credential) => credential,
            Err(err) => {
                tracing::info!(user_id = id, error = %err, "a passkey registration was refused");
                return self.page(session, id, Some(refused)).await;
            }
        };
        let name = clean_name(data.get("name"));
        let Ok(codes) = mfa::add_passkey(shared, id, &credential, &name).await? else {
            tracing::info!(
                user_id = id,
                "a passkey registration was refused: its credential is registered already"
            );
            return self.page(session, id, Some(refused)).await;
        };
        mfa::changed(session, id, &username, EventKind::MfaEnabled, mfa::WEBAUTHN).await?;
        match (codes, shared.urls.path_of_view("RecoveryCodesView")) {
            (Some(codes), Some(url)) => {
                request.session.insert(NEW_CODES_KEY, codes).await?;
                Ok(redirect(url))
            }
            _ => Ok(redirect(here)),
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
///
/// The credential is found by its id through the credential index, and
/// the user handle the client sent must be its owner's. An answer
/// without a challenge that holds, or for a credential nobody registered,
/// counts against the client's address only; one that a registered
/// passkey fails to verify counts against its owner too, as a wrong
/// password would.
pub(in crate::views) async fn passkey_login(
    session: &Session,
    challenge_cookie: Option<&str>,
    data: &FormData,
) -> Result<Option<PasskeyLogin>> {
    let request = &session.request;
    let shared = &request.shared;
    let asks_options = data.get("action") == Some(PASSKEY_OPTIONS);
    let posted = data.get("credential").filter(|c| !c.is_empty());
    if !offers_passkey_login(shared) || (!asks_options && posted.is_none()) {
        return Ok(None);
    }
    let client = request.origin.client_ip;
    let rp = mfa::relying_party(shared)?;
    if asks_options {
        let counters = passkey_options_counters(&shared.settings, client);
        if shared.throttle.count(&counters).await?.is_err() {
            return Err(Error::Throttled);
        }
        let (challenge, cookie) = new_challenge(session, Purpose::Login, None);
        let options = webauthn::request_options(&rp, &challenge, &[], "required");
        return Ok(Some(PasskeyLogin::Options(options_response(
            options, cookie,
        ))));
    }
    let refused = async || -> Result<Option<PasskeyLogin>> {
        let counters = unknown_credential_counters(&shared.settings, client);
        match shared.throttle.count(&counters).await? {
            Ok(()) => Ok(Some(PasskeyLogin::Refused(PASSKEY_REFUSED))),
            Err(_) => Err(Error::Throttled),
        }
    };
    let Ok(assertion) = webauthn::parse_assertion(posted.unwrap_or("")) else {
        return refused().await;
    };
    let Some(challenge) = take_challenge(session, challenge_cookie, Purpose::Login, None).await?
    else {
        return refused().await;
    };
    let Some(passkey) = mfa::registered(shared, &assertion).await? else {
        return refused().await;
    };
    let user_id = passkey.user_id;
    let handle_matches = match assertion.user_handle.as_deref() {
        Some(handle) => mfa::user_of_handle(handle) == Some(user_id),
        // A discoverable credential always returns its handle.
        None => false,
    };
    if !handle_matches {
        return refused().await;
    }
    let backend = shared.backends.first();
    let Some(user) = shared.backends.get_user(shared, backend, user_id).await? else {
        return refused().await;
    };
    let username = user.base().username.clone();
    let counters = login_counters(&shared.settings, &username, client);
    let checked = shared.throttle.attempt(&counters, async {
        match mfa::verify_registered(shared, passkey, &assertion, &challenge, true).await {
            Ok(true) => (Verdict::Passed, Ok(true)),
            Ok(false) => (Verdict::Failed, Ok(false)),
            Err(err) => (Verdict::DidNotHappen, Err(err)),
        }
    });
    match checked.await? {
        Ok(true) => {
            request.set_authenticated_by(user_id, backend);
            request.set_second_step_passed(user_id);
            Ok(Some(PasskeyLogin::User(user)))
        }
        Ok(false) => {
            let event = request.event(EventKind::MfaFailed).user(user_id, &username);
            shared.events.emit(event);
            Ok(Some(PasskeyLogin::Refused(PASSKEY_REFUSED)))
        }
        Err(_) => Err(Error::Throttled),
    }
}
