//! The session auth hash (Django's `get_session_auth_hash`): an HMAC of the
//! stored password hash under the secret key, kept in the session at login
//! and compared on every request, so a password change (or a secret
//! rotated without a fallback) ends every other session of the user.

use std::{collections::HashMap, sync::Arc, sync::Mutex};

use crate::kernel::crypto::constant_time_eq;
use crate::settings::secret::{KeyMatch, SaltedMac};

/// Makes and checks session auth hashes; each password hash's is computed
/// once (an HMAC per request was most of what a cached request cost).
pub(crate) struct AuthHash {
    mac: SaltedMac,
    /// Hashes by stored password hash, at most `capacity`.
    memo: Mutex<HashMap<String, Arc<str>, foldhash::fast::RandomState>>,
    capacity: usize,
}

impl AuthHash {
    pub(crate) fn new(mac: SaltedMac, capacity: usize) -> Self {
        AuthHash {
            mac,
            memo: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// The session auth hash of a stored password hash, under the current
    /// key.
    pub(crate) fn of(&self, password_hash: &str) -> Arc<str> {
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hash) = memo.get(password_hash) {
            return hash.clone();
        }
        let hash: Arc<str> = self.mac.hex(password_hash.as_bytes()).into();
        if memo.len() >= self.capacity {
            memo.clear();
        }
        memo.insert(password_hash.to_owned(), hash.clone());
        hash
    }

    /// Which key made `stored` for `password_hash`, in constant time.
    pub(crate) fn verify(&self, password_hash: &str, stored: &str) -> KeyMatch {
        let current = self.of(password_hash);
        if constant_time_eq(current.as_bytes(), stored.as_bytes()) {
            KeyMatch::Current
        } else {
            // Made under a fallback key, or not by this site.
            self.mac.verify(password_hash.as_bytes(), stored)
        }
    }
}
