//! The CSRF state of one request (Django's `request.META["CSRF_COOKIE"]`):
//! the secret from the cookie, or one made when a template first asks for
//! a token, and whether the response must (re)set the cookie.

use std::sync::Mutex;

use super::token;

/// The secret in effect and whether the cookie must be sent.
#[derive(Debug, Default)]
struct Inner {
    secret: Option<String>,
    send_cookie: bool,
}

/// The CSRF state of one request.
#[derive(Debug, Default)]
pub(crate) struct CsrfState(Mutex<Inner>);

impl CsrfState {
    /// The state of a request whose `csrftoken` cookie held `cookie` (kept
    /// only when it is a well-formed secret).
    pub(crate) fn from_cookie(cookie: Option<&str>) -> Self {
        CsrfState(Mutex::new(Inner {
            secret: cookie
                .filter(|s| token::is_valid_secret(s))
                .map(str::to_owned),
            send_cookie: false,
        }))
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A masked token (Django's `get_token`); creates the secret, and asks
    /// for its cookie, if there is none yet.
    pub(crate) fn token(&self) -> String {
        let mut state = self.inner();
        let state = &mut *state;
        let secret = state.secret.get_or_insert_with(|| {
            state.send_cookie = true;
            token::new_secret()
        });
        token::mask(secret)
    }

    /// Replaces the secret (at login: a token planted before is useless
    /// after).
    pub(crate) fn rotate(&self) {
        let mut state = self.inner();
        state.secret = Some(token::new_secret());
        state.send_cookie = true;
    }

    /// The secret the request came with (before any rotation).
    pub(crate) fn secret(&self) -> Option<String> {
        self.inner().secret.clone()
    }

    /// Whether the response sets the CSRF cookie.
    pub(crate) fn sends_cookie(&self) -> bool {
        let state = self.inner();
        state.send_cookie && state.secret.is_some()
    }

    /// The secret to set in a cookie on the response, if it changed.
    pub(crate) fn cookie_to_send(&self) -> Option<String> {
        let state = self.inner();
        state.send_cookie.then(|| state.secret.clone()).flatten()
    }
}
