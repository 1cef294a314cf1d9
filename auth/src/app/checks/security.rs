//! Mistakes that turn a security feature off without a word: a URL table
//! not given to the builder (two-factor login, the re-authentication
//! redirect), an activity resolution that ends busy sessions, a required
//! group that does not exist, a client address the app never sees.

use std::sync::atomic::Ordering::Relaxed;

use super::{CheckMessage, Scope};
use crate::{apps::Shared, kernel::registry};

pub(super) fn check(shared: &Shared, scope: Scope) -> Vec<CheckMessage> {
    let mut found = Vec::new();
    found.extend(url_table(shared));
    found.extend(activity_resolution(shared));
    found.extend(client_address(shared, scope));
    found
}

/// `auth.E009`: the binary declares auth URLs, but the builder was given
/// none (`.urls(urls::URLCONF)` forgotten): the views answer, but what
/// reads the table (the login's second step, the re-authentication
/// redirect, the login URL) does not see them.
fn url_table(shared: &Shared) -> Option<CheckMessage> {
    if !shared.urls.routes().is_empty() {
        return None;
    }
    let block = registry::url_blocks()
        .into_iter()
        .find(|block| !block.urls.routes().is_empty())?;
    let module = block.module.rsplit("::").next().unwrap_or(block.module);
    let views: Vec<&str> = block.urls.routes().iter().map(|route| route.view).collect();
    Some(
        CheckMessage::error(
            "auth.E009",
            format!(
                "{} declares auth URLs ({}), but the builder was given no URL table: two-factor \
                 login, re-authentication and the login URL do not see them, so a user's second \
                 factor would not be asked for",
                block.module,
                views.join(", ")
            ),
        )
        .hint(format!(
            "add `.urls({module}::URLCONF)` to `Auth::builder()`"
        ))
        .obj(block.module),
    )
}

/// `auth.E008`: an activity resolution so coarse that a session in use
/// passes its idle timeout between two writes of its "last seen".
fn activity_resolution(shared: &Shared) -> Option<CheckMessage> {
    let settings = &shared.settings;
    let resolution = settings.session_activity_resolution?;
    let idle = settings.session_idle_timeout?;
    if resolution * 2 <= idle {
        return None;
    }
    Some(
        CheckMessage::error(
            "auth.E008",
            format!(
                "AUTH_SESSION_ACTIVITY_RESOLUTION is {} s, more than half of \
                 AUTH_SESSION_IDLE_TIMEOUT ({} s): a session used all the time would be ended \
                 as idle, because its last use is written only once per resolution",
                resolution.as_secs(),
                idle.as_secs()
            ),
        )
        .hint(
            "unset AUTH_SESSION_ACTIVITY_RESOLUTION (it then follows the idle timeout), or set \
             it to at most a tenth of AUTH_SESSION_IDLE_TIMEOUT",
        )
        .obj("AUTH_SESSION_ACTIVITY_RESOLUTION"),
    )
}

/// `auth.W012`: requests were served without the client's address;
/// `auth.W013` (`--deploy`): behind a proxy, requests without its header
/// share one address.
fn client_address(shared: &Shared, scope: Scope) -> Vec<CheckMessage> {
    let mut found = Vec::new();
    let settings = &shared.settings;
    if shared.observed.no_client_address.load(Relaxed) {
        found.push(
            CheckMessage::warning(
                "auth.W012",
                "requests were served without the client's address (no ConnectInfo): the login \
                 throttle counts every client as one, so a few wrong passwords from anyone lock \
                 a user out for everyone, and sessions and the audit log show no address",
            )
            .hint(
                "serve with `auth.serve(app, listener)` or \
                 `app.into_make_service_with_connect_info::<SocketAddr>()`; behind a proxy, set \
                 AUTH_TRUSTED_PROXY_HEADER",
            )
            .obj("serve"),
        );
    }
    if let Some(header) = &settings.trusted_proxy_header
        && (scope.deploy || shared.observed.no_proxy_header.load(Relaxed))
    {
        found.push(
            CheckMessage::warning(
                "auth.W013",
                format!(
                    "the client's address is read from {header} (AUTH_TRUSTED_PROXY_HEADER): a \
                     request without it, or with a garbled one, counts as one shared `unknown` \
                     address for the login throttle{}",
                    if shared.observed.no_proxy_header.load(Relaxed) {
                        ", and such requests were served"
                    } else {
                        ""
                    }
                ),
            )
            .hint(format!(
                "let no request reach the app but through the proxy, which must set {header} \
                 on every one"
            ))
            .obj("AUTH_TRUSTED_PROXY_HEADER"),
        );
    }
    found
}
