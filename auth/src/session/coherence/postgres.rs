//! PostgreSQL: triggers on the user and session tables `pg_notify` the
//! `auth_cache` channel with `user:<id>` or `session:<key>` (`all` after a
//! `TRUNCATE`), delivered when the writing transaction commits. A
//! dedicated connection `LISTEN`s.
//!
//! Its heartbeat (see `heartbeat.rs`) is a `NOTIFY` through the app's own
//! pool that must come back on the listening connection.

use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, sqlx::postgres::PgListener,
};
use tokio::sync::mpsc;

use super::{
    Change, DbWatch, Watched,
    heartbeat::{Channel, Heartbeat, Watcher},
};

const CHANNEL: &str = "auth_cache";

/// Installs the triggers, then listens in a task.
pub(super) async fn start(
    watch: DbWatch,
    heartbeat: Heartbeat,
) -> Result<tokio::task::JoinHandle<()>, DbErr> {
    install(&watch).await?;
    // A pool of its own: the listening connection must not be one of the
    // app's (closing the app's pool would wait for it forever).
    let options = (*watch.db.get_postgres_connection_pool().connect_options()).clone();
    let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    let channel = Notifications { pool, db: watch.db };
    Watcher::start(channel, heartbeat, watch.watched)
        .await
        .map_err(|e| DbErr::Custom(format!("cannot listen for cache changes: {e}")))
}

/// `LISTEN` on a pool of its own; heartbeats `NOTIFY` through the app's.
struct Notifications {
    pool: sea_orm::sqlx::PgPool,
    db: DatabaseConnection,
}

/// What the listening task reports.
enum Heard {
    Notification(String),
    /// The connection failed; the task has ended.
    Lost(String),
}

/// A listening connection, read by a task of its own (so waiting for a
/// notification can be given up without losing half of one); dropping it
/// closes the connection.
struct Listening {
    heard: mpsc::UnboundedReceiver<Heard>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Channel for Notifications {
    type Listener = Listening;
    const NAME: &'static str = "PostgreSQL cache notifications";

    async fn open(&mut self, deadline: Duration) -> Result<Listening, String> {
        let listener = tokio::time::timeout(deadline, listen(&self.pool))
            .await
            .map_err(|_| "LISTEN did not answer in time".to_owned())?
            .map_err(|e| e.to_string())?;
        let (sender, heard) = mpsc::unbounded_channel();
        let task = tokio::spawn(read(listener, sender));
        Ok(Listening { heard, task })
    }

    async fn send(&mut self, payload: String) -> Result<String, String> {
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.clone().into()],
        );
        self.db
            .execute_raw(statement)
            .await
            .map_err(|e| e.to_string())?;
        Ok(payload)
    }

    async fn hear(
        &mut self,
        listener: &mut Listening,
        watched: &Watched,
        awaited: Option<&str>,
    ) -> Result<bool, String> {
        match listener.heard.recv().await {
            Some(Heard::Notification(text)) if awaited == Some(text.as_str()) => Ok(true),
            Some(Heard::Notification(text)) => {
                let (kind, key) = text.split_once(':').unwrap_or((&text, ""));
                if let Some(change) = Change::parse(kind, key) {
                    watched.apply(&change);
                }
                Ok(false)
            }
            Some(Heard::Lost(why)) => Err(why),
            None => Err("the listening task ended".into()),
        }
    }
}

async fn listen(pool: &sea_orm::sqlx::PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Forwards what `listener` hears until its connection fails.
async fn read(mut listener: PgListener, heard: mpsc::UnboundedSender<Heard>) {
    loop {
        // `try_recv` reports a lost connection instead of reconnecting
        // silently (which would lose what was sent meanwhile).
        let report = match listener.try_recv().await {
            Ok(Some(notification)) => Heard::Notification(notification.payload().to_owned()),
            Ok(None) => Heard::Lost("lost the cache notification connection".into()),
            Err(err) => Heard::Lost(format!("cache notifications failed: {err}")),
        };
        let lost = matches!(report, Heard::Lost(_));
        if heard.send(report).is_err() || lost {
            return;
        }
    }
}

async fn install(watch: &DbWatch) -> Result<(), DbErr> {
    let quote = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let mut sql = String::from(
        // One installer at a time (instances starting together).
        "SELECT pg_advisory_xact_lock(7235641);
        CREATE OR REPLACE FUNCTION auth_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            old_key text;
            new_key text;
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                old_key := row_to_json(OLD) ->> TG_ARGV[1];
                PERFORM pg_notify('auth_cache', TG_ARGV[0] || ':' || old_key);
            END IF;
            IF TG_OP = 'UPDATE' THEN
                new_key := row_to_json(NEW) ->> TG_ARGV[1];
                IF new_key IS DISTINCT FROM old_key THEN
                    PERFORM pg_notify('auth_cache', TG_ARGV[0] || ':' || new_key);
                END IF;
            END IF;
            RETURN NULL;
        END $$;
        CREATE OR REPLACE FUNCTION auth_cache_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('auth_cache', 'all:');
            RETURN NULL;
        END $$;",
    );
    let mut tables = vec![(watch.user_table.as_str(), "user", "id")];
    if watch.sessions_here {
        tables.push(("auth_session", "session", "session_key"));
    }
    for (table, kind, column) in tables {
        let table = quote(table);
        sql.push_str(&format!(
            "
            DROP TRIGGER IF EXISTS auth_cache_notify ON {table};
            CREATE TRIGGER auth_cache_notify AFTER UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION auth_cache_notify('{kind}', '{column}');
            DROP TRIGGER IF EXISTS auth_cache_truncate ON {table};
            CREATE TRIGGER auth_cache_truncate AFTER TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION auth_cache_notify_all();"
        ));
    }
    watch.db.execute_unprepared(&sql).await?;
    Ok(())
}
