//! System checks (Django's `django.core.checks`): the mistakes the
//! compiler cannot see, caught when the app starts instead of as a silent
//! 403, a redirect to a 404 or a misleading message later.
//!
//! `serve` runs them before it listens: an error stops it with its
//! message, warnings are logged once. `check` runs them on demand
//! (`accounts check`, and `accounts check --deploy` for the production
//! settings), printing each finding as Django does:
//!
//! ```text
//! app::views::edit: (auth.E001) #[permission_required] on app::views::edit requires wiki.edit_pages, which is not a permission of this app
//!     HINT: did you mean wiki.edit_page?
//! ```
//!
//! | id | what |
//! |---|---|
//! | `auth.E001` | a guard requires a permission the app does not have (misspelt, or its `permissions!` block not given to the builder) |
//! | `auth.E002` | the templates directory does not exist (at build) |
//! | `auth.E003` | `DATABASE_URL` names a database whose feature is off (at build) |
//! | `auth.E004` | `REDIS_URL` is set without the `redis` feature (at build) |
//! | `auth.E005` | re-authentication is needed (a `#[reauth_required]` handler, a `SessionListView`, a two-factor view that changes the factors) but no `ReauthenticateView` is declared |
//! | `auth.E006` | the session registry is needed (a `SessionListView`, `AUTH_SESSION_MAX_PER_USER`, a two-factor view that changes the factors) but the app's own session store cannot list a user's sessions |
//! | `auth.E007` | `AUTH_MFA_REQUIRED` asks for a second factor, but no `MfaAuthenticateView` or `TotpActivateView` is in the URL table (nobody could set one up or use it), or `groups` without `AUTH_MFA_REQUIRED_GROUPS` |
//! | `auth.E008` | `AUTH_SESSION_ACTIVITY_RESOLUTION` is more than half of `AUTH_SESSION_IDLE_TIMEOUT` (busy sessions would end as idle) |
//! | `auth.E009` | the binary declares auth URLs (`auth_urls!`), but the builder was given no URL table (`.urls(urls::URLCONF)` forgotten: the second factor would not be asked for) |
//! | `auth.E010` | a cookie name with a `__Secure-` or `__Host-` prefix without what browsers demand of it (`Secure`; for `__Host-` also `Path=/` and no `Domain`): also refused when the app is built |
//! | `auth.W001` | a `permissions!` block is not given to the builder (`.permissions(perms::ALL)`) |
//! | `auth.W002` | a guard's `login_url` is not one of the declared auth URLs |
//! | `auth.W003` | `AUTH_LOGIN_URL` is not one of the declared auth URLs |
//! | `auth.W004` | `AUTH_LOGIN_REDIRECT_URL` is not set |
//! | `auth.W005` | `AUTH_SECRET_KEY` is not set (a development key is used) |
//! | `auth.W006` | `AUTH_ALLOWED_HOSTS` is empty (`--deploy`, or serving beyond loopback) |
//! | `auth.W007` | `AUTH_SESSION_COOKIE_SECURE` is off (likewise) |
//! | `auth.W008` | `AUTH_CSRF_COOKIE_SECURE` is off (likewise) |
//! | `auth.W009` | `AUTH_SECRET_KEY` is short or repetitive (`--deploy`) |
//! | `auth.W010` | a `PasskeysView` binds passkeys to a site where browsers offer none (plain http beyond localhost, an IP address) |
//! | `auth.W011` | a group of `AUTH_MFA_REQUIRED_GROUPS` did not exist at start-up (an error with `--deploy`) |
//! | `auth.W012` | requests were served without the client's address (no `ConnectInfo`): the throttle sees one client |
//! | `auth.W013` | behind `AUTH_TRUSTED_PROXY_HEADER`, requests without it count as one address (`--deploy`, or once seen) |
//! | `auth.W014` | a `Secure` session or CSRF cookie named without a `__Host-` (or `__Secure-`) prefix (`--deploy`) |
//!
//! `AUTH_SILENCED_SYSTEM_CHECKS=auth.W002,…` silences findings by id
//! (Django's `SILENCED_SYSTEM_CHECKS`).

pub(crate) mod guards;
mod security;
mod settings;

pub use crate::kernel::checks::{CheckMessage, Level, Report, Scope};

use crate::{app::Auth, user::AuthUser};

/// Runs every check on `auth` (Django's `run_checks`): errors first, each
/// group in a stable order, the silenced ones left out and counted.
pub fn run_checks<U: AuthUser>(auth: &Auth<U>, scope: Scope) -> Report {
    let shared = &auth.shared;
    let mut found = guards::check(shared);
    found.extend(guards::check_sessions(shared));
    found.extend(security::check(shared, scope));
    for check in shared.apps.iter().filter_map(|app| app.check) {
        found.extend(check(shared, scope));
    }
    found.extend(settings::check(&shared.settings, scope));
    found.sort_by(|a, b| b.level.cmp(&a.level).then(a.id.cmp(b.id)));
    let silenced = &shared.settings.silenced_system_checks;
    let (quiet, messages): (Vec<_>, Vec<_>) = found
        .into_iter()
        .partition(|message| silenced.iter().any(|id| id == message.id));
    Report {
        messages,
        silenced: quiet.len(),
    }
}

#[cfg(not(feature = "redis"))]
pub(crate) use settings::redis_feature;
pub(crate) use settings::{cookie_prefixes, database_feature};
