//! The two-factor views: the login's second step (`authenticate.rs`), the
//! factors' page (`index.rs`), TOTP on and off (`totp.rs`) and the
//! recovery codes (`recovery_codes.rs`); and here, what `LoginView` asks
//! after a correct password.

mod authenticate;
mod index;
mod passkeys;
mod recovery_codes;
mod totp;

pub(super) use passkeys::{PasskeyLogin, passkey_login};

use axum::{body::Body, response::Response};
use http::Request;

use crate::{Result, Session, guards::reauth_required, mfa, user::erased::LoadedUser};

/// The session key of recovery codes made by this session and not shown
/// yet.
const NEW_CODES_KEY: &str = "_auth_mfa_new_codes";

/// The session key of where a login that had to set up a factor goes
/// once the recovery codes are seen.
const CONTINUE_KEY: &str = "_auth_mfa_continue";

/// After `user`'s correct password, with the two-factor views declared:
/// a user with a second factor goes to the second step
/// (`MfaAuthenticateView`), and one who must have a factor and has none
/// (`AUTH_MFA_REQUIRED`) to set up TOTP (`TotpActivateView`); the session
/// becomes a pending login and that view's path is returned. `None`: log
/// in now.
pub(super) async fn second_step(
    session: &Session,
    user: &LoadedUser,
) -> Result<Option<&'static str>> {
    let request = &session.request;
    let shared = &request.shared;
    let urls = &shared.urls;
    let Some(verify) = urls.path_of_view("MfaAuthenticateView") else {
        return Ok(None);
    };
    let id = user.base().id;
    let (path, enrol) = if mfa::has_second_factor(shared, id).await? {
        (verify, false)
    } else {
        match urls.path_of_view("TotpActivateView") {
            Some(activate) if mfa::required(shared, user.base()).await? => (activate, true),
            _ => return Ok(None),
        }
    };
    let backend = request
        .authenticated_by(id)
        .unwrap_or_else(|| shared.backends.first());
    mfa::pending::begin(session, id, backend, enrol).await?;
    Ok(Some(path))
}

/// The session key of the WebAuthn challenge this session was last given.
const CHALLENGE_KEY: &str = "_auth_webauthn_challenge";

/// The form `action` that asks for the WebAuthn options (JSON), with a
/// new challenge kept in the session: the page's script posts it when the
/// user clicks a passkey button, so that showing a page never writes a
/// session.
pub(super) const PASSKEY_OPTIONS: &str = "passkey_options";

/// A new challenge, kept in the session for the answer.
pub(super) async fn new_challenge(session: &Session) -> Result<Vec<u8>> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let challenge = mfa::webauthn::challenge();
    session
        .request
        .session
        .insert(CHALLENGE_KEY, URL_SAFE_NO_PAD.encode(&challenge))
        .await?;
    Ok(challenge)
}

/// The challenge this session was given (used up).
pub(super) async fn take_challenge(session: &Session) -> Result<Option<Vec<u8>>> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let stored = session.request.session.remove_value(CHALLENGE_KEY).await?;
    Ok(stored
        .as_ref()
        .and_then(|value| value.as_str())
        .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok()))
}

/// WebAuthn options as the page's script reads them, never cached.
pub(super) fn options_response(options: serde_json::Value) -> Response {
    use axum::response::IntoResponse;
    super::never_cache(axum::Json(options).into_response())
}

/// Whether the login page offers "Sign in with a passkey".
pub(in crate::views) fn offers_passkey_login(shared: &crate::app::shared::Shared) -> bool {
    shared.settings.mfa_passkey_login && shared.urls.path_of_view("PasskeysView").is_some()
}

/// `path` with `next` as its query, when there is one.
pub(super) fn with_next(path: &str, next: Option<&str>) -> String {
    match next {
        Some(next) => format!(
            "{path}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair(crate::REDIRECT_FIELD_NAME, next)
                .finish()
        ),
        None => path.to_owned(),
    }
}

/// The re-authentication redirect, when this request's login is not
/// recent enough for a change to the factors.
fn needs_reauth<'a>(
    session: &'a Session,
    req: &Request<Body>,
) -> impl Future<Output = Option<Response>> + Send + 'a {
    let method = req.method().clone();
    let referer = req.headers().get(http::header::REFERER).cloned();
    async move { reauth_required::check(&session.request, None, &method, referer.as_ref()).await }
}
