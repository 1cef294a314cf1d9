//! The keys under which the logged-in user lives in the session, with
//! Django's names and values (so an imported Django session table keeps
//! working with the same secret key).

/// The logged-in user's id (Django's `SESSION_KEY`).
pub(crate) const SESSION_KEY: &str = "_auth_user_id";
/// The session auth hash (Django's `HASH_SESSION_KEY`).
pub(crate) const HASH_SESSION_KEY: &str = "_auth_user_hash";
/// The name of the backend that logged the user in (Django's
/// `BACKEND_SESSION_KEY`).
pub(crate) const BACKEND_SESSION_KEY: &str = "_auth_user_backend";
/// A login waiting for a later step (the second factor, or setting one
/// up): the user's id and what the step needs. The session has no
/// [`SESSION_KEY`] meanwhile, so it is anonymous to everything else.
pub(crate) const PENDING_LOGIN_KEY: &str = "_auth_mfa_pending";
/// Django's key salt for the session auth hash.
pub(crate) const SESSION_HASH_SALT: &str =
    "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

/// The id of the user logged in on a session with `data` (Django's
/// `_auth_user_id`, a string), if any.
pub(crate) fn user_id_in(
    data: &std::collections::HashMap<String, serde_json::Value>,
) -> Option<i64> {
    match data.get(SESSION_KEY)? {
        serde_json::Value::String(id) => id.parse().ok(),
        _ => None,
    }
}

/// The user a session with `data` belongs to: the logged-in user, else
/// the user of its pending login. What the stores index sessions by, so
/// that ending a user's sessions ends their pending logins too.
pub(crate) fn owner_in(data: &std::collections::HashMap<String, serde_json::Value>) -> Option<i64> {
    user_id_in(data).or_else(|| {
        let user = data.get(PENDING_LOGIN_KEY)?.get("user")?;
        user.as_i64()
    })
}
