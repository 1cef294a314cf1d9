//! The audit log: every [`Event`] as a row of `auth_event` (time, kind,
//! user id, username, client address, user agent, backend, outcome,
//! session handle prefix, what ended the session), written by a
//! background task in batches so no request waits for it; kept
//! `AUTH_EVENT_RETENTION_DAYS` (90) days, pruned with expired sessions and
//! by `clearevents`. Read it with [`Auth::events`](crate::Auth::events)
//! or the `events` command.

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

#[cfg(feature = "cli")]
pub(crate) mod cli;

use crate::{
    apps::{FeatureApp, Prune, Shared},
    events::{EndedBy, Event, EventKind, Sink},
    kernel::error::Result,
    kernel::{database::Database, future::BoxFuture},
    session::metadata::truncate,
};

/// The most events waiting to be written; past it new ones are dropped
/// with a warning (a flood must not grow memory without bound).
const QUEUE: usize = 4096;
/// The most rows one insert writes.
const BATCH: usize = 256;

/// The event table's entity (`auth_event`).
pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    /// A logged event.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_event")]
    pub(crate) struct Model {
        /// Row id, in write order.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// When it happened.
        #[sea_orm(indexed)]
        pub at: TimeDateTimeWithTimeZone,
        /// `user_logged_in`, …
        #[sea_orm(column_type = "String(StringLen::N(32))")]
        pub kind: String,
        /// The user, when known.
        #[sea_orm(indexed, nullable)]
        pub user_id: Option<i64>,
        /// The username (as typed, for failures).
        #[sea_orm(indexed, column_type = "String(StringLen::N(150))")]
        pub username: String,
        /// The client's address (empty when unknown).
        #[sea_orm(column_type = "String(StringLen::N(45))")]
        pub client_ip: String,
        /// The client's user agent.
        #[sea_orm(column_type = "String(StringLen::N(512))")]
        pub user_agent: String,
        /// The authentication backend.
        #[sea_orm(column_type = "String(StringLen::N(100))")]
        pub backend: String,
        /// `success`, `failure` or `refused`.
        #[sea_orm(column_type = "String(StringLen::N(16))")]
        pub outcome: String,
        /// The session handle's prefix.
        #[sea_orm(column_type = "String(StringLen::N(16))")]
        pub session: String,
        /// What ended the session.
        #[sea_orm(column_type = "String(StringLen::N(32))")]
        pub ended_by: String,
    }

    /// Events have no relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

enum Command {
    Write(Arc<Event>),
    /// Answered once everything sent before it is written.
    Flush(oneshot::Sender<()>),
}

/// The sending side of the background writer.
#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Command>,
}

impl Sink for Writer {
    fn take(&self, event: &Arc<Event>) {
        self.write(event.clone());
    }

    fn flush(&self) -> BoxFuture<'_, ()> {
        Box::pin(Writer::flush(self))
    }
}

impl Writer {
    /// Starts the writer task on `db`.
    pub(crate) fn start(db: Database) -> (Writer, tokio::task::JoinHandle<()>) {
        let (queue, commands) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_batches(db, commands));
        (Writer { queue }, task)
    }

    /// Queues `event`; drops it, with a warning, when the queue is full.
    pub(crate) fn write(&self, event: Arc<Event>) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(Command::Write(event))
        {
            tracing::warn!("the audit log is behind; an event was not logged");
        }
    }

    /// Waits until every event queued so far is written.
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Command::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

async fn write_batches(db: Database, mut commands: mpsc::Receiver<Command>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut waiting = Vec::new();
    while let Some(first) = commands.recv().await {
        let mut next = Some(first);
        while let Some(command) = next.take() {
            match command {
                Command::Write(event) => batch.push(row(&event)),
                Command::Flush(done) => waiting.push(done),
            }
            if batch.len() < BATCH {
                next = commands.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            let rows = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            let count = rows.len();
            let insert = entity::Entity::insert_many(rows).exec_without_returning(db.conn());
            if let Err(err) = db.run(insert).await {
                tracing::error!(error = %err, count, "writing the audit log failed");
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

fn row(event: &Event) -> entity::ActiveModel {
    entity::ActiveModel {
        id: sea_orm::NotSet,
        at: Set(event.at),
        kind: Set(event.kind.as_str().to_owned()),
        user_id: Set(event.user_id),
        username: Set(cut(&event.username, 150)),
        client_ip: Set(event.client_ip.map(|ip| ip.to_string()).unwrap_or_default()),
        user_agent: Set(cut(&event.user_agent, 512)),
        backend: Set(cut(&event.backend, 100)),
        outcome: Set(event.kind.outcome().to_owned()),
        session: Set(cut(&event.session, 16)),
        ended_by: Set(event.ended_by.map(EndedBy::as_str).unwrap_or("").to_owned()),
    }
}

/// At most `max` characters (columns count characters on every backend).
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => truncate(text, end).to_owned(),
        None => text.to_owned(),
    }
}

/// The audit log as the builder installs it: its table (the writer is a
/// sink of the events, started by the builder when `AUTH_EVENT_LOG` is on).
pub(crate) const APP: FeatureApp = FeatureApp {
    migrate: Some(|db| Box::pin(migrate(db))),
    prune: Some(Prune {
        what: "old event(s)",
        run: |shared| Box::pin(clear_old(shared)),
    }),
    build: Some(|building| {
        if building.settings.event_log {
            let (writer, task) = Writer::start(building.db.clone());
            building.events.add_sink(writer);
            building.tasks.push(task);
        }
    }),
    ..FeatureApp::NOTHING
};

/// Creates the table if missing.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    crate::kernel::database::create_table::<entity::Entity>(db).await
}

/// Deletes events older than `retention`; how many.
pub(crate) async fn prune(
    db: &DatabaseConnection,
    now: OffsetDateTime,
    retention: Duration,
) -> Result<u64, DbErr> {
    let cutoff = now - retention;
    Ok(entity::Entity::delete_many()
        .filter(entity::Column::At.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}

/// Which events to read.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// Only this user's (by username, as stored).
    pub username: Option<String>,
    /// Only those at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only these kinds (empty: all).
    pub kinds: Vec<EventKind>,
    /// At most this many, newest first (`None`: 100).
    pub limit: Option<u64>,
}

/// The audit log, from [`Auth::events`](crate::Auth::events).
pub struct EventLog<'a> {
    pub(crate) db: &'a Database,
    pub(crate) writer: Option<&'a Writer>,
}

impl std::fmt::Debug for EventLog<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog").finish_non_exhaustive()
    }
}

impl EventLog<'_> {
    /// The events `filter` selects, newest first, after every event
    /// emitted so far is written.
    pub async fn list(&self, filter: &EventFilter) -> Result<Vec<Event>> {
        if let Some(writer) = self.writer {
            writer.flush().await;
        }
        let mut query = entity::Entity::find()
            .order_by_desc(entity::Column::At)
            .order_by_desc(entity::Column::Id)
            .limit(filter.limit.unwrap_or(100));
        if let Some(username) = &filter.username {
            query = query.filter(entity::Column::Username.eq(username.as_str()));
        }
        if let Some(since) = filter.since {
            query = query.filter(entity::Column::At.gte(since));
        }
        if !filter.kinds.is_empty() {
            query = query
                .filter(entity::Column::Kind.is_in(filter.kinds.iter().map(|kind| kind.as_str())));
        }
        let rows = self.db.run(query.all(self.db.conn())).await?;
        Ok(rows.into_iter().filter_map(event).collect())
    }
}

fn event(row: entity::Model) -> Option<Event> {
    let kind = EventKind::parse(&row.kind)?;
    let ended_by = [
        EndedBy::User,
        EndedBy::Admin,
        EndedBy::Timeout,
        EndedBy::PasswordChange,
        EndedBy::SessionLimit,
    ]
    .into_iter()
    .find(|by| by.as_str() == row.ended_by);
    Some(Event {
        kind,
        at: row.at,
        user_id: row.user_id,
        username: row.username,
        client_ip: row.client_ip.parse().ok(),
        user_agent: row.user_agent,
        backend: row.backend,
        session: row.session,
        ended_by,
        email: None,
    })
}

/// Of `login`'s user's earlier logins (`login` itself excluded): how
/// many the log holds, and how many in the `window` before it came from
/// its user agent and address.
#[cfg_attr(not(feature = "notify"), allow(dead_code))]
pub(crate) async fn earlier_logins(
    db: &Database,
    login: &Event,
    window: Duration,
) -> Result<(u64, u64)> {
    use sea_orm::PaginatorTrait;
    let earlier = || {
        entity::Entity::find()
            .filter(entity::Column::Kind.eq(EventKind::UserLoggedIn.as_str()))
            .filter(entity::Column::UserId.eq(login.user_id))
            .filter(entity::Column::At.lte(login.at))
    };
    let ip = login.client_ip.map(|ip| ip.to_string()).unwrap_or_default();
    let any = db.run(earlier().count(db.conn())).await?;
    let same = db
        .run(
            earlier()
                .filter(entity::Column::At.gte(login.at - window))
                .filter(entity::Column::UserAgent.eq(cut(&login.user_agent, 512)))
                .filter(entity::Column::ClientIp.eq(ip))
                .count(db.conn()),
        )
        .await?;
    // The login itself is among them (written before this is asked).
    Ok((any.saturating_sub(1), same.saturating_sub(1)))
}

/// Deletes events older than `AUTH_EVENT_RETENTION_DAYS`; how many.
async fn clear_old(shared: &Shared) -> Result<u64> {
    let now = shared.clock.now();
    let retention = shared.settings.event_retention();
    shared.db.run(prune(shared.db.conn(), now, retention)).await
}

impl<U> crate::app::Auth<U> {
    /// Deletes audit-log events older than `AUTH_EVENT_RETENTION_DAYS`
    /// (`clearevents`); how many (feature `audit`).
    pub async fn clear_old_events(&self) -> Result<u64> {
        clear_old(&self.shared).await
    }

    /// The audit log: every auth event, newest first (see
    /// [`audit`](crate::audit); feature `audit`).
    pub fn events(&self) -> EventLog<'_> {
        EventLog {
            db: &self.shared.db,
            writer: self.shared.events.sink::<Writer>(),
        }
    }
}
