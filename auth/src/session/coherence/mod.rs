//! Keeping the in-process cache (`cache.rs`) coherent with writes made
//! elsewhere: other instances, the CLI, a cron `clearsessions`, an
//! administrator's SQL. Each change to a cached row arrives as a
//! [`Change`] and invalidates the entry:
//!
//! - PostgreSQL: triggers on the user and session tables `NOTIFY` a
//!   channel this process `LISTEN`s on (`postgres.rs`);
//! - SQLite and MySQL: triggers append to a change-log table this process
//!   polls every half `AUTH_CACHE_MAX_STALENESS` (`changelog.rs`);
//! - sessions in Redis: Redis's client-side caching invalidations for the
//!   session key prefix (`redis.rs`).
//!
//! Whenever a source cannot vouch that no change was missed (not yet
//! connected, connection lost, a poll failing or late, a notification
//! channel gone silent: see `heartbeat.rs`), the caches it feeds are off:
//! emptied, and every read goes to the store until it is back.

mod changelog;
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(crate) mod heartbeat;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
pub(crate) mod redis;

use std::{str::FromStr, sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, DbBackend};
use tower_sessions::session::Id;

use crate::{
    session::{cache::CacheMap, cached_session::CachedSession},
    settings::Settings,
};

/// The cached sessions, by id, shared with the requests that read them.
pub(crate) type SessionCache = Arc<CacheMap<Id, Arc<CachedSession>>>;

/// A cache of rows by primary key that notifications keep coherent,
/// whatever it holds (the user cache is `user/`'s; this engine needs only
/// to drop its entries).
pub(crate) trait RowCache: Send + Sync {
    /// Forgets the row with primary key `id`.
    fn forget(&self, id: i64);
    /// Empties the cache and turns it on or off.
    fn set_live(&self, live: bool);
}

impl<V: Clone + Send + Sync + 'static> RowCache for CacheMap<i64, V> {
    fn forget(&self, id: i64) {
        self.remove(&id);
    }
    fn set_live(&self, live: bool) {
        CacheMap::set_live(self, live);
    }
}

/// What a notification says changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// The user with this primary key.
    User(i64),
    /// The session with this key.
    Session(Id),
    /// Anything (a table was truncated).
    All,
}

impl Change {
    /// `user:<id>`, `session:<key>` or `all`; `None` for anything else.
    pub(crate) fn parse(kind: &str, key: &str) -> Option<Change> {
        match kind {
            "user" => key.trim().parse().ok().map(Change::User),
            "session" => Id::from_str(key.trim()).ok().map(Change::Session),
            "all" => Some(Change::All),
            _ => None,
        }
    }
}

/// The caches one source of notifications keeps coherent.
#[derive(Clone, Default)]
pub(crate) struct Watched {
    pub(crate) sessions: Option<SessionCache>,
    pub(crate) users: Option<Arc<dyn RowCache>>,
}

impl Watched {
    pub(crate) fn is_empty(&self) -> bool {
        self.sessions.is_none() && self.users.is_none()
    }

    /// Invalidates what `change` names.
    pub(crate) fn apply(&self, change: &Change) {
        match change {
            Change::User(id) => {
                if let Some(users) = &self.users {
                    users.forget(*id);
                }
            }
            Change::Session(id) => {
                if let Some(sessions) = &self.sessions {
                    sessions.remove(id);
                }
            }
            Change::All => self.set_live(true),
        }
    }

    /// Empties the caches and turns them on or off.
    pub(crate) fn set_live(&self, live: bool) {
        if let Some(sessions) = &self.sessions {
            sessions.set_live(live);
        }
        if let Some(users) = &self.users {
            users.set_live(live);
        }
    }
}

/// What the database watcher needs to know.
pub(crate) struct DbWatch {
    pub(crate) db: DatabaseConnection,
    pub(crate) user_table: String,
    /// Whether sessions live in this database (not Redis, not the app's own
    /// store).
    pub(crate) sessions_here: bool,
    pub(crate) watched: Watched,
}

/// How often a source retries after a failure, and how often the change
/// log is polled.
pub(crate) fn poll_interval(settings: &Settings) -> Duration {
    (settings.cache_max_staleness / 2).max(Duration::from_millis(10))
}

/// Installs the database's triggers and starts watching it. On failure
/// (no permission to create triggers, say) the caches stay off, with a
/// warning: correct, only slower.
pub(crate) async fn watch_database(
    watch: DbWatch,
    settings: &Settings,
) -> Option<tokio::task::JoinHandle<()>> {
    if watch.watched.is_empty() {
        return None;
    }
    let interval = poll_interval(settings);
    let backend = watch.db.get_database_backend();
    let started = match backend {
        #[cfg(feature = "postgres")]
        DbBackend::Postgres => postgres::start(watch, heartbeat::Heartbeat::new(settings)).await,
        #[cfg(not(feature = "postgres"))]
        DbBackend::Postgres => Err(sea_orm::DbErr::Custom("no PostgreSQL support".into())),
        _ => changelog::start(watch, interval, settings.database_timeout).await,
    };
    match started {
        Ok(task) => Some(task),
        Err(err) => {
            tracing::warn!(
                error = %err,
                "cannot watch the database for changes; the session and user cache stays off \
                 (AUTH_CACHE=off silences this)"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_parse_or_are_ignored() {
        assert_eq!(Change::parse("user", "42"), Some(Change::User(42)));
        assert_eq!(Change::parse("user", "x"), None);
        let id = Id::default();
        assert_eq!(
            Change::parse("session", &id.to_string()),
            Some(Change::Session(id))
        );
        assert_eq!(Change::parse("session", "short"), None);
        assert_eq!(Change::parse("all", ""), Some(Change::All));
        assert_eq!(Change::parse("group", "1"), None);
    }
}
