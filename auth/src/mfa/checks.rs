//! The two-factor app's system checks (registered by the builder with
//! the `mfa` feature): the views that change the factors need
//! re-authentication and the session registry (`auth.E005`, `auth.E006`),
//! `AUTH_MFA_REQUIRED` can be met (`auth.E007`), the groups it names
//! exist (`auth.W011`), and browsers offer passkeys on the site
//! (`auth.W010`).

use crate::{
    app::checks::guards::{needs_reauthentication, needs_registry},
    apps::Shared,
    kernel::{
        checks::{CheckMessage, Scope},
        registry,
    },
};

/// Every check of the app.
pub(crate) fn check(shared: &Shared, scope: Scope) -> Vec<CheckMessage> {
    // The views that change the factors: each asks for a recent
    // authentication and ends the user's other sessions.
    let changing: Vec<String> = [
        "TotpActivateView",
        "TotpDeactivateView",
        "RecoveryCodesView",
        "PasskeysView",
    ]
    .into_iter()
    .filter_map(|view| {
        shared
            .urls
            .path_of_view(view)
            .map(|path| format!("the {view} at {path}"))
    })
    .collect();
    let mut found = needs_reauthentication(shared, changing.clone());
    found.extend(needs_registry(shared, changing));
    found.extend(requirement(shared));
    found.extend(required_groups(shared, scope));
    found
}

/// `auth.E007`: `AUTH_MFA_REQUIRED` can be met; `auth.W010`: browsers
/// will offer the passkeys of a declared `PasskeysView`.
fn requirement(shared: &Shared) -> Vec<CheckMessage> {
    use crate::settings::MfaRequired;
    let settings = &shared.settings;
    #[cfg_attr(not(feature = "passkeys"), allow(unused_mut))]
    let mut found = Vec::new();
    #[cfg(feature = "passkeys")]
    if let (Some(path), Some(site)) = (
        shared.urls.path_of_view("PasskeysView"),
        settings.passkey_site(),
    ) && let Ok(rp) = crate::mfa::webauthn::RelyingParty::from_site_url(site)
        && !rp.browsers_allow()
    {
        found.push(
            CheckMessage::warning(
                "auth.W010",
                format!(
                    "the PasskeysView at {path} binds passkeys to {site}, where browsers \
                     offer none: only https sites and http://localhost are secure contexts, \
                     and an IP address is not a relying party"
                ),
            )
            .hint(
                "set AUTH_SITE_URL to the https site, or AUTH_MFA_PASSKEY_ORIGIN to \
                 http://localhost:PORT in development",
            )
            .obj("AUTH_SITE_URL"),
        );
    }
    if settings.mfa_required == MfaRequired::None {
        return found;
    }
    let missing: Vec<&str> = ["MfaAuthenticateView", "TotpActivateView"]
        .into_iter()
        .filter(|view| shared.urls.path_of_view(view).is_none())
        .collect();
    if !missing.is_empty() {
        let declared_elsewhere = shared.urls.routes().is_empty()
            && registry::url_blocks().into_iter().any(|block| {
                missing
                    .iter()
                    .all(|view| block.urls.path_of_view(view).is_some())
            });
        let (cause, hint) = if declared_elsewhere {
            (
                "the builder was given no URL table, so it does not see them",
                "add `.urls(urls::URLCONF)` to `Auth::builder()`".to_owned(),
            )
        } else {
            (
                "they are not declared",
                "declare `mfa_authenticate: \"/login/verify/\" => MfaAuthenticateView` and \
                 `totp_activate: \"/account/mfa/totp/activate/\" => TotpActivateView` in \
                 auth_urls!"
                    .to_owned(),
            )
        };
        found.push(
            CheckMessage::error(
                "auth.E007",
                format!(
                    "AUTH_MFA_REQUIRED asks for a second factor, but {} {} not in the app's URL \
                     table ({cause}), so those users could not set one up or log in with it",
                    missing.join(" and "),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            )
            .hint(hint)
            .obj("AUTH_MFA_REQUIRED"),
        );
    }
    if settings.mfa_required == MfaRequired::Groups && settings.mfa_required_groups.is_empty() {
        found.push(
            CheckMessage::error(
                "auth.E007",
                "AUTH_MFA_REQUIRED=groups names no group, so nobody would be asked for a \
                 second factor",
            )
            .hint("list the groups in AUTH_MFA_REQUIRED_GROUPS (comma-separated)")
            .obj("AUTH_MFA_REQUIRED_GROUPS"),
        );
    }
    found
}

/// `auth.W011` (an error with `--deploy`): a group of
/// `AUTH_MFA_REQUIRED_GROUPS` that did not exist at start-up, which
/// exempts the members of the group that was meant.
fn required_groups(shared: &Shared, scope: Scope) -> Option<CheckMessage> {
    let missing = shared
        .observed
        .missing_required_groups
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    if missing.is_empty() {
        return None;
    }
    let text = format!(
        "AUTH_MFA_REQUIRED_GROUPS names groups that do not exist ({}): nobody is asked for a \
         second factor as their member",
        missing.join(", ")
    );
    let message = if scope.deploy {
        CheckMessage::error("auth.W011", text)
    } else {
        CheckMessage::warning("auth.W011", text)
    };
    Some(
        message
            .hint("fix the names, or create the groups (`creategroup NAME`)")
            .obj("AUTH_MFA_REQUIRED_GROUPS"),
    )
}
