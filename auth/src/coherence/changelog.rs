//! SQLite and MySQL: triggers on the user and session tables append to
//! `auth_cache_change`, which this process polls. Each poll reads the rows
//! past its cursor and, because MySQL may commit a lower id after a higher
//! one, also rereads the last few seconds (rows already applied are
//! skipped). Rows older than five minutes are pruned.

use std::{
    collections::{HashSet, VecDeque},
    time::Duration,
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::{Change, DbWatch, Watched};

const TABLE: &str = "auth_cache_change";
/// How long change rows are kept.
const RETENTION_SECONDS: i64 = 300;
/// The most rows one query reads.
const BATCH: i64 = 5000;

/// Creates the table and triggers, then polls in a task.
pub(super) async fn start(
    watch: DbWatch,
    interval: Duration,
    database_timeout: Duration,
) -> Result<tokio::task::JoinHandle<()>, DbErr> {
    install(&watch).await?;
    let mut poller = Poller {
        db: watch.db,
        watched: watch.watched,
        cursor: 0,
        recent: VecDeque::new(),
        seen: HashSet::new(),
        // Longer than a transaction may stay open before it commits.
        overlap: i64::try_from(database_timeout.as_secs()).unwrap_or(5) + 2,
        live: false,
    };
    poller.cursor = poller.max_id().await?;
    poller.watched.set_live(true);
    poller.live = true;
    Ok(tokio::spawn(async move { poller.run(interval).await }))
}

async fn install(watch: &DbWatch) -> Result<(), DbErr> {
    let db = &watch.db;
    let backend = db.get_database_backend();
    let create = match backend {
        DbBackend::MySql => format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
             kind VARCHAR(16) NOT NULL, cache_key VARCHAR(64) NOT NULL, changed_at BIGINT NOT NULL, \
             INDEX {TABLE}_at (changed_at))"
        ),
        _ => format!(
            "CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, \
             kind VARCHAR(16) NOT NULL, cache_key VARCHAR(64) NOT NULL, changed_at BIGINT NOT NULL)"
        ),
    };
    db.execute_unprepared(&create).await?;
    if backend != DbBackend::MySql {
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {TABLE}_at ON {TABLE} (changed_at)"
        ))
        .await?;
    }
    let mut tables = vec![(watch.user_table.as_str(), "user", "id")];
    if watch.sessions_here {
        tables.push(("auth_session", "session", "session_key"));
    }
    for (table, kind, column) in tables {
        for event in ["UPDATE", "DELETE"] {
            let name = trigger_name(table, event);
            let now = match backend {
                DbBackend::MySql => "UNIX_TIMESTAMP()",
                _ => "CAST(strftime('%s', 'now') AS INTEGER)",
            };
            let insert = format!(
                "INSERT INTO {TABLE} (kind, cache_key, changed_at) VALUES ('{kind}', OLD.{column}, {now})"
            );
            let sql = match backend {
                DbBackend::MySql => format!(
                    "CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} FOR EACH ROW {insert}"
                ),
                _ => format!(
                    "CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} FOR EACH ROW \
                     BEGIN {insert}; END"
                ),
            };
            db.execute_unprepared(&sql).await?;
        }
    }
    Ok(())
}

/// `<table>_cache_<event>`, within MySQL's 64 characters.
fn trigger_name(table: &str, event: &str) -> String {
    let event = event.to_ascii_lowercase();
    let name = format!("{table}_cache_{event}");
    if name.len() <= 64 {
        return name;
    }
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(table.as_bytes()));
    format!("{}_{}_cache_{event}", &table[..30], &digest[..12])
}

struct Poller {
    db: DatabaseConnection,
    watched: Watched,
    /// The highest id applied.
    cursor: i64,
    /// Ids applied within the overlap, oldest first, with their time.
    recent: VecDeque<(i64, i64)>,
    seen: HashSet<i64>,
    overlap: i64,
    live: bool,
}

impl Poller {
    async fn run(&mut self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = std::time::Instant::now();
        loop {
            ticker.tick().await;
            match self.poll().await {
                Ok(()) if !self.live => {
                    // Changes may have been missed while down: start afresh.
                    if let Ok(max) = self.max_id().await {
                        self.cursor = max;
                        self.watched.set_live(true);
                        self.live = true;
                        tracing::info!("the session and user cache is back on");
                    }
                }
                Ok(()) => {}
                Err(err) => {
                    if self.live {
                        tracing::warn!(
                            error = %err,
                            "cannot read cache changes; reading through until the database answers"
                        );
                        self.watched.set_live(false);
                        self.live = false;
                    }
                }
            }
            if last_prune.elapsed() > Duration::from_secs(60) {
                last_prune = std::time::Instant::now();
                let sql = format!("DELETE FROM {TABLE} WHERE changed_at < ?");
                let cutoff = now() - RETENTION_SECONDS;
                let statement = Statement::from_sql_and_values(
                    self.db.get_database_backend(),
                    sql,
                    [cutoff.into()],
                );
                if let Err(err) = self.db.execute_raw(statement).await {
                    tracing::warn!(error = %err, "cannot prune old cache changes");
                }
            }
        }
    }

    async fn max_id(&self) -> Result<i64, DbErr> {
        let statement = Statement::from_string(
            self.db.get_database_backend(),
            format!("SELECT COALESCE(MAX(id), 0) AS m FROM {TABLE}"),
        );
        let row = self.db.query_one_raw(statement).await?;
        Ok(row
            .and_then(|r| r.try_get::<i64>("", "m").ok())
            .unwrap_or(0))
    }

    /// Reads and applies what changed since the last poll.
    async fn poll(&mut self) -> Result<(), DbErr> {
        let since = now() - self.overlap;
        loop {
            let statement = Statement::from_sql_and_values(
                self.db.get_database_backend(),
                format!(
                    "SELECT id, kind, cache_key, changed_at FROM {TABLE} \
                     WHERE id > ? OR changed_at >= ? ORDER BY id LIMIT {BATCH}"
                ),
                [self.cursor.into(), since.into()],
            );
            let rows = self.db.query_all_raw(statement).await?;
            let mut fresh = 0;
            let count = rows.len();
            for row in rows {
                let id: i64 = row.try_get("", "id")?;
                let at: i64 = row.try_get("", "changed_at")?;
                if !self.seen.insert(id) {
                    continue;
                }
                fresh += 1;
                self.recent.push_back((id, at));
                self.cursor = self.cursor.max(id);
                let kind: String = row.try_get("", "kind")?;
                let key: String = row.try_get("", "cache_key")?;
                if let Some(change) = Change::parse(&kind, &key) {
                    self.watched.apply(&change);
                }
            }
            while let Some((id, at)) = self.recent.front().copied() {
                if at >= since {
                    break;
                }
                self.recent.pop_front();
                self.seen.remove(&id);
            }
            // A full batch of new rows: there may be more.
            if count < BATCH as usize || fresh == 0 {
                return Ok(());
            }
        }
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_names_fit_mysql() {
        assert_eq!(
            trigger_name("accounts_user", "UPDATE"),
            "accounts_user_cache_update"
        );
        let long = "t".repeat(70);
        let name = trigger_name(&long, "DELETE");
        assert!(name.len() <= 64, "{name}");
        assert_ne!(name, trigger_name(&"u".repeat(70), "DELETE"));
    }
}
