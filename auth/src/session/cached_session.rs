//! A session as the in-process cache keeps it: compact, because a full
//! cache holds `AUTH_CACHE_MAX_ENTRIES` of them for as long as the server
//! runs.
//!
//! A tower-sessions [`Record`] is a `HashMap<String, serde_json::Value>`:
//! a table sized for growth, one allocation per key and per string, and a
//! B-tree for the metadata object, about 1 KB for a logged-in session. The
//! cache keeps instead the three keys every request reads (Django's user
//! id, backend and auth hash) as plain strings, the metadata's times, and
//! everything else as its JSON text, about half the size. A request that
//! reads only the user (most of them) uses the strings in place; one that
//! reads its session gets the [`Record`] back, parsed from the text.

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

use super::{
    keys::{BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY},
    metadata::{METADATA_KEY, Times},
};

/// A cached session (see the module docs).
#[derive(Debug)]
pub(crate) struct CachedSession {
    id: Id,
    expiry_date: OffsetDateTime,
    /// Django's `_auth_user_id`, when it is a string.
    user_id: Option<Box<str>>,
    /// Django's `_auth_user_backend`, when it is a string.
    backend: Option<Box<str>>,
    /// Django's `_auth_user_hash`, when it is a string.
    hash: Option<Box<str>>,
    /// The metadata's times, when it has them.
    times: Option<Times>,
    /// The rest of the data, as a JSON object.
    rest: Box<str>,
}

/// The three keys kept as strings, each only while it holds a string (a
/// key holding anything else stays in the JSON, as it was).
const KEPT: [&str; 3] = [SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY];

impl CachedSession {
    /// The compact form of `record`.
    pub(crate) fn new(record: &Record) -> Self {
        let kept = |key: &str| match record.data.get(key) {
            Some(Value::String(text)) => Some(Box::from(text.as_str())),
            _ => None,
        };
        let rest = serde_json::to_string(&Rest(&record.data))
            // A map of strings to JSON values always serializes.
            .unwrap_or_else(|_| "{}".into());
        CachedSession {
            id: record.id,
            expiry_date: record.expiry_date,
            user_id: kept(SESSION_KEY),
            backend: kept(BACKEND_SESSION_KEY),
            hash: kept(HASH_SESSION_KEY),
            times: record.data.get(METADATA_KEY).and_then(Times::of),
            rest: rest.into_boxed_str(),
        }
    }

    /// The record again, as it was cached.
    pub(crate) fn record(&self) -> Record {
        let mut data: HashMap<String, Value> = serde_json::from_str(&self.rest).unwrap_or_default();
        for (key, value) in KEPT
            .into_iter()
            .zip([&self.user_id, &self.backend, &self.hash])
        {
            if let Some(value) = value {
                data.insert(key.to_owned(), Value::String(value.to_string()));
            }
        }
        Record {
            id: self.id,
            data,
            expiry_date: self.expiry_date,
        }
    }

    /// Whether the session is past its expiry (refused on load, as the
    /// stores' own queries do).
    pub(crate) fn is_expired(&self) -> bool {
        self.expiry_date <= OffsetDateTime::now_utc()
    }

    /// Django's `_auth_user_id`, if it is a string.
    pub(crate) fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Django's `_auth_user_backend`, if it is a string.
    pub(crate) fn backend(&self) -> Option<&str> {
        self.backend.as_deref()
    }

    /// Django's `_auth_user_hash`, if it is a string.
    pub(crate) fn hash(&self) -> Option<&str> {
        self.hash.as_deref()
    }

    /// The times of the session's metadata, if it has them.
    pub(crate) fn times(&self) -> Option<Times> {
        self.times
    }
}

/// A session's data without the keys kept as strings.
struct Rest<'a>(&'a HashMap<String, Value>);

impl Serialize for Rest<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let is_kept = |key: &str, value: &Value| KEPT.contains(&key) && value.is_string();
        let rest = self.0.iter().filter(|(key, value)| !is_kept(key, value));
        let mut map = serializer.serialize_map(None)?;
        for (key, value) in rest {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(data: serde_json::Value) -> Record {
        Record {
            id: Id(7),
            data: serde_json::from_value(data).unwrap(),
            expiry_date: OffsetDateTime::now_utc() + time::Duration::hours(1),
        }
    }

    fn round_trip(data: serde_json::Value) {
        let original = record(data);
        let cached = CachedSession::new(&original);
        assert_eq!(cached.record(), original);
    }

    #[test]
    fn a_logged_in_session_comes_back_as_it_was() {
        round_trip(serde_json::json!({
            "_auth_user_id": "42",
            "_auth_user_backend": "auth.ModelBackend",
            "_auth_user_hash": "ab".repeat(32),
            "_auth_session": {"created": 1, "seen": 2, "authed": 3, "ip": "127.0.0.1",
                              "method": "auth.ModelBackend"},
            "cart": [1, 2, {"x": null}],
        }));
    }

    #[test]
    fn keys_that_are_not_strings_and_empty_sessions_come_back_too() {
        round_trip(serde_json::json!({}));
        round_trip(serde_json::json!({"_auth_user_id": 42, "_auth_user_hash": null}));
        round_trip(serde_json::json!({"_auth_user_backend": "b", "\"odd\\key\u{1}": "é"}));
    }

    #[test]
    fn the_keys_a_request_reads_are_there_without_parsing() {
        let cached = CachedSession::new(&record(serde_json::json!({
            "_auth_user_id": "42",
            "_auth_user_backend": "auth.ModelBackend",
            "_auth_user_hash": "h",
            "_auth_session": {"created": 1, "seen": 2, "authed": 3, "browser": true},
        })));
        assert_eq!(cached.user_id(), Some("42"));
        assert_eq!(cached.backend(), Some("auth.ModelBackend"));
        assert_eq!(cached.hash(), Some("h"));
        let times = cached.times().unwrap();
        assert_eq!(
            (times.created, times.seen, times.authed, times.browser),
            (1, 2, 3, true)
        );
        let numeric = CachedSession::new(&record(serde_json::json!({"_auth_user_id": 42})));
        assert_eq!(numeric.user_id(), None);
        assert!(!numeric.is_expired());
    }
}
