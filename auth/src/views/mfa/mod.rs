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
use http::{HeaderValue, Request};

use crate::{
    Result, Session,
    guards::reauth_required,
    mfa::challenge::{self, Purpose},
};

/// The form `action` that asks for the WebAuthn options (JSON), with a
/// new challenge in a short-lived cookie: the page's script posts it when
/// the user clicks a passkey button, so that showing a page never makes a
/// challenge.
pub(super) const PASSKEY_OPTIONS: &str = "passkey_options";

/// A new challenge for `purpose` and `user`: its bytes, and the cookie
/// that carries it to the answer.
pub(super) fn new_challenge(
    session: &Session,
    purpose: Purpose,
    user: Option<i64>,
) -> (Vec<u8>, HeaderValue) {
    let request = &session.request;
    let shared = &request.shared;
    let now = crate::session::metadata::unix(shared.clock.now());
    shared
        .challenges
        .issue(purpose, user, now, secure_cookie(session))
}

/// The challenge of `purpose` and `user` that `cookie` (the request's,
/// from [`challenge::cookie_in`]) carries, used up; `None` when it has
/// none that holds.
pub(super) async fn take_challenge(
    session: &Session,
    cookie: Option<&str>,
    purpose: Purpose,
    user: Option<i64>,
) -> Result<Option<Vec<u8>>> {
    let shared = &session.request.shared;
    let now = crate::session::metadata::unix(shared.clock.now());
    shared
        .challenges
        .take(&shared.throttle, now, cookie, purpose, user)
        .await
}

/// Whether the challenge cookie is `Secure`.
fn secure_cookie(session: &Session) -> bool {
    session.request.secure() || session.request.shared.settings.session_cookie_secure
}

/// `response` with the challenge cookie ended (every answer ends it).
pub(in crate::views) fn end_challenge(session: &Session, mut response: Response) -> Response {
    response.headers_mut().append(
        http::header::SET_COOKIE,
        challenge::clear_cookie(secure_cookie(session)),
    );
    response
}

/// WebAuthn options as the page's script reads them, never cached, with
/// the cookie of their challenge.
pub(super) fn options_response(options: serde_json::Value, cookie: HeaderValue) -> Response {
    use axum::response::IntoResponse;
    let mut response = super::never_cache(axum::Json(options).into_response());
    response
        .headers_mut()
        .append(http::header::SET_COOKIE, cookie);
    response
}

/// Whether the login page offers "Sign in with a passkey".
pub(in crate::views) fn offers_passkey_login(shared: &crate::app::shared::Shared) -> bool {
    shared.settings.mfa_passkey_login && shared.urls.path_of_view("PasskeysView").is_some()
}

pub(super) use crate::http::redirect::with_next;
pub(super) use crate::mfa::pending::{CONTINUE_KEY, NEW_CODES_KEY};

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
