//! `PasskeysView` (feature `passkeys`; its options are in its link of the
//! views' table, below), and the login with a passkey alone that the login
//! page offers next to the password ([`PasskeyLogin`], a login method).

use axum::{body::Body, response::Response};
use http::{HeaderValue, Method, Request, StatusCode};

use super::{NEW_CODES_KEY, needs_reauth};
use crate::{
    apps::{LoginMethod, MethodAnswer, Shared},
    events::EventKind,
    http::{body::FormData, html::error_page},
    kernel::error::{Error, Result},
    kernel::future::BoxFuture,
    login::Session,
    mfa::counters::{passkey_options_counters, unknown_credential_counters},
    mfa::{self, challenge, challenge::Purpose, webauthn},
    throttle::{Verdict, login_counters},
    user::erased::LoadedUser,
    views::{View, redirect, render, require_login, when},
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
        .extension::<challenge::Challenges>()
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
        .extension::<challenge::Challenges>()
        .take(&shared.throttle, now, cookie, purpose, user)
        .await
}

/// Whether the challenge cookie is `Secure`.
fn secure_cookie(session: &Session) -> bool {
    session.request.secure() || session.request.shared.settings.session_cookie_secure
}

/// `response` with the challenge cookie ended (every answer ends it).
pub(super) fn end_challenge(session: &Session, mut response: Response) -> Response {
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
    let mut response = crate::views::never_cache(axum::Json(options).into_response());
    response
        .headers_mut()
        .append(http::header::SET_COOKIE, cookie);
    response
}

/// Whether the login page offers "Sign in with a passkey".
fn offers_passkey_login(shared: &crate::apps::Shared) -> bool {
    shared.settings.mfa_passkey_login && shared.urls.path_of_view("PasskeysView").is_some()
}

/// The options of a passkey answer at the second step of user
/// `user_id`'s login (their passkeys allowed), with a new challenge.
pub(super) async fn second_step_options(session: &Session, user_id: i64) -> Result<Response> {
    let shared = &session.request.shared;
    let rp = mfa::relying_party(shared)?;
    let (challenge, cookie) = new_challenge(session, Purpose::SecondStep, Some(user_id));
    let allow: Vec<Vec<u8>> = mfa::passkeys(shared, user_id)
        .await?
        .into_iter()
        .map(|p| p.credential_id)
        .collect();
    let options = webauthn::request_options(&rp, &challenge, &allow, "preferred");
    Ok(options_response(options, cookie))
}

/// A passkey posted at the second step of user `user_id`'s login:
/// `Passkey` when it verifies against the challenge issued for it
/// (`cookie`, the request's).
pub(super) async fn check_second_step(
    session: &Session,
    cookie: Option<&str>,
    user_id: i64,
    posted: &str,
) -> Result<Option<mfa::Passed>> {
    let Ok(assertion) = webauthn::parse_assertion(posted) else {
        return Ok(None);
    };
    let Some(challenge) =
        take_challenge(session, cookie, Purpose::SecondStep, Some(user_id)).await?
    else {
        return Ok(None);
    };
    let shared = &session.request.shared;
    let passed = mfa::verify_passkey(shared, user_id, &assertion, &challenge, false).await?;
    Ok(passed.then_some(mfa::Passed::Passkey))
}

/// Whether the second step of user `user_id`'s login offers their
/// passkeys (a `PasskeysView` is declared and they have one).
pub(super) async fn offered_at_second_step(shared: &Shared, user_id: i64) -> Result<bool> {
    Ok(shared.urls.path_of_view("PasskeysView").is_some()
        && !mfa::passkeys(shared, user_id).await?.is_empty())
}

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

/// "Sign in with a passkey" on the login page: a login method
/// (registered by the builder with the `passkeys` feature).
pub(crate) struct PasskeyLogin;

impl LoginMethod for PasskeyLogin {
    fn offered(&self, shared: &Shared) -> (&'static str, bool) {
        ("passkey_login", offers_passkey_login(shared))
    }

    fn answer<'a>(
        &'a self,
        session: &'a Session,
        headers: &'a http::HeaderMap,
        data: &'a FormData,
    ) -> BoxFuture<'a, Result<Option<MethodAnswer>>> {
        Box::pin(async move {
            let cookie = challenge::cookie_in(headers);
            passkey_login(session, cookie.as_deref(), data).await
        })
    }

    fn finish(&self, session: &Session, response: Response) -> Response {
        // A passkey's answer, whatever it was, ends its challenge.
        end_challenge(session, response)
    }

    fn logged_in<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<()>> {
        Box::pin(mfa::record_factor(session, mfa::Passed::Passkey))
    }
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
async fn passkey_login(
    session: &Session,
    challenge_cookie: Option<&str>,
    data: &FormData,
) -> Result<Option<MethodAnswer>> {
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
        return Ok(Some(MethodAnswer::Respond(options_response(
            options, cookie,
        ))));
    }
    let refused = async || -> Result<Option<MethodAnswer>> {
        let counters = unknown_credential_counters(&shared.settings, client);
        match shared.throttle.count(&counters).await? {
            Ok(()) => Ok(Some(MethodAnswer::Refused(PASSKEY_REFUSED))),
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
            Ok(Some(MethodAnswer::User(user)))
        }
        Ok(false) => {
            let event = request.event(EventKind::MfaFailed).user(user_id, &username);
            shared.events.emit(event);
            Ok(Some(MethodAnswer::Refused(PASSKEY_REFUSED)))
        }
        Err(_) => Err(Error::Throttled),
    }
}

/// The passkeys view (feature `passkeys`): a link of the chained table of views (see `lib.rs`), handed
/// to `$callback!` after `$prefix`.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_passkeys {
    ($callback:path { $($prefix:tt)* }) => {
        $callback! {
            $($prefix)*

            /// The user's passkeys (WebAuthn): a list with each one's
            /// name, when it was added and last used, and forms to rename
            /// (`action=rename`, `passkey`, `name`) and remove
            /// (`action=remove`, `passkey`) it; "Add a passkey" asks the
            /// browser for a new one (`action=add`, `credential`, `name`).
            /// The relying party is `AUTH_SITE_URL` (the app does not
            /// start without it when this view is declared). Every change
            /// needs a recent authentication and ends the user's other
            /// sessions; the first passkey also makes recovery codes.
            PasskeysView module(mfa) [GET, HEAD, POST] needs_login {
                /// The template (`passkeys`, `form`).
                template_name: text = "mfa/passkeys.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }
        }
    };
}

crate::__auth_views_passkeys!(crate::views::table::define_views {});
