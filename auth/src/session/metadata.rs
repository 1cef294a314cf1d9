//! What a logged-in session records about itself, beside Django's three
//! keys: when it logged in, when it was last seen, when its user last
//! proved who they are (a login or a re-authentication), the client's
//! address and user agent, how it logged in, and whether its cookie lasts
//! only as long as the browser. Kept in the session's own data under one
//! key, so every store (SQL, Redis, an app's own) carries it unchanged.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The session key the metadata lives under.
pub(crate) const METADATA_KEY: &str = "_auth_session";
/// Set on the fresh session of a request whose session was ended by a
/// timeout: the login page says so once, then removes it.
pub(crate) const EXPIRED_KEY: &str = "_auth_session_expired";
/// A message for the login page to show once (a staged login ended on
/// wrong answers, say), set on the anonymous session that goes there.
pub(crate) const NOTICE_KEY: &str = "_auth_login_notice";
/// The longest user agent kept, in bytes.
pub(crate) const USER_AGENT_MAX_BYTES: usize = 512;

/// A logged-in session's record of itself (times are Unix seconds, from
/// the app's clock).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionMetadata {
    /// When the user logged in on this session.
    pub(crate) created: i64,
    /// When the session was last used (written at most once per
    /// [`Settings::activity_resolution`](crate::Settings::activity_resolution)).
    pub(crate) seen: i64,
    /// When the user last proved who they are here.
    pub(crate) authed: i64,
    /// The client's address at login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ip: Option<String>,
    /// The client's `User-Agent` at login, at most 512 bytes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) agent: String,
    /// How the user logged in (the backend's name).
    #[serde(default)]
    pub(crate) method: String,
    /// Whether the cookie is a browser-session cookie (remember me not
    /// ticked): then the session also ends after the idle lifetime.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) browser: bool,
}

impl SessionMetadata {
    /// The metadata in a session's data, if it has readable metadata.
    #[cfg_attr(not(feature = "user-sessions"), allow(dead_code))]
    pub(crate) fn from_data(
        data: &std::collections::HashMap<String, serde_json::Value>,
    ) -> Option<Self> {
        serde_json::from_value(data.get(METADATA_KEY)?.clone()).ok()
    }

    /// The times of the metadata in a session's data, read in place (no
    /// copy): what every request checks.
    pub(crate) fn times_in(
        data: &std::collections::HashMap<String, serde_json::Value>,
    ) -> Option<Times> {
        Times::of(data.get(METADATA_KEY)?)
    }
}

/// The times a request checks (see [`SessionMetadata`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Times {
    pub(crate) created: i64,
    pub(crate) seen: i64,
    pub(crate) authed: i64,
    pub(crate) browser: bool,
}

impl Times {
    /// The times in a metadata value, if it has them.
    pub(crate) fn of(value: &serde_json::Value) -> Option<Times> {
        let object = value.as_object()?;
        let number = |key: &str| object.get(key).and_then(serde_json::Value::as_i64);
        Some(Times {
            created: number("created")?,
            seen: number("seen")?,
            authed: number("authed")?,
            browser: object
                .get("browser")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
        })
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Unix seconds of `at`.
pub(crate) fn unix(at: OffsetDateTime) -> i64 {
    at.unix_timestamp()
}

/// The time of Unix seconds `secs` (the epoch for one out of range).
#[cfg_attr(not(feature = "user-sessions"), allow(dead_code))]
pub(crate) fn from_unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_what_metadata_writes() {
        let metadata = SessionMetadata {
            created: 10,
            seen: 20,
            authed: 15,
            ip: Some("192.0.2.1".into()),
            agent: "curl/8".into(),
            method: "model".into(),
            browser: true,
        };
        let value = serde_json::to_value(&metadata).unwrap();
        assert_eq!(
            Times::of(&value),
            Some(Times {
                created: 10,
                seen: 20,
                authed: 15,
                browser: true
            })
        );
        let data = std::collections::HashMap::from([(METADATA_KEY.to_owned(), value)]);
        assert_eq!(SessionMetadata::from_data(&data), Some(metadata));
        assert_eq!(Times::of(&serde_json::json!({"created": 1})), None);
        assert_eq!(Times::of(&serde_json::json!("x")), None);
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("", 0), "");
    }
}
