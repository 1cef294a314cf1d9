//! Two-factor login: TOTP codes from an authenticator app and single-use
//! recovery codes, with a staged login (the password, then the second
//! factor) and the views to manage both.
//!
//! - `totp.rs`: RFC 6238 codes; `recovery.rs`: recovery codes;
//! - `store.rs`: the `auth_authenticator` table, one row per factor;
//! - `pending.rs`: the session's state between the two steps;
//! - `qr.rs`: the enrolment QR code as inline SVG;
//! - here: what the views ask of them (`verify`, `activate_totp`, …)
//!   and the administration API, [`MfaAdmin`] (`auth.mfa()`).
//!
//! The built-in `LoginView` stages the login when an `MfaAuthenticateView`
//! is declared and the user has a second factor; [`login`](crate::login)
//! itself is the full login, for custom views that did their own checks.

pub(crate) mod pending;
pub(crate) mod qr;
pub(crate) mod recovery;
pub(crate) mod store;
pub(crate) mod totp;
pub(crate) mod webauthn;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Result, Session,
    app::shared::Shared,
    events::{EventKind, notify},
    session::metadata::unix,
};

/// The `kind` of a TOTP row.
pub(crate) const TOTP: &str = "totp";
/// The `kind` of a recovery-code row.
pub(crate) const RECOVERY_CODES: &str = "recovery_codes";

/// The `kind` of a passkey row (one per passkey).
pub(crate) const WEBAUTHN: &str = "webauthn";

/// A passkey row's state.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PasskeyState {
    /// The credential id, base64url.
    credential: String,
    /// The public key (SEC1), base64url.
    public_key: String,
    /// The sign counter at the last use.
    sign_count: u32,
    /// The name the user gave it.
    name: String,
}

impl PasskeyState {
    fn credential(&self) -> Option<webauthn::Credential> {
        use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
        Some(webauthn::Credential {
            id: URL_SAFE_NO_PAD.decode(&self.credential).ok()?,
            public_key: URL_SAFE_NO_PAD.decode(&self.public_key).ok()?,
            sign_count: self.sign_count,
        })
    }
}

/// One of a user's passkeys, for the passkeys page.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Passkey {
    /// The row id (what the rename and remove forms name).
    pub(crate) id: i64,
    /// Its name.
    pub(crate) name: String,
    /// When it was added.
    pub(crate) created: OffsetDateTime,
    /// When it last let the user in.
    pub(crate) last_used: Option<OffsetDateTime>,
    /// The credential id (bytes).
    #[serde(skip)]
    pub(crate) credential_id: Vec<u8>,
}

/// The relying party of this site (`AUTH_SITE_URL`); a configuration
/// error without one (the build refuses to start then, when a passkey
/// view is declared).
pub(crate) fn relying_party(shared: &Shared) -> Result<webauthn::RelyingParty> {
    let site = shared.settings.passkey_site().ok_or_else(|| {
        crate::Error::Config("passkeys need AUTH_SITE_URL (https://your.site)".into())
    })?;
    webauthn::RelyingParty::from_site_url(site)
        .map_err(|err| crate::Error::Config(format!("the passkey site {err}")))
}

/// `user_id`'s passkeys, oldest first.
pub(crate) async fn passkeys(shared: &Shared, user_id: i64) -> Result<Vec<Passkey>> {
    let rows = shared
        .db
        .run(store::list(shared.db.conn(), user_id))
        .await?;
    Ok(rows
        .into_iter()
        .filter(|row| row.kind == WEBAUTHN)
        .filter_map(|row| {
            let state: PasskeyState = serde_json::from_str(&row.data).ok()?;
            Some(Passkey {
                id: row.id,
                credential_id: state.credential()?.id,
                name: state.name,
                created: row.created_at,
                last_used: row.last_used_at,
            })
        })
        .collect())
}

/// The user handle of `user_id` in passkeys: the id, 8 bytes big-endian
/// (no name or address in it, as the specification asks).
pub(crate) fn user_handle(user_id: i64) -> Vec<u8> {
    user_id.to_be_bytes().to_vec()
}

/// The user id of a user handle.
pub(crate) fn user_of_handle(handle: &[u8]) -> Option<i64> {
    Some(i64::from_be_bytes(handle.try_into().ok()?))
}

/// Adds a verified passkey named `name` for `user_id`; the new recovery
/// codes to show, when the user had none.
pub(crate) async fn add_passkey(
    shared: &Shared,
    user_id: i64,
    credential: &webauthn::Credential,
    name: &str,
) -> Result<Option<Vec<String>>> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let state = PasskeyState {
        credential: URL_SAFE_NO_PAD.encode(&credential.id),
        public_key: URL_SAFE_NO_PAD.encode(&credential.public_key),
        sign_count: credential.sign_count,
        name: name.to_owned(),
    };
    let now = shared.clock.now();
    shared
        .db
        .run(store::insert(
            shared.db.conn(),
            user_id,
            WEBAUTHN,
            json(&state),
            now,
        ))
        .await?;
    Ok(if recovery_codes_left(shared, user_id).await?.is_none() {
        Some(regenerate_recovery_codes(shared, user_id).await?)
    } else {
        None
    })
}

/// Renames passkey `id` of `user_id`; whether it is theirs.
pub(crate) async fn rename_passkey(
    shared: &Shared,
    user_id: i64,
    id: i64,
    name: &str,
) -> Result<bool> {
    let conn = shared.db.conn();
    let rows = shared.db.run(store::list(conn, user_id)).await?;
    let Some(row) = rows
        .into_iter()
        .find(|row| row.id == id && row.kind == WEBAUTHN)
    else {
        return Ok(false);
    };
    let Ok(mut state) = serde_json::from_str::<PasskeyState>(&row.data) else {
        return Ok(false);
    };
    state.name = name.to_owned();
    shared
        .db
        .run(store::swap(conn, row.id, &row.data, json(&state), None))
        .await
}

/// Removes passkey `id` of `user_id` (and the recovery codes when no
/// second factor is left); whether it was theirs.
pub(crate) async fn remove_passkey(shared: &Shared, user_id: i64, id: i64) -> Result<bool> {
    let conn = shared.db.conn();
    let passkey = passkeys(shared, user_id)
        .await?
        .into_iter()
        .any(|p| p.id == id);
    if !passkey || !shared.db.run(store::delete_row(conn, user_id, id)).await? {
        return Ok(false);
    }
    if !has_second_factor(shared, user_id).await? {
        shared
            .db
            .run(store::delete(conn, user_id, Some(RECOVERY_CODES)))
            .await?;
    }
    Ok(true)
}

/// Checks a passkey `assertion` of `user_id` against `challenge` (with
/// `verify`, the authenticator must have verified the user): whether it
/// passed, its counter stored. A counter that went back (a cloned
/// authenticator) is refused and logged.
pub(crate) async fn verify_passkey(
    shared: &Shared,
    user_id: i64,
    assertion: &webauthn::Assertion,
    challenge: &[u8],
    verify: bool,
) -> Result<bool> {
    let rp = relying_party(shared)?;
    let conn = shared.db.conn();
    let rows = shared.db.run(store::list(conn, user_id)).await?;
    let found = rows
        .into_iter()
        .filter(|row| row.kind == WEBAUTHN)
        .find_map(|row| {
            let state: PasskeyState = serde_json::from_str(&row.data).ok()?;
            let credential = state.credential()?;
            (credential.id == assertion.id).then_some((row, state, credential))
        });
    let Some((row, mut state, credential)) = found else {
        return Ok(false);
    };
    match webauthn::verify_assertion(&rp, challenge, assertion, &credential, verify) {
        Ok(count) => {
            state.sign_count = count;
            let now = shared.clock.now();
            let swap = store::swap(conn, row.id, &row.data, json(&state), Some(now));
            shared.db.run(swap).await
        }
        Err(err @ webauthn::WebauthnError::CounterRegressed { .. }) => {
            tracing::warn!(
                user_id,
                passkey = %state.name,
                error = %err,
                "a passkey was refused: its sign counter went back (a cloned authenticator?)"
            );
            Ok(false)
        }
        Err(err) => {
            tracing::info!(user_id, error = %err, "a passkey assertion was refused");
            Ok(false)
        }
    }
}

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
    /// The digests of the codes not used yet.
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
    Passkey,
}

impl Passed {
    /// The name in the session's metadata and the audit log.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Passed::Totp => "totp",
            Passed::RecoveryCode => "recovery_code",
            Passed::Passkey => "passkey",
        }
    }
}

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
pub(crate) async fn required(shared: &Shared, user: &crate::AbstractUser) -> Result<bool> {
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
        let Some(step) = totp::verify(&secret, code, unix(now) as u64, state.last_step) else {
            return Ok(None);
        };
        state.last_step = Some(step);
        let swapped = store::swap(conn, row.id, &row.data, json(&state), Some(now));
        return Ok(shared.db.run(swapped).await?.then_some(Passed::Totp));
    }
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
    let Some(index) = recovery::find(&state.codes, code) else {
        return Ok(None);
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
    let Some(step) = totp::verify(secret, code, unix(now) as u64, None) else {
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
        .run(store::insert(conn, user_id, TOTP, json(&state), now))
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
    let (codes, digests) = recovery::generate();
    let state = RecoveryState {
        total: digests.len(),
        codes: digests,
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
            shared.clock.now(),
        ))
        .await?;
    Ok(codes)
}

/// After a change to `user`'s factors from `session`: the event, and
/// every other session of the user ended.
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
    notify::emit(&request.shared, event);
    crate::sessions::end_all_other(session).await?;
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

/// The TOTP code of `secret` (base32, as `TotpActivateView` shows it) at
/// Unix time `at`: what an authenticator app shows then. For an app's own
/// tests and tools; `None` when `secret` is not base32.
pub fn totp_code(secret: &str, at: u64) -> Option<String> {
    let secret = totp::from_base32(secret)?;
    Some(totp::code(&secret, totp::step_at(at)))
}

/// One factor of a user, for administration ([`MfaAdmin::status`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FactorStatus {
    /// `totp` or `recovery_codes`.
    pub kind: String,
    /// When it was added.
    pub created: OffsetDateTime,
    /// When it last let the user in.
    pub last_used: Option<OffsetDateTime>,
    /// For recovery codes: how many are left, of how many.
    pub codes_left: Option<(usize, usize)>,
}

/// Every user's second factors, for administration: from
/// [`Auth::mfa`](crate::Auth::mfa).
pub struct MfaAdmin<'a> {
    pub(crate) shared: &'a std::sync::Arc<Shared>,
}

impl MfaAdmin<'_> {
    /// The factors of user `user_id`, oldest first (`mfa status`).
    pub async fn status(&self, user_id: i64) -> Result<Vec<FactorStatus>> {
        let shared = self.shared;
        let rows = shared
            .db
            .run(store::list(shared.db.conn(), user_id))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| FactorStatus {
                codes_left: (row.kind == RECOVERY_CODES)
                    .then(|| serde_json::from_str::<RecoveryState>(&row.data).ok())
                    .flatten()
                    .map(|state| (state.codes.len(), state.total)),
                kind: row.kind,
                created: row.created_at,
                last_used: row.last_used_at,
            })
            .collect())
    }

    /// Removes every factor of user `user_id` and ends every session of
    /// theirs (`mfa reset`: an administrator helping a user who lost their
    /// device); how many factors were removed.
    pub async fn reset(&self, user_id: i64) -> Result<u64> {
        let shared = self.shared;
        let removed = shared
            .db
            .run(store::delete(shared.db.conn(), user_id, None))
            .await?;
        crate::sessions::SessionAdmin { shared }
            .end_all_for(user_id)
            .await?;
        if removed > 0 {
            let mut event = crate::events::Event::new(EventKind::MfaDisabled, shared.clock.now());
            event.user_id = Some(user_id);
            event.backend = "all".into();
            shared.events.emit(event);
        }
        Ok(removed)
    }
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
            let (codes, _) = recovery::generate();
            assert!(codes.iter().all(|code| !is_totp_code(code)));
        }
    }
}
