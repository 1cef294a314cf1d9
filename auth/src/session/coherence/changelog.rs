//! SQLite and MySQL: triggers on the user and session tables append to
//! `auth_cache_change`, which this process polls. Each poll reads every
//! row past its cursor, in batches, however many a burst wrote. MySQL may
//! commit a lower id after a higher one: the ids a poll skipped (gaps
//! below the cursor) are remembered and looked up again on every poll
//! until they appear or are older than a transaction may stay open. Each
//! query is bounded by the staleness bound: a poll that cannot finish in
//! time turns the caches off until one does. Rows older than five minutes
//! are pruned.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use super::{Change, DbWatch, Watched};

const TABLE: &str = "auth_cache_change";
/// How long change rows are kept.
const RETENTION_SECONDS: i64 = 300;
/// The most rows one query reads.
const BATCH: i64 = 5000;
/// The most ids one gap lookup names.
const GAP_LOOKUP: usize = 1000;
/// The most gaps remembered: past that (ids handed out in strides, a huge
/// rollback), the poller cannot vouch for what it skipped and resets the
/// caches instead.
const MAX_GAPS: usize = 50_000;

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
        gaps: BTreeMap::new(),
        // Longer than a transaction may stay open before it commits.
        overlap: database_timeout + Duration::from_secs(2),
        query_timeout: interval * 2,
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
    /// Ids below the cursor not seen yet, with when they were skipped.
    gaps: BTreeMap<i64, Instant>,
    /// How long a skipped id may still commit.
    overlap: Duration,
    /// How long one query may take (the staleness bound).
    query_timeout: Duration,
    live: bool,
}

impl Poller {
    async fn run(&mut self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_prune = Instant::now();
        loop {
            ticker.tick().await;
            match self.poll().await {
                Ok(()) if !self.live => {
                    // Changes may have been missed while down: start afresh.
                    if let Ok(max) = self.max_id().await {
                        self.cursor = max;
                        self.gaps.clear();
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
                            "cannot read cache changes in time; reading through until the database answers"
                        );
                        self.watched.set_live(false);
                        self.live = false;
                    }
                }
            }
            if last_prune.elapsed() > Duration::from_secs(60) {
                last_prune = Instant::now();
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
        let row = self.query(self.db.query_one_raw(statement)).await?;
        Ok(row
            .and_then(|r| r.try_get::<i64>("", "m").ok())
            .unwrap_or(0))
    }

    /// A query, bounded by the staleness bound.
    async fn query<T>(&self, fut: impl Future<Output = Result<T, DbErr>>) -> Result<T, DbErr> {
        tokio::time::timeout(self.query_timeout, fut)
            .await
            .map_err(|_| DbErr::Custom("the change log did not answer in time".into()))?
    }

    /// Reads and applies what changed since the last poll: every row past
    /// the cursor, then the gaps that have appeared since.
    async fn poll(&mut self) -> Result<(), DbErr> {
        let backend = self.db.get_database_backend();
        loop {
            let statement = Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id, kind, cache_key FROM {TABLE} WHERE id > ? ORDER BY id LIMIT {BATCH}"
                ),
                [self.cursor.into()],
            );
            let rows = self.query(self.db.query_all_raw(statement)).await?;
            let count = rows.len();
            let now = Instant::now();
            for row in rows {
                let id: i64 = row.try_get("", "id")?;
                for skipped in (self.cursor + 1)..id {
                    if self.gaps.len() >= MAX_GAPS {
                        break;
                    }
                    self.gaps.insert(skipped, now);
                }
                if id - self.cursor > 1 && self.gaps.len() >= MAX_GAPS {
                    tracing::warn!("too many ids skipped in the change log; emptying the caches");
                    self.gaps.clear();
                    self.watched.set_live(true);
                }
                self.cursor = self.cursor.max(id);
                self.apply(&row)?;
            }
            if count < BATCH as usize {
                break;
            }
        }
        let overlap = self.overlap;
        self.gaps.retain(|_, skipped| skipped.elapsed() < overlap);
        let gaps: Vec<i64> = self.gaps.keys().copied().collect();
        for chunk in gaps.chunks(GAP_LOOKUP) {
            let placeholders = vec!["?"; chunk.len()].join(", ");
            let statement = Statement::from_sql_and_values(
                backend,
                format!("SELECT id, kind, cache_key FROM {TABLE} WHERE id IN ({placeholders})"),
                chunk.iter().map(|id| (*id).into()),
            );
            for row in self.query(self.db.query_all_raw(statement)).await? {
                let id: i64 = row.try_get("", "id")?;
                self.gaps.remove(&id);
                self.apply(&row)?;
            }
        }
        Ok(())
    }

    /// Invalidates what one change row names.
    fn apply(&self, row: &sea_orm::QueryResult) -> Result<(), DbErr> {
        let kind: String = row.try_get("", "kind")?;
        let key: String = row.try_get("", "cache_key")?;
        if let Some(change) = Change::parse(&kind, &key) {
            self.watched.apply(&change);
        }
        Ok(())
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
