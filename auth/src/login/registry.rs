//! The session registry's core: every logged-in session (and every login
//! waiting for its second step) is indexed by its user in the store (a
//! `user_id` column on SQL, a set per user on Redis), so that a user's
//! sessions can be ended together (deactivation, deletion, a factor
//! change, an administrator). What a user sees of their sessions (the
//! list, ending one) is the `user-sessions` feature's (`usersessions/`).
//!
//! Sessions are named by a *handle*, a digest of the session key, never
//! the key itself: a page listing sessions must not hand out the cookies of
//! the others.

use sha2::{Digest, Sha256};
use tower_sessions::session::{Id, Record};

use super::Session;
use crate::{
    apps::Shared,
    events::{EndedBy, Event, EventKind},
    kernel::error::Result,
    session::keys::owner_in,
};

/// The handle of session `id`: the first 128 bits of its SHA-256, in hex.
pub(crate) fn handle(id: &Id) -> String {
    let digest = Sha256::digest(id.to_string().as_bytes());
    hex::encode(&digest[..16])
}

/// The first 8 characters of session `id`'s handle, as events and
/// `listsessions` show it.
pub(crate) fn handle_prefix(id: &Id) -> String {
    handle(id)[..8].to_owned()
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
#[cfg_attr(not(any(feature = "mfa", feature = "user-sessions")), allow(dead_code))]
pub(crate) async fn whose(session: &Session) -> Result<Option<(i64, Option<Id>)>> {
    let request = &session.request;
    Ok(request
        .user()
        .await?
        .map(|user| (user.base().id, request.session.id())))
}

/// Ends every session of the current user but this one, their pending
/// logins included; how many.
#[cfg_attr(not(any(feature = "mfa", feature = "user-sessions")), allow(dead_code))]
pub(crate) async fn end_all_other(session: &Session) -> Result<u64> {
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

/// Ends every session of user `user_id`, and every login of theirs
/// waiting for its second step (ASVS 7.4.5), as `by`; how many.
#[cfg_attr(not(any(feature = "mfa", feature = "user-sessions")), allow(dead_code))]
pub(crate) async fn end_all_for(shared: &Shared, user_id: i64, by: EndedBy) -> Result<u64> {
    let records = shared.sessions.store.sessions_of(user_id).await?;
    end_records(shared, &records, by).await
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
