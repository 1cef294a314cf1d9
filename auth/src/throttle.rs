//! Throttling attempts (what django-axes adds to Django), shared by every
//! instance of the app through the store the sessions use (the
//! `auth_throttle` table, or Redis when sessions are in Redis).
//!
//! # What is counted
//!
//! A login (and the old password of the password-change form) counts
//! against three keys, each with its limit per `AUTH_LOGIN_FAILURE_WINDOW`:
//!
//! | key | limit | bounds |
//! |---|---|---|
//! | username + client address | `AUTH_LOGIN_FAILURE_LIMIT` (10) | guessing one account from one place; the owner elsewhere is not locked out |
//! | username | `AUTH_LOGIN_FAILURE_LIMIT_PER_USER` (100) | guessing one account from many addresses |
//! | client address | `AUTH_LOGIN_FAILURE_LIMIT_PER_IP` (100) | one address trying many accounts |
//!
//! An IPv6 client counts by its /64 (one host owns a whole /64), an
//! IPv4-mapped IPv6 address as the IPv4 address.
//!
//! # When it is counted
//!
//! An attempt *reserves* its slot on every key before the password is
//! checked, in one atomic step per key whose result decides
//! ([`Throttle::reserve`]): a burst of parallel attempts cannot all pass a
//! check made before any of them is counted. Past a limit the attempt is
//! refused without hashing and its slots are given back, so attempts
//! during a lockout do not extend it. A failed attempt keeps its slots. A
//! successful one clears its username + address key (as django-axes resets
//! on success) and gives back its own slot on the other two, so the
//! owner's logins never eat into them; an attempt that did not happen (the
//! hasher was saturated) gives every slot back.
//!
//! The counted values (usernames, addresses, user ids) are stored as
//! HMACs under the secret key, never in clear. A key's window starts at
//! its first attempt and lasts `AUTH_LOGIN_FAILURE_WINDOW`: in the table
//! (`auth_throttle_counter`) an upsert that starts a new window when the
//! old one has passed, in Redis `INCR` with its expiry set in the same
//! script, so a counter never outlives its window.

use std::{
    net::{IpAddr, Ipv6Addr},
    time::Duration,
};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement,
    sea_query::{Expr, ExprTrait},
};
use time::OffsetDateTime;

use crate::{Error, Result, Settings, settings::secret::SaltedMac};

/// The key salt of the counters' HMAC.
pub(crate) const THROTTLE_SALT: &str = "auth.throttle";

/// The table of counters: one row per key, counting attempts in a window
/// that starts at the key's first attempt.
pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    /// One counter.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_throttle_counter")]
    pub(crate) struct Model {
        /// What is counted: a kind and the HMAC of the value.
        #[sea_orm(
            primary_key,
            auto_increment = false,
            column_type = "String(StringLen::N(96))"
        )]
        pub counter_key: String,
        /// Attempts counted in the current window.
        pub attempts: i64,
        /// When the window ends, in milliseconds since the Unix epoch.
        #[sea_orm(indexed)]
        pub expires_at: i64,
    }

    /// Counters have no relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One thing counted, with its limit (0: not counted).
#[derive(Clone, Debug)]
pub(crate) struct Counter {
    /// `login-user-ip`, `login-user`, `login-ip`, …
    pub(crate) kind: &'static str,
    /// The counted value (a username, an address, a user id), in clear.
    pub(crate) value: String,
    /// Attempts allowed per window.
    pub(crate) limit: u32,
    /// Whether a success resets it (else a success only gives back its
    /// own slot).
    pub(crate) reset_on_success: bool,
}

impl Counter {
    fn new(kind: &'static str, value: String, limit: u32, reset_on_success: bool) -> Self {
        Counter {
            kind,
            value,
            limit,
            reset_on_success,
        }
    }
}

/// The client as the throttle counts it: an IPv4 address, an IPv6 /64, or
/// `unknown` (no address: outside a request, or a proxy header missing).
pub(crate) fn client_key(client: Option<IpAddr>) -> String {
    match client.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let segments = v6.segments();
            let network = Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            );
            format!("{network}/64")
        }
        None => "unknown".into(),
    }
}

/// What a login attempt for `username` (already normalised) from `client`
/// counts against (see the module docs).
pub(crate) fn login_counters(
    settings: &Settings,
    username: &str,
    client: Option<IpAddr>,
) -> Vec<Counter> {
    let address = client_key(client);
    let mut counters = vec![
        Counter::new(
            "login-user-ip",
            format!("{username}\u{0}{address}"),
            settings.login_failure_limit,
            true,
        ),
        Counter::new(
            "login-user",
            username.to_owned(),
            settings.login_failure_limit_per_user,
            false,
        ),
    ];
    if client.is_some() {
        counters.push(Counter::new(
            "login-ip",
            address,
            settings.login_failure_limit_per_ip,
            false,
        ));
    }
    counters
}

/// What one password-reset message to user `user_id` at the request of
/// `client` counts against: `AUTH_PASSWORD_RESET_EMAIL_LIMIT` per user and
/// client, `AUTH_PASSWORD_RESET_EMAIL_LIMIT_PER_USER` per user. Keyed on
/// the user matched, not the address typed, so variants of an address
/// that match the same user (case, compatibility forms, a database
/// collation) share one count.
pub(crate) fn reset_mail_counters(
    settings: &Settings,
    user_id: i64,
    client: Option<IpAddr>,
) -> Vec<Counter> {
    vec![
        Counter::new(
            "reset-user-ip",
            format!("{user_id}\u{0}{}", client_key(client)),
            settings.password_reset_email_limit,
            false,
        ),
        Counter::new(
            "reset-user",
            user_id.to_string(),
            settings.password_reset_email_limit_per_user,
            false,
        ),
    ]
}

/// What one password-reset request from `client` counts against (the
/// per-address login limit: a bound on the lookups one address causes).
pub(crate) fn reset_request_counters(settings: &Settings, client: IpAddr) -> Vec<Counter> {
    vec![Counter::new(
        "reset-ip",
        client_key(Some(client)),
        settings.login_failure_limit_per_ip,
        false,
    )]
}

/// Where the counts live.
#[derive(Clone)]
enum Backend {
    Table(DatabaseConnection),
    #[cfg(feature = "redis")]
    Redis {
        client: fred::clients::Client,
        prefix: String,
    },
}

/// Counts attempts per key within a window (see the module docs).
#[derive(Clone)]
pub(crate) struct Throttle {
    backend: Backend,
    mac: SaltedMac,
    window: Duration,
    timeout: Duration,
}

/// One counted slot: the key, and the window it was counted in (its end,
/// in milliseconds), so a slot given back late never takes one from the
/// next window.
#[derive(Debug)]
struct Slot {
    key: String,
    window: i64,
    reset_on_success: bool,
}

/// The slots an attempt holds, until it says how it went. Dropped without
/// a verdict (an error, a cancelled request), the attempt stays counted.
#[derive(Debug)]
#[must_use = "say how the attempt went: failed, succeeded or did_not_happen"]
pub(crate) struct Reservation {
    slots: Vec<Slot>,
}

/// `INCR`, the window set on a counter that has none, in one step; the
/// count and the window's end (milliseconds, Redis' clock).
#[cfg(feature = "redis")]
const REDIS_RESERVE: &str = "local n = redis.call('INCR', KEYS[1]) \
     local ttl = redis.call('PTTL', KEYS[1]) \
     if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end \
     local t = redis.call('TIME') \
     return {n, t[1] * 1000 + math.floor(t[2] / 1000) + ttl}";

/// Gives one slot back to the window it was taken from (its end within
/// half a second of ARGV[1]; the next window ends at least a second
/// later), never creating a counter.
#[cfg(feature = "redis")]
const REDIS_RELEASE: &str = "local ttl = redis.call('PTTL', KEYS[1]) \
     if ttl < 0 then return 0 end \
     local t = redis.call('TIME') \
     local finish = t[1] * 1000 + math.floor(t[2] / 1000) + ttl \
     if math.abs(finish - tonumber(ARGV[1])) > 500 then return 0 end \
     return redis.call('DECR', KEYS[1])";

impl Throttle {
    /// Counts in the app's database.
    pub(crate) fn table(
        db: DatabaseConnection,
        mac: SaltedMac,
        window: Duration,
        timeout: Duration,
    ) -> Self {
        Throttle {
            backend: Backend::Table(db),
            mac,
            window,
            timeout,
        }
    }

    /// Counts in Redis, under `prefix`.
    #[cfg(feature = "redis")]
    pub(crate) fn redis(
        client: fred::clients::Client,
        prefix: String,
        mac: SaltedMac,
        window: Duration,
        timeout: Duration,
    ) -> Self {
        Throttle {
            backend: Backend::Redis { client, prefix },
            mac,
            window,
            timeout,
        }
    }

    fn key(&self, counter: &Counter) -> String {
        format!(
            "{}:{}",
            counter.kind,
            self.mac.hex(counter.value.as_bytes())
        )
    }

    /// Counts one attempt on every counter with a limit, atomically per
    /// counter, before the work it guards. `Err(Error::Throttled)` (after
    /// giving the slots back) when a counter is past its limit.
    pub(crate) async fn reserve(&self, counters: &[Counter]) -> Result<Reservation> {
        let counted: Vec<&Counter> = counters.iter().filter(|c| c.limit > 0).collect();
        let mut slots: Vec<Slot> = counted
            .iter()
            .map(|counter| Slot {
                key: self.key(counter),
                window: 0,
                reset_on_success: counter.reset_on_success,
            })
            .collect();
        if slots.is_empty() {
            return Ok(Reservation { slots });
        }
        let counts = match &self.backend {
            Backend::Table(db) if db.get_database_backend() == DbBackend::MySql => {
                let mut counts = Vec::with_capacity(slots.len());
                for slot in &mut slots {
                    let (count, window) = self.count_row(db, &slot.key).await?;
                    slot.window = window;
                    counts.push(count);
                }
                counts
            }
            Backend::Table(db) => self.count_rows(db, &mut slots).await?,
            #[cfg(feature = "redis")]
            Backend::Redis { client, prefix } => {
                self.reserve_redis(client, prefix, &mut slots).await?
            }
        };
        let reservation = Reservation { slots };
        let over = counted
            .iter()
            .zip(&counts)
            .find(|(counter, count)| **count > u64::from(counter.limit));
        if let Some((counter, _)) = over {
            tracing::warn!(
                counter = counter.kind,
                window_seconds = self.window.as_secs(),
                "attempt refused: too many within the window"
            );
            self.release(reservation, false).await?;
            return Err(Error::Throttled);
        }
        Ok(reservation)
    }

    /// The attempt failed: its slots stay counted.
    pub(crate) fn failed(&self, reservation: Reservation) {
        drop(reservation);
    }

    /// The attempt succeeded: counters that reset on success are cleared,
    /// the others get this attempt's slot back.
    pub(crate) async fn succeeded(&self, reservation: Reservation) -> Result<()> {
        self.release(reservation, true).await
    }

    /// The attempt did not happen (refused for another reason, such as a
    /// saturated hasher): every slot is given back.
    pub(crate) async fn did_not_happen(&self, reservation: Reservation) -> Result<()> {
        self.release(reservation, false).await
    }

    /// Deletes counters whose window has passed (the table only; Redis
    /// keys expire); how many.
    pub(crate) async fn prune(&self) -> Result<u64> {
        match &self.backend {
            Backend::Table(db) => {
                let deleted = self
                    .timed(
                        entity::Entity::delete_many()
                            .filter(entity::Column::ExpiresAt.lte(now_millis()))
                            .exec(db),
                    )
                    .await?;
                Ok(deleted.rows_affected)
            }
            #[cfg(feature = "redis")]
            Backend::Redis { .. } => Ok(0),
        }
    }

    /// MySQL: counts one attempt on `key` in one atomic step (an upsert
    /// that starts a new window when the old one has passed), and returns
    /// the count it made and the window's end: the k-th attempt of a burst
    /// sees exactly k, as `INCR` does.
    async fn count_row(&self, db: &DatabaseConnection, key: &str) -> Result<(u64, i64)> {
        let (now, end) = self.window_from_now();
        self.retrying(|| count_row_mysql(db, key, now, end)).await
    }

    /// PostgreSQL and SQLite: every slot counted in one statement (a
    /// multi-row upsert that starts a new window when the old one has
    /// passed), so the k-th attempt of a burst sees exactly k, as `INCR`
    /// does. Rows are locked in key order: two attempts sharing counters
    /// cannot deadlock.
    async fn count_rows(&self, db: &DatabaseConnection, slots: &mut [Slot]) -> Result<Vec<u64>> {
        let (now, end) = self.window_from_now();
        let mut keys: Vec<&str> = slots.iter().map(|slot| slot.key.as_str()).collect();
        keys.sort_unstable();
        let counted = self
            .retrying(|| count_rows_returning(db, &keys, now, end))
            .await?;
        slots
            .iter_mut()
            .map(|slot| {
                let (count, window) = counted
                    .iter()
                    .find(|(key, _)| *key == slot.key)
                    .map(|(_, counted)| *counted)
                    .ok_or_else(|| {
                        Error::Database(DbErr::RecordNotFound("a counter just written".into()))
                    })?;
                slot.window = window;
                Ok(count)
            })
            .collect()
    }

    #[cfg(feature = "redis")]
    async fn reserve_redis(
        &self,
        client: &fred::clients::Client,
        prefix: &str,
        slots: &mut [Slot],
    ) -> Result<Vec<u64>> {
        use fred::interfaces::LuaInterface;
        let window = i64::try_from(self.window.as_millis().max(1)).unwrap_or(i64::MAX);
        let counts = slots.iter().map(|slot| {
            let key = format!("{prefix}{}", slot.key);
            self.timed_redis(client.eval::<(u64, i64), _, _, _>(REDIS_RESERVE, key, window))
        });
        let counted = futures_util::future::try_join_all(counts).await?;
        Ok(slots
            .iter_mut()
            .zip(counted)
            .map(|(slot, (count, end))| {
                slot.window = end;
                count
            })
            .collect())
    }

    /// Removes the attempt's slots: clears the counters that reset when
    /// `success`, gives back one slot on the others.
    async fn release(&self, reservation: Reservation, success: bool) -> Result<()> {
        let slots = reservation.slots;
        if slots.is_empty() {
            return Ok(());
        }
        let clears = |slot: &&Slot| success && slot.reset_on_success;
        match &self.backend {
            Backend::Table(db) => {
                // One row per statement: a statement that locked several
                // rows in its own order could deadlock with the reserving
                // upsert, which locks them in key order.
                for slot in &slots {
                    if clears(&slot) {
                        self.timed(entity::Entity::delete_by_id(slot.key.clone()).exec(db))
                            .await?;
                    } else {
                        self.timed(
                            entity::Entity::update_many()
                                .col_expr(
                                    entity::Column::Attempts,
                                    Expr::col(entity::Column::Attempts).sub(1),
                                )
                                .filter(entity::Column::CounterKey.eq(slot.key.clone()))
                                .filter(entity::Column::ExpiresAt.eq(slot.window))
                                .filter(entity::Column::Attempts.gt(0))
                                .exec(db),
                        )
                        .await?;
                    }
                }
            }
            #[cfg(feature = "redis")]
            Backend::Redis { client, prefix } => {
                use fred::interfaces::{KeysInterface, LuaInterface};
                let steps = slots.iter().map(|slot| {
                    let key = format!("{prefix}{}", slot.key);
                    let clear = clears(&slot);
                    async move {
                        if clear {
                            self.timed_redis(client.del::<i64, _>(key)).await?;
                        } else {
                            self.timed_redis(client.eval::<i64, _, _, _>(
                                REDIS_RELEASE,
                                key,
                                slot.window,
                            ))
                            .await?;
                        }
                        Ok::<(), Error>(())
                    }
                });
                futures_util::future::try_join_all(steps).await?;
            }
        }
        Ok(())
    }

    /// Now, and the end of a window that starts now (ms since the epoch).
    fn window_from_now(&self) -> (i64, i64) {
        let now = now_millis();
        let length = i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX);
        (now, now.saturating_add(length))
    }

    /// A counting statement, [`timed`](Self::timed), retried up to three
    /// times after a deadlock (two upserts of a new key can deadlock on
    /// MySQL).
    async fn retrying<T, F: Future<Output = Result<T, DbErr>>>(
        &self,
        mut statement: impl FnMut() -> F,
    ) -> Result<T> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.timed(statement()).await {
                Err(Error::Database(err)) if tries < 4 && is_retryable(&err) => continue,
                other => return other,
            }
        }
    }

    async fn timed<T>(&self, fut: impl Future<Output = Result<T, DbErr>>) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout),
        }
    }

    #[cfg(feature = "redis")]
    async fn timed_redis<T>(
        &self,
        fut: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout),
        }
    }
}

impl Throttle {
    /// Creates the counters table if missing (in the database even when
    /// counts live in Redis, as the session table is).
    pub(crate) async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Table(db) => {
                Ok(crate::app::database::create_table::<entity::Entity>(db).await?)
            }
            #[cfg(feature = "redis")]
            Backend::Redis { .. } => Ok(()),
        }
    }
}

/// The counters' table.
const TABLE: &str = "auth_throttle_counter";

/// Now, in milliseconds since the Unix epoch.
fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The count and window end an upsert left.
fn read_count(row: Option<sea_orm::QueryResult>) -> Result<(u64, i64), DbErr> {
    let row = row.ok_or_else(|| DbErr::RecordNotFound("the counter just written".into()))?;
    let attempts: i64 = row.try_get("", "attempts")?;
    let expires_at: i64 = row.try_get("", "expires_at")?;
    Ok((u64::try_from(attempts).unwrap_or(0), expires_at))
}

/// PostgreSQL and SQLite: one upsert for several keys, each counting one
/// attempt (a new window when the old one has passed); each key's count
/// and window end.
async fn count_rows_returning(
    db: &DatabaseConnection,
    keys: &[&str],
    now: i64,
    end: i64,
) -> Result<Vec<(String, (u64, i64))>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(keys.len() * 2 + 2);
    let mut rows = Vec::with_capacity(keys.len());
    let param = |values: &mut Vec<sea_orm::Value>, value: sea_orm::Value| {
        values.push(value);
        if backend == DbBackend::Postgres {
            format!("${}", values.len())
        } else {
            "?".to_owned()
        }
    };
    for key in keys {
        let key = param(&mut values, (*key).into());
        let end = param(&mut values, end.into());
        rows.push(format!("({key}, 1, {end})"));
    }
    let (now_a, now_b) = (
        param(&mut values, now.into()),
        param(&mut values, now.into()),
    );
    let sql = format!(
        "INSERT INTO {TABLE} (counter_key, attempts, expires_at) VALUES {} \
         ON CONFLICT (counter_key) DO UPDATE SET \
         attempts = CASE WHEN {TABLE}.expires_at <= {now_a} THEN 1 ELSE {TABLE}.attempts + 1 END, \
         expires_at = CASE WHEN {TABLE}.expires_at <= {now_b} THEN excluded.expires_at \
         ELSE {TABLE}.expires_at END \
         RETURNING counter_key, attempts, expires_at",
        rows.join(", ")
    );
    let found = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    found
        .into_iter()
        .map(|row| {
            let key: String = row.try_get("", "counter_key")?;
            Ok((key, read_count(Some(row))?))
        })
        .collect()
}

/// MySQL has no `RETURNING`: the upsert and the read in one transaction
/// (the row stays locked by the upsert until the commit).
async fn count_row_mysql(
    db: &DatabaseConnection,
    key: &str,
    now: i64,
    end: i64,
) -> Result<(u64, i64), DbErr> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let upsert = format!(
        "INSERT INTO {TABLE} (counter_key, attempts, expires_at) VALUES (?, 1, ?) \
         ON DUPLICATE KEY UPDATE \
         attempts = IF(expires_at <= ?, 1, attempts + 1), \
         expires_at = IF(expires_at <= ?, ?, expires_at)"
    );
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::MySql,
        upsert,
        [key.into(), end.into(), now.into(), now.into(), end.into()],
    ))
    .await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::MySql,
            format!("SELECT attempts, expires_at FROM {TABLE} WHERE counter_key = ?"),
            [key.into()],
        ))
        .await?;
    let counted = read_count(row)?;
    txn.commit().await?;
    Ok(counted)
}

/// A deadlock or a serialization failure: the statement can be retried.
fn is_retryable(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("Deadlock")
        || text.contains("deadlock detected")
        || text.contains("1213")
        || text.contains("40001")
        || text.contains("40P01")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let key = |s: &str| client_key(Some(s.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:192.0.2.1"), "192.0.2.1", "IPv4-mapped");
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
        assert_eq!(client_key(None), "unknown");
    }
}
