//! PostgreSQL: triggers on the user and session tables `pg_notify` the
//! `auth_cache` channel with `user:<id>` or `session:<key>` (`all` after a
//! `TRUNCATE`), delivered when the writing transaction commits. A
//! dedicated connection `LISTEN`s; when it drops, the caches go off until
//! a new connection listens again.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbErr, sqlx::postgres::PgListener};

use super::{Change, DbWatch, Watched};

const CHANNEL: &str = "auth_cache";

/// Installs the triggers, then listens in a task.
pub(super) async fn start(
    watch: DbWatch,
    retry: Duration,
) -> Result<tokio::task::JoinHandle<()>, DbErr> {
    install(&watch).await?;
    // A pool of its own: the listening connection must not be one of the
    // app's (closing the app's pool would wait for it forever).
    let options = (*watch.db.get_postgres_connection_pool().connect_options()).clone();
    let pool = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    let watched = watch.watched;
    // Listening before the caches go live, so nothing is missed.
    let listener = listen(&pool)
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    watched.set_live(true);
    Ok(tokio::spawn(run(pool, listener, watched, retry)))
}

async fn listen(pool: &sea_orm::sqlx::PgPool) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn run(
    pool: sea_orm::sqlx::PgPool,
    mut listener: PgListener,
    watched: Watched,
    retry: Duration,
) {
    loop {
        // `try_recv` reports a lost connection instead of reconnecting
        // silently (which would lose what was sent meanwhile).
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                let payload = notification.payload();
                let (kind, key) = payload.split_once(':').unwrap_or((payload, ""));
                if let Some(change) = Change::parse(kind, key) {
                    watched.apply(&change);
                }
                continue;
            }
            Ok(None) => tracing::warn!("lost the cache notification connection"),
            Err(err) => tracing::warn!(error = %err, "cache notifications failed"),
        }
        watched.set_live(false);
        loop {
            tokio::time::sleep(retry).await;
            match listen(&pool).await {
                Ok(fresh) => {
                    listener = fresh;
                    watched.set_live(true);
                    tracing::info!("the session and user cache is back on");
                    break;
                }
                Err(err) => tracing::debug!(error = %err, "cache notifications still down"),
            }
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
