//! PostgreSQL: triggers on the user and session tables `pg_notify` the
//! `auth_cache` channel with `user:<id>` or `session:<key>` (`all` after a
//! `TRUNCATE`), delivered when the writing transaction commits. A
//! dedicated connection `LISTEN`s.
//!
//! A connection can go silent without closing (a NAT or a firewall that
//! stops forwarding): the watcher sends itself a heartbeat, a `NOTIFY`
//! through the app's own pool, every half staleness bound, and each must
//! come back on the listening connection within the bound. When one
//! does not, or the connection drops, the caches go off (every read goes
//! to the database) until a new connection listens and a heartbeat has
//! come back on it.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, sqlx::postgres::PgListener,
};
use tokio::{sync::mpsc, time::Instant};

use super::{Change, DbWatch, Heartbeat, Watched};

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
    let mut watcher = Watcher {
        pool,
        db: watch.db,
        watched: watch.watched,
        heartbeat,
    };
    // Listening, and heard, before the caches go live: nothing is missed.
    let channel = watcher
        .connect()
        .await
        .map_err(|e| DbErr::Custom(format!("cannot listen for cache changes: {e}")))?;
    watcher.watched.set_live(true);
    Ok(tokio::spawn(watcher.run(channel)))
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
struct Channel {
    heard: mpsc::UnboundedReceiver<Heard>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Watcher {
    pool: sea_orm::sqlx::PgPool,
    /// The app's pool, which heartbeats go through.
    db: DatabaseConnection,
    watched: Watched,
    heartbeat: Heartbeat,
}

impl Watcher {
    /// A new listening connection, proven by a heartbeat.
    async fn connect(&mut self) -> Result<Channel, String> {
        let listener = tokio::time::timeout(self.heartbeat.deadline, listen(&self.pool))
            .await
            .map_err(|_| "LISTEN did not answer in time".to_owned())?
            .map_err(|e| e.to_string())?;
        let (sender, heard) = mpsc::unbounded_channel();
        let task = tokio::spawn(read(listener, sender));
        let mut channel = Channel { heard, task };
        let payload = self.send_heartbeat().await?;
        let due = Instant::now() + self.heartbeat.deadline;
        loop {
            match tokio::time::timeout_at(due, channel.heard.recv()).await {
                Err(_) => return Err("the first heartbeat did not come back".into()),
                Ok(Some(Heard::Notification(text))) if text == payload => return Ok(channel),
                Ok(Some(Heard::Notification(text))) => self.apply(&text),
                Ok(Some(Heard::Lost(why))) => return Err(why),
                Ok(None) => return Err("the listening task ended".into()),
            }
        }
    }

    /// `NOTIFY`s a fresh heartbeat through the app's pool; its payload.
    async fn send_heartbeat(&mut self) -> Result<String, String> {
        let payload = self.heartbeat.next_payload();
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), payload.clone().into()],
        );
        tokio::time::timeout(self.heartbeat.deadline, self.db.execute_raw(statement))
            .await
            .map_err(|_| "the heartbeat could not be sent in time".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok(payload)
    }

    fn apply(&self, text: &str) {
        let (kind, key) = text.split_once(':').unwrap_or((text, ""));
        if let Some(change) = Change::parse(kind, key) {
            self.watched.apply(&change);
        }
    }

    /// Applies notifications while heartbeats come back in time; on a
    /// failure, turns the caches off until a new channel is proven.
    async fn run(mut self, mut channel: Channel) {
        loop {
            let failure = self.watch(&mut channel).await;
            tracing::warn!(
                reason = %failure,
                "cache notifications went silent; reading through until they are heard again"
            );
            self.watched.set_live(false);
            drop(channel);
            channel = self.reconnect().await;
            self.watched.set_live(true);
            tracing::info!("the session and user cache is back on");
        }
    }

    /// A new proven channel, retried every heartbeat period until one is.
    async fn reconnect(&mut self) -> Channel {
        loop {
            tokio::time::sleep(self.heartbeat.period).await;
            match self.connect().await {
                Ok(fresh) => return fresh,
                Err(err) => tracing::debug!(error = %err, "cache notifications still silent"),
            }
        }
    }

    /// Serves `channel` until it fails; why it failed.
    async fn watch(&mut self, channel: &mut Channel) -> String {
        let mut next_beat = Instant::now() + self.heartbeat.period;
        let mut pending: Option<(String, Instant)> = None;
        loop {
            let wake = pending.as_ref().map_or(next_beat, |(_, due)| *due);
            tokio::select! {
                heard = channel.heard.recv() => match heard {
                    Some(Heard::Notification(text)) => {
                        if pending.as_ref().is_some_and(|(payload, _)| *payload == text) {
                            pending = None;
                            next_beat = Instant::now() + self.heartbeat.period;
                        } else {
                            self.apply(&text);
                        }
                    }
                    Some(Heard::Lost(why)) => return why,
                    None => return "the listening task ended".into(),
                },
                () = tokio::time::sleep_until(wake) => {
                    if pending.is_some() {
                        return "a heartbeat did not come back in time".into();
                    }
                    match self.send_heartbeat().await {
                        Ok(payload) => pending = Some((payload, Instant::now() + self.heartbeat.deadline)),
                        Err(err) => return err,
                    }
                }
            }
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
