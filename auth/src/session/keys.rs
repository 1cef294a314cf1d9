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
