//! The sessions a user is logged in on, which they can see and end
//! (OWASP ASVS 7.5.2; django-allauth's `usersessions`), and an
//! administrator can list and end (ASVS 7.4.5): feature `user-sessions`.
//! [`list`], [`end`], [`end_all_other`], [`SessionAdmin`]
//! ([`Auth::sessions`](crate::Auth::sessions)); the
//! [`SessionListView`] page (`views.rs`); `listsessions` and
//! `endsessions` (`cli.rs`).
//!
//! Each logged-in session records when it logged in, when it was last
//! seen (written at most once per activity resolution), the client's
//! address and user agent, and how it logged in. Sessions are named by a
//! handle ([`UserSession::key`]), a digest of the session key: a list
//! never shows the keys themselves.

#[cfg(feature = "cli")]
pub(crate) mod cli;
mod views;

use std::sync::Arc;

use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};

pub use views::SessionListView;

use crate::{
    apps::{FeatureApp, Shared},
    events::{EndedBy, Event, EventKind},
    kernel::error::Result,
    login::Session,
    login::{
        device::device,
        registry::{self, end_records, handle, whose},
    },
    session::metadata::{SessionMetadata, from_unix},
};

/// One session of a user, as the session list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSession {
    /// The session's handle (a digest of its key, not the key): what
    /// [`end`] takes.
    pub key: String,
    /// When the user logged in on it.
    pub created: OffsetDateTime,
    /// When it was last used (to within the activity resolution).
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
        crate::login::logout(session).await?;
    } else {
        end_records(shared, &[record], EndedBy::User).await?;
    }
    Ok(true)
}

/// Ends every session of the current user but this one ("log out all
/// other sessions"), their pending logins included; how many.
pub async fn end_all_other(session: &Session) -> Result<u64> {
    registry::end_all_other(session).await
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
    /// of theirs waiting for its second step; how many. Their next
    /// request is anonymous (on other instances within
    /// `AUTH_CACHE_MAX_STALENESS`).
    pub async fn end_all_for(&self, user_id: i64) -> Result<u64> {
        registry::end_all_for(self.shared, user_id, EndedBy::Admin).await
    }

    /// Ends every session of every user, anonymous ones and logins
    /// waiting for their second step included (ASVS 7.4.5: after a breach
    /// or a key leak, everyone logs in again); how many. On every store
    /// (a Redis Cluster key by key); other instances drop what they cached
    /// within `AUTH_CACHE_MAX_STALENESS`. Recorded as one `session_ended`
    /// event by an administrator, for no one user, with `session` `all`.
    pub async fn end_all(&self) -> Result<u64> {
        let ended = self.shared.sessions.store.clear_all().await?;
        let mut event = Event::new(EventKind::SessionEnded, self.shared.clock.now());
        event.session = "all".to_owned();
        event.ended_by = Some(EndedBy::Admin);
        self.shared.events.emit(event);
        Ok(ended)
    }
}

impl<U> crate::app::Auth<U> {
    /// Every user's sessions, for administration: list them and end them
    /// all (see [`sessions`](crate::sessions); feature `user-sessions`).
    pub fn sessions(&self) -> SessionAdmin<'_> {
        SessionAdmin {
            shared: &self.shared,
        }
    }
}

/// The app, as the builder installs it: the session list's template and
/// its system check.
pub(crate) const APP: FeatureApp = FeatureApp {
    templates: views::TEMPLATES,
    check: Some(check),
    ..FeatureApp::NOTHING
};

/// The app's system check: a declared [`SessionListView`] needs
/// re-authentication and the session registry (`auth.E005`, `auth.E006`).
fn check(
    shared: &Shared,
    _scope: crate::kernel::checks::Scope,
) -> Vec<crate::kernel::checks::CheckMessage> {
    use crate::app::checks::guards::{needs_reauthentication, needs_registry};
    let list = shared
        .urls
        .path_of_view("SessionListView")
        .map(|path| format!("the SessionListView at {path}"));
    let mut found = needs_reauthentication(shared, list.clone());
    found.extend(needs_registry(shared, list));
    found
}
