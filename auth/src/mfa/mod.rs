//! Two-factor login: TOTP codes from an authenticator app and single-use
//! recovery codes, with a staged login (the password, then the second
//! factor) and the views to manage both.
//!
//! - `totp.rs`: RFC 6238 codes; `recovery.rs`: recovery codes;
//!   `webauthn.rs`: passkey ceremonies; `passkey.rs`: passkeys as stored;
//! - `store.rs`: the `auth_authenticator` table, one row per factor;
//! - `pending.rs`: the session's state between the two steps;
//! - `qr.rs`: the enrolment QR code as inline SVG;
//! - `admin.rs`: [`MfaAdmin`] (`auth.mfa()`), for administration;
//! - here: what the views ask of TOTP and recovery codes (`verify`,
//!   `activate_totp`, …).
//!
//! The built-in `LoginView` stages the login when an `MfaAuthenticateView`
//! is declared and the user has a second factor; [`login`](crate::login)
//! itself is the full login, for custom views that did their own checks.

mod admin;
#[cfg(feature = "passkeys")]
pub(crate) mod challenge;
pub(crate) mod checks;
#[cfg(feature = "cli")]
pub(crate) mod cli;
pub(crate) mod counters;
pub(crate) mod forms;
#[cfg(feature = "passkeys")]
mod passkey;
pub(crate) mod pending;
pub(crate) mod qr;
pub(crate) mod recovery;
pub(crate) mod stage;
pub(crate) mod store;
#[doc(hidden)]
#[cfg(feature = "test-util")]
pub mod testing;
pub(crate) mod totp;
pub(crate) mod views;
#[cfg(feature = "passkeys")]
pub(crate) mod webauthn;

use serde::{Deserialize, Serialize};

pub use crate::settings::MfaRequired;
pub use admin::{FactorStatus, MfaAdmin};
pub use forms::INVALID_CODE;
#[cfg(feature = "passkeys")]
pub(crate) use passkey::{
    WEBAUTHN, add_passkey, passkeys, registered, relying_party, remove_passkey, rename_passkey,
    user_handle, user_of_handle, verify_passkey, verify_registered,
};
#[cfg(feature = "passkeys")]
pub use views::PasskeysView;
pub use views::{
    MfaAuthenticateView, MfaIndexView, RecoveryCodesView, TotpActivateView, TotpDeactivateView,
};

use crate::{
    apps::{FeatureApp, Shared},
    events::EventKind,
    kernel::error::Result,
    login::Session,
    session::metadata::unix,
};

/// Two-factor login as the builder installs it: its templates, its table,
/// its system checks, and the login stage that asks for the second factor.
pub(crate) const APP: FeatureApp = FeatureApp {
    templates: TEMPLATES,
    migrate: Some(|db| Box::pin(store::migrate(db))),
    check: Some(checks::check),
    stage: Some(&stage::TwoFactor),
    ..FeatureApp::NOTHING
};

/// Passkeys as the builder installs them: "Sign in with a passkey" on the
/// login page (as a second factor, they are part of [`APP`]).
#[cfg(feature = "passkeys")]
pub(crate) const PASSKEYS_APP: FeatureApp = FeatureApp {
    login_method: Some(&views::PasskeyLogin),
    validate: Some(check_passkey_site),
    build: Some(|building| {
        let signer = building.secrets.salted(challenge::CHALLENGE_SALT);
        building
            .extensions
            .insert(challenge::Challenges::new(signer));
    }),
    ..FeatureApp::NOTHING
};

/// Passkeys are bound to the site's host and origin: with a
/// `PasskeysView` declared, `AUTH_SITE_URL` must name them (an error
/// otherwise, rather than passkeys that fail in the browser).
#[cfg(feature = "passkeys")]
fn check_passkey_site(
    urls: &crate::urls::Urls,
    settings: &crate::settings::Settings,
) -> crate::kernel::error::Result<()> {
    let Some(path) = urls.path_of_view("PasskeysView") else {
        return Ok(());
    };
    let Some(site) = settings.passkey_site() else {
        return Err(crate::kernel::error::Error::Config(format!(
            "the PasskeysView at {path} needs AUTH_SITE_URL (https://your.site), or \
             AUTH_MFA_PASSKEY_ORIGIN (http://localhost:PORT in development): passkeys are \
             bound to the site's host"
        )));
    };
    crate::mfa::webauthn::RelyingParty::from_site_url(site)
        .map(|_| ())
        .map_err(|err| crate::kernel::error::Error::Config(format!("the passkey site {err}")))
}

/// The two-factor views' templates, to register as built-ins.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "mfa/authenticate.html",
        include_str!("../../templates/mfa/authenticate.html"),
    ),
    (
        "mfa/index.html",
        include_str!("../../templates/mfa/index.html"),
    ),
    (
        "mfa/totp_activate.html",
        include_str!("../../templates/mfa/totp_activate.html"),
    ),
    (
        "mfa/totp_deactivate.html",
        include_str!("../../templates/mfa/totp_deactivate.html"),
    ),
    (
        "mfa/recovery_codes.html",
        include_str!("../../templates/mfa/recovery_codes.html"),
    ),
    #[cfg(feature = "passkeys")]
    (
        "mfa/passkeys.html",
        include_str!("../../templates/mfa/passkeys.html"),
    ),
    #[cfg(feature = "passkeys")]
    (
        "mfa/passkey_login.html",
        include_str!("../../templates/mfa/passkey_login.html"),
    ),
    #[cfg(feature = "passkeys")]
    (
        "mfa/passkey_script.html",
        include_str!("../../templates/mfa/passkey_script.html"),
    ),
];

/// The `kind` of a TOTP row.
pub(crate) const TOTP: &str = "totp";
/// The `kind` of a recovery-code row.
pub(crate) const RECOVERY_CODES: &str = "recovery_codes";

/// A TOTP row's state.
#[derive(Debug, Serialize, Deserialize)]
struct TotpState {
    /// The secret, base32.
    secret: String,
    /// The last step a code was accepted for.
    last_step: Option<u64>,
}

/// A recovery-code row's state.
#[derive(Debug, Serialize, Deserialize)]
struct RecoveryState {
    /// The codes not used yet, as stored (see `recovery.rs`).
    codes: Vec<String>,
    /// How many the set had.
    total: usize,
}

/// Which factor passed the second step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Passed {
    /// A code from the authenticator app.
    Totp,
    /// A recovery code (now used up).
    RecoveryCode,
    /// A passkey.
    #[cfg(feature = "passkeys")]
    Passkey,
}

impl Passed {
    /// The name in the session's metadata and the audit log.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Passed::Totp => "totp",
            Passed::RecoveryCode => "recovery_code",
            #[cfg(feature = "passkeys")]
            Passed::Passkey => "passkey",
        }
    }
}

/// A factor's state as stored.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("factor state serialises")
}

/// Whether `user_id` has a second factor (recovery codes alone are not
/// one: they back one up).
pub(crate) async fn has_second_factor(shared: &Shared, user_id: i64) -> Result<bool> {
    let rows = shared
        .db
        .run(store::list(shared.db.conn(), user_id))
        .await?;
    Ok(rows.iter().any(|row| row.kind != RECOVERY_CODES))
}

/// Whether `user` must have a second factor (`AUTH_MFA_REQUIRED`).
pub(crate) async fn required(shared: &Shared, user: &crate::user::AbstractUser) -> Result<bool> {
    use crate::settings::MfaRequired;
    Ok(match shared.settings.mfa_required {
        MfaRequired::None => false,
        MfaRequired::Staff => user.is_staff || user.is_superuser,
        MfaRequired::Superusers => user.is_superuser,
        MfaRequired::Groups => {
            let groups = &shared.settings.mfa_required_groups;
            shared
                .permissions
                .in_any_group(&shared.db, user.id, groups)
                .await?
        }
    })
}

/// Whether TOTP is active for `user_id`.
pub(crate) async fn totp_active(shared: &Shared, user_id: i64) -> Result<bool> {
    let row = shared
        .db
        .run(store::find(shared.db.conn(), user_id, TOTP))
        .await?;
    Ok(row.is_some())
}

/// How many recovery codes `user_id` has left, of how many.
pub(crate) async fn recovery_codes_left(
    shared: &Shared,
    user_id: i64,
) -> Result<Option<(usize, usize)>> {
    let row = shared
        .db
        .run(store::find(shared.db.conn(), user_id, RECOVERY_CODES))
        .await?;
    Ok(row
        .and_then(|row| serde_json::from_str::<RecoveryState>(&row.data).ok())
        .map(|state| (state.codes.len(), state.total)))
}

/// Checks a second-step `code` of `user_id`: a TOTP code (6 digits), else
/// a recovery code. The factor that accepted it, its use recorded (the
/// TOTP step, or the recovery code struck off) atomically: a code that
/// races another request with the same code passes once.
pub(crate) async fn verify(shared: &Shared, user_id: i64, code: &str) -> Result<Option<Passed>> {
    let conn = shared.db.conn();
    let now = shared.clock.now();
    if is_totp_code(code)
        && let Some(row) = shared.db.run(store::find(conn, user_id, TOTP)).await?
    {
        let Ok(mut state) = serde_json::from_str::<TotpState>(&row.data) else {
            return Ok(None);
        };
        let Some(secret) = totp::from_base32(&state.secret) else {
            return Ok(None);
        };
        let tolerance = shared.settings.mfa_totp_tolerance;
        let Some(step) = totp::verify(&secret, code, unix(now) as u64, tolerance, state.last_step)
        else {
            return Ok(None);
        };
        state.last_step = Some(step);
        let swapped = store::swap(conn, row.id, &row.data, json(&state), Some(now));
        return Ok(shared.db.run(swapped).await?.then_some(Passed::Totp));
    }
    let Some(typed) = recovery::normal(code) else {
        return Ok(None);
    };
    let Some(row) = shared
        .db
        .run(store::find(conn, user_id, RECOVERY_CODES))
        .await?
    else {
        return Ok(None);
    };
    let Ok(mut state) = serde_json::from_str::<RecoveryState>(&row.data) else {
        return Ok(None);
    };
    let index = match recovery::candidate(&state.codes, &typed) {
        None => return Ok(None),
        Some(recovery::Candidate::Legacy { index }) => index,
        Some(recovery::Candidate::Hashed { index, hash }) => {
            if !shared.hasher.check_async(&typed, hash).await?.is_match() {
                return Ok(None);
            }
            index
        }
    };
    state.codes.remove(index);
    let swapped = store::swap(conn, row.id, &row.data, json(&state), Some(now));
    Ok(shared
        .db
        .run(swapped)
        .await?
        .then_some(Passed::RecoveryCode))
}

/// Whether `code` has a TOTP code's shape: 6 digits and nothing else
/// (spaces and dashes aside). A recovery code is 12 letters and digits, of
/// which 6 may well be digits: counting digits alone sent about one set
/// of recovery codes in three to the TOTP check.
fn is_totp_code(code: &str) -> bool {
    let typed: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    typed.len() == totp::DIGITS as usize && typed.bytes().all(|b| b.is_ascii_digit())
}

/// Activates TOTP for `user_id` with `secret` if `code` is its current
/// code: `Ok(None)` when the code is wrong; else the new recovery codes to
/// show, when the user had none.
pub(crate) async fn activate_totp(
    shared: &Shared,
    user_id: i64,
    secret: &[u8],
    code: &str,
) -> Result<Option<Option<Vec<String>>>> {
    let now = shared.clock.now();
    let tolerance = shared.settings.mfa_totp_tolerance;
    let Some(step) = totp::verify(secret, code, unix(now) as u64, tolerance, None) else {
        return Ok(None);
    };
    let conn = shared.db.conn();
    let state = TotpState {
        secret: totp::base32(secret),
        last_step: Some(step),
    };
    shared
        .db
        .run(store::delete(conn, user_id, Some(TOTP)))
        .await?;
    shared
        .db
        .run(store::insert(conn, user_id, TOTP, json(&state), None, now))
        .await?;
    let codes = if recovery_codes_left(shared, user_id).await?.is_none() {
        Some(regenerate_recovery_codes(shared, user_id).await?)
    } else {
        None
    };
    Ok(Some(codes))
}

/// Turns TOTP off for `user_id` (and the recovery codes with it when no
/// other second factor is left); whether it was on.
pub(crate) async fn deactivate_totp(shared: &Shared, user_id: i64) -> Result<bool> {
    let conn = shared.db.conn();
    let removed = shared
        .db
        .run(store::delete(conn, user_id, Some(TOTP)))
        .await?;
    if !has_second_factor(shared, user_id).await? {
        shared
            .db
            .run(store::delete(conn, user_id, Some(RECOVERY_CODES)))
            .await?;
    }
    Ok(removed > 0)
}

/// A new set of recovery codes for `user_id`, replacing the old one; the
/// codes, to show once.
pub(crate) async fn regenerate_recovery_codes(
    shared: &Shared,
    user_id: i64,
) -> Result<Vec<String>> {
    let codes = recovery::generate();
    let mut stored = Vec::with_capacity(codes.len());
    for code in &codes {
        let normal = recovery::normal(code).unwrap_or_default();
        let hash = shared.hasher.make_async(&normal).await?;
        stored.push(recovery::stored(&normal, &hash));
    }
    let state = RecoveryState {
        total: stored.len(),
        codes: stored,
    };
    let conn = shared.db.conn();
    shared
        .db
        .run(store::delete(conn, user_id, Some(RECOVERY_CODES)))
        .await?;
    shared
        .db
        .run(store::insert(
            conn,
            user_id,
            RECOVERY_CODES,
            json(&state),
            None,
            shared.clock.now(),
        ))
        .await?;
    Ok(codes)
}

/// After a change to `user`'s factors from `session`: the event (the
/// security mail is its sink's), and every other session of the user
/// ended (and every login of theirs waiting for its second step).
pub(crate) async fn changed(
    session: &Session,
    user_id: i64,
    username: &str,
    kind: EventKind,
    factor: &str,
) -> Result<()> {
    let request = &session.request;
    let mut event = request.event(kind).user(user_id, username);
    event.backend = factor.to_owned();
    request.shared.events.emit(event);
    crate::login::registry::end_all_other(session).await?;
    Ok(())
}

/// Records in this session's metadata (the sessions list, the audit
/// trail) that its login passed `factor` too: `auth.ModelBackend+totp`.
pub(crate) async fn record_factor(session: &Session, factor: Passed) -> Result<()> {
    let request = &session.request;
    if let Some(mut metadata) = request.metadata().await? {
        metadata.method = format!("{}+{}", metadata.method, factor.as_str());
        request
            .session
            .insert(crate::session::metadata::METADATA_KEY, metadata)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_six_digits_are_a_totp_code() {
        for code in ["123456", "123 456", "123-456"] {
            assert!(is_totp_code(code), "{code}");
        }
        for code in [
            "a2b3-c4d5-e6f7",
            "2345-6789-abcd",
            "12345",
            "1234567",
            "12345x",
            "",
        ] {
            assert!(!is_totp_code(code), "{code}");
        }
        // Every recovery code goes to the recovery check.
        for _ in 0..200 {
            let codes = recovery::generate();
            assert!(codes.iter().all(|code| !is_totp_code(code)));
        }
    }
}
