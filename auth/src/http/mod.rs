//! What the layer needs of HTTP itself, below every concept that uses it:
//! the request's host and `ALLOWED_HOSTS` ([`host`]), bounded form bodies
//! ([`body`]), the client's address behind proxies ([`client`]), cookies
//! ([`cookies`]), the
//! security headers of every response ([`security`]), HTML escaping and
//! error pages ([`html`]), and safe redirects ([`redirect`], Django's
//! `url_has_allowed_host_and_scheme`).

pub(crate) mod body;
pub(crate) mod client;
pub(crate) mod cookies;
mod error_page;
pub(crate) mod host;
pub(crate) mod html;
pub(crate) mod origin;
pub mod redirect;
pub(crate) mod security;

/// The clone of a tower service that serves the next call: the one that
/// was polled ready, with a fresh clone left in its place (tower's rule
/// for services that are cloned into their futures).
pub(crate) fn take_ready<S: Clone>(service: &mut S) -> S {
    let clone = service.clone();
    std::mem::replace(service, clone)
}
