//! What the layer needs of HTTP itself, below every concept that uses it:
//! the request's host and `ALLOWED_HOSTS` ([`host`]), bounded form bodies
//! ([`body`]), the client's address behind proxies ([`client`]), the
//! security headers of every response ([`security`]), HTML escaping and
//! error pages ([`html`]), and safe redirects ([`redirect`], Django's
//! `url_has_allowed_host_and_scheme`).

pub(crate) mod body;
pub(crate) mod client;
pub(crate) mod host;
pub(crate) mod html;
pub mod redirect;
pub(crate) mod security;
