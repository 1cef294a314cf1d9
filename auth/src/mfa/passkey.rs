//! Passkeys as stored: one `webauthn` row per passkey (credential id,
//! public key, sign counter, name), and what the views do with them (add,
//! rename, remove, check an assertion).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    RECOVERY_CODES, has_second_factor, json, recovery_codes_left, regenerate_recovery_codes, store,
    webauthn,
};
use crate::{apps::Shared, kernel::error::Result};

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
        crate::kernel::error::Error::Config(
            "passkeys need AUTH_SITE_URL (https://your.site)".into(),
        )
    })?;
    webauthn::RelyingParty::from_site_url(site)
        .map_err(|err| crate::kernel::error::Error::Config(format!("the passkey site {err}")))
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

/// Adds a verified passkey named `name` for `user_id`: the new recovery
/// codes to show, when the user had none; `Err(Taken)` when that
/// credential is registered already (to anyone: a credential id is one
/// key, and a login with a passkey alone finds its user by it).
pub(crate) async fn add_passkey(
    shared: &Shared,
    user_id: i64,
    credential: &webauthn::Credential,
    name: &str,
) -> Result<std::result::Result<Option<Vec<String>>, Taken>> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let conn = shared.db.conn();
    if shared
        .db
        .run(store::find_credential(conn, &credential.id))
        .await?
        .is_some()
    {
        return Ok(Err(Taken));
    }
    let state = PasskeyState {
        credential: URL_SAFE_NO_PAD.encode(&credential.id),
        public_key: URL_SAFE_NO_PAD.encode(&credential.public_key),
        sign_count: credential.sign_count,
        name: name.to_owned(),
    };
    let now = shared.clock.now();
    let inserted = shared
        .db
        .run(store::insert(
            conn,
            user_id,
            WEBAUTHN,
            json(&state),
            Some(&credential.id),
            now,
        ))
        .await;
    match inserted {
        Ok(()) => {}
        // Another request added the same credential in between.
        Err(crate::kernel::error::Error::Database(err)) if is_unique_violation(&err) => {
            return Ok(Err(Taken));
        }
        Err(err) => return Err(err),
    }
    Ok(Ok(
        if recovery_codes_left(shared, user_id).await?.is_none() {
            Some(regenerate_recovery_codes(shared, user_id).await?)
        } else {
            None
        },
    ))
}

/// A credential is registered already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taken;

/// Whether `err` is a unique constraint's refusal, on any backend.
fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    let text = err.to_string();
    text.contains("UNIQUE") || text.contains("Duplicate entry") || text.contains("duplicate key")
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

/// The registered passkey of an assertion's credential, whoever's it
/// is: its owner, and what verifying it needs.
pub(crate) struct Registered {
    /// The user it belongs to.
    pub(crate) user_id: i64,
    row: store::Row,
    state: PasskeyState,
    credential: webauthn::Credential,
}

/// The passkey registered under `assertion`'s credential id, found
/// through the credential index (never through the user handle the
/// client sent).
pub(crate) async fn registered(
    shared: &Shared,
    assertion: &webauthn::Assertion,
) -> Result<Option<Registered>> {
    let row = shared
        .db
        .run(store::find_credential(shared.db.conn(), &assertion.id))
        .await?;
    Ok(row.and_then(|row| {
        let state: PasskeyState = serde_json::from_str(&row.data).ok()?;
        let credential = state.credential()?;
        (credential.id == assertion.id).then_some(Registered {
            user_id: row.user_id,
            row,
            state,
            credential,
        })
    }))
}

/// Checks a passkey `assertion` of `user_id` against `challenge` (with
/// `verify`, the authenticator must have verified the user): whether it
/// passed, its counter stored. An assertion of another user's passkey
/// does not pass.
pub(crate) async fn verify_passkey(
    shared: &Shared,
    user_id: i64,
    assertion: &webauthn::Assertion,
    challenge: &[u8],
    verify: bool,
) -> Result<bool> {
    match registered(shared, assertion).await? {
        Some(passkey) if passkey.user_id == user_id => {
            verify_registered(shared, passkey, assertion, challenge, verify).await
        }
        _ => Ok(false),
    }
}

/// Checks `assertion` by the registered `passkey` against `challenge`:
/// whether it passed, its counter stored. A counter that went back (a
/// cloned authenticator) is refused and logged.
pub(crate) async fn verify_registered(
    shared: &Shared,
    passkey: Registered,
    assertion: &webauthn::Assertion,
    challenge: &[u8],
    verify: bool,
) -> Result<bool> {
    let rp = relying_party(shared)?;
    let Registered {
        user_id,
        row,
        mut state,
        credential,
    } = passkey;
    match webauthn::verify_assertion(&rp, challenge, assertion, &credential, verify) {
        Ok(count) => {
            state.sign_count = count;
            let now = shared.clock.now();
            let swap = store::swap(shared.db.conn(), row.id, &row.data, json(&state), Some(now));
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
