//! Cross-site request forgery protection, as Django's `CsrfViewMiddleware`.
//!
//! A 32-character secret lives in the `csrftoken` cookie. Forms carry a
//! 64-character token (`csrfmiddlewaretoken`, in urlencoded or multipart
//! bodies, or the `X-CSRFToken` header): a random mask plus the secret
//! enciphered with it, different on every render so the secret never
//! appears in a page (BREACH). Unsafe requests (POST, PUT, PATCH, DELETE)
//! must come from this site or a trusted origin (`Origin`, or `Referer`
//! on secure requests without one) and carry a token matching the cookie,
//! else they get 403. The secret is replaced at login, so a token planted
//! before login is useless afterwards.
//!
//! [`token`] holds the tokens, [`state`] the request's secret, [`origin`]
//! where a request may come from, [`middleware`] the check the auth layer
//! runs and [`cookie`] the cookie it sets.

pub(crate) mod cookie;
pub(crate) mod middleware;
pub(crate) mod origin;
pub(crate) mod state;
pub(crate) mod token;
