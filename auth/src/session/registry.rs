//! The session registry: the sessions a user is logged in on, which they
//! can see and end (OWASP ASVS 7.5.2; django-allauth's `usersessions`),
//! and an administrator can end (ASVS 7.4.5). Each logged-in session is
//! indexed by its user in the store (a `user_id` column on SQL, a set per
//! user on Redis) and carries its own metadata (`metadata.rs`).
//!
//! Sessions are named here by a *handle*, a digest of the session key,
//! never the key itself: a page listing sessions must not hand out the
//! cookies of the others.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

use super::{
    Session,
    device::device,
    keys::owner_in,
    metadata::{SessionMetadata, from_unix},
};
use crate::{
    Result,
    app::shared::Shared,
    events::{EndedBy, Event, EventKind},
};

/// One session of a user, as the session list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSession {
    /// The session's handle (a digest of its key, not the key): what
    /// [`end`] takes.
    pub key: String,
    /// When the user logged in on it.
    pub created: OffsetDateTime,
    /// When it was last used (to within `AUTH_SESSION_ACTIVITY_RESOLUTION`).
    pub last_seen: OffsetDateTime,
    /// The client's address at login, when known.
    pub ip_address: Option<String>,
    /// The client's `User-Agent` at login (at most 512 bytes).
    pub user_agent: String,
    /// A readable device line, such as "Firefox on Linux".
    pub device: String,
    /// How the user logged in (the authentication backend's name).
    pub method: String,
    /// Whether this is the session of the request that asked.
    pub current: bool,
}

impl UserSession {
    fn of(record: &Record, current: Option<Id>) -> Self {
        let metadata = SessionMetadata::from_data(&record.data).unwrap_or_default();
        UserSession {
            key: handle(&record.id),
            created: from_unix(metadata.created),
            last_seen: from_unix(metadata.seen),
            device: device(&metadata.agent),
            ip_address: metadata.ip,
            user_agent: metadata.agent,
            method: metadata.method,
            current: current == Some(record.id),
        }
    }
}

/// The handle of session `id`: the first 128 bits of its SHA-256, in hex.
fn handle(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    hex::encode(&digest[..16])
}

/// The first 8 characters of session `id`'s handle, as events and
/// `listsessions` show it.
pub(crate) fn handle_prefix(id: &Id) -> String {
    handle(id)[..8].to_owned()
}

/// A user's sessions, newest activity first.
async fn sessions_of(
    shared: &Shared,
    user_id: i64,
    current: Option<Id>,
) -> Result<Vec<UserSession>> {
    let records = shared.sessions.store.logged_in_sessions_of(user_id).await?;
    let mut sessions: Vec<UserSession> = records
        .iter()
        .map(|record| UserSession::of(record, current))
        .collect();
    sessions
        .sort_by(|a, b| (b.last_seen, b.created, &b.key).cmp(&(a.last_seen, a.created, &a.key)));
    Ok(sessions)
}

/// Deletes each of `records` from the store (and so from the cache, and
/// through the change notifications from other instances' caches), and
/// reports each as ended `by`.
pub(crate) async fn end_records(shared: &Shared, records: &[Record], by: EndedBy) -> Result<u64> {
    for record in records {
        shared.sessions.store.delete_session(&record.id).await?;
        let mut event = Event::new(EventKind::SessionEnded, shared.clock.now());
        event.user_id = owner_in(&record.data);
        event.session = handle_prefix(&record.id);
        event.ended_by = Some(by);
        shared.events.emit(event);
    }
    Ok(records.len() as u64)
}

/// The logged-in user's id and this request's session id; `None` when
/// anonymous.
async fn whose(session: &Session) -> Result<Option<(i64, Option<Id>)>> {
    let request = &session.request;
    Ok(request
        .user()
        .await?
        .map(|user| (user.base().id, request.session.id())))
}

/// The sessions the current user is logged in on, newest activity
/// first, this one marked `current`; empty for an anonymous request.
pub async fn list(session: &Session) -> Result<Vec<UserSession>> {
    let Some((user_id, current)) = whose(session).await? else {
        return Ok(Vec::new());
    };
    sessions_of(&session.request.shared, user_id, current).await
}

/// Ends the current user's session with handle `key` (from
/// [`UserSession::key`]): `false` when they have no such session (a key
/// of another user's session included). Ending this request's own
/// session logs it out.
pub async fn end(session: &Session, key: &str) -> Result<bool> {
    let Some((user_id, current)) = whose(session).await? else {
        return Ok(false);
    };
    let shared = &session.request.shared;
    let records = shared.sessions.store.logged_in_sessions_of(user_id).await?;
    let Some(record) = records.into_iter().find(|record| handle(&record.id) == key) else {
        return Ok(false);
    };
    if current == Some(record.id) {
        crate::logout(session).await?;
    } else {
        end_records(shared, &[record], EndedBy::User).await?;
    }
    Ok(true)
}

/// Ends every session of the current user but this one ("log out all
/// other sessions"), their pending logins included; how many.
pub async fn end_all_other(session: &Session) -> Result<u64> {
    let Some((user_id, current)) = whose(session).await? else {
        return Ok(0);
    };
    let shared = &session.request.shared;
    let others: Vec<Record> = shared
        .sessions
        .store
        .sessions_of(user_id)
        .await?
        .into_iter()
        .filter(|record| Some(record.id) != current)
        .collect();
    end_records(shared, &others, EndedBy::User).await
}

/// Every user's sessions, for administration:
/// [`Auth::sessions`](crate::Auth::sessions).
pub struct SessionAdmin<'a> {
    pub(crate) shared: &'a Arc<Shared>,
}

impl std::fmt::Debug for SessionAdmin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionAdmin").finish_non_exhaustive()
    }
}

impl SessionAdmin<'_> {
    /// The sessions user `user_id` is logged in on, newest activity first.
    pub async fn list_for(&self, user_id: i64) -> Result<Vec<UserSession>> {
        sessions_of(self.shared, user_id, None).await
    }

    /// Ends every session of user `user_id` (ASVS 7.4.5), and every login
    /// of theirs waiting for its second step; how many. Their
    /// next request is anonymous (on other instances within
    /// `AUTH_CACHE_MAX_STALENESS`).
    pub async fn end_all_for(&self, user_id: i64) -> Result<u64> {
        let records = self.shared.sessions.store.sessions_of(user_id).await?;
        end_records(self.shared, &records, EndedBy::Admin).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_stable_and_not_the_key() {
        let id = Id::default();
        assert_eq!(handle(&id), handle(&id));
        assert_eq!(handle(&id).len(), 32);
        assert!(!handle(&id).contains(&id.to_string()));
        assert_ne!(handle(&id), handle(&Id::default()));
    }
}
