//! Throttling failed attempts (what django-axes adds to Django): failed
//! logins are counted per username and per client IP in the store the
//! sessions use (the `auth_throttle` table, or Redis when sessions are in
//! Redis), so every instance of the app shares the counts. Past a limit
//! within the window, further attempts are refused without hashing; the
//! lockout ends by itself when the window passes.
//!
//! The counted values (usernames, addresses) are stored as HMACs under the
//! secret key, never in clear.

use std::{net::IpAddr, time::Duration};

use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use time::OffsetDateTime;

use crate::{Result, secret::SaltedMac};

/// The key salt of the counters' HMAC.
pub(crate) const THROTTLE_SALT: &str = "auth.throttle";

/// The table of failed attempts: one row per failure.
pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    /// A failed attempt.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_throttle")]
    pub struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// What was counted: a kind and the HMAC of the value.
        #[sea_orm(indexed, column_type = "String(StringLen::N(96))")]
        pub key: String,
        /// When.
        #[sea_orm(indexed)]
        pub at: TimeDateTimeWithTimeZone,
    }

    /// Failures have no relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// One thing counted, with its limit (0: not counted).
pub(crate) struct Counter<'a> {
    /// `login-username`, `login-ip`, …
    pub kind: &'static str,
    pub value: &'a str,
    pub limit: u32,
}

/// Where the counts live.
enum Backend {
    Table(DatabaseConnection),
    #[cfg(feature = "redis")]
    Redis {
        client: fred::clients::Client,
        prefix: String,
    },
}

/// Failure counts with a sliding window (table) or a window from the first
/// failure (Redis); either way a lockout lasts at most `window`.
pub(crate) struct Throttle {
    backend: Backend,
    mac: SaltedMac,
    window: Duration,
    timeout: Duration,
}

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

    /// The first counter at or past its limit within the window, if any.
    pub(crate) async fn over_limit<'c>(
        &self,
        counters: &'c [Counter<'c>],
    ) -> Result<Option<&'c Counter<'c>>> {
        for counter in counters.iter().filter(|c| c.limit > 0) {
            if self.count(&self.key(counter)).await? >= u64::from(counter.limit) {
                return Ok(Some(counter));
            }
        }
        Ok(None)
    }

    /// Counts one failure for each counter.
    pub(crate) async fn record(&self, counters: &[Counter<'_>]) -> Result<()> {
        for counter in counters.iter().filter(|c| c.limit > 0) {
            self.add(&self.key(counter)).await?;
        }
        Ok(())
    }

    /// Forgets a counter's failures (after a success).
    pub(crate) async fn clear(&self, counter: &Counter<'_>) -> Result<()> {
        if counter.limit == 0 {
            return Ok(());
        }
        let key = self.key(counter);
        match &self.backend {
            Backend::Table(db) => {
                self.timed(
                    entity::Entity::delete_many()
                        .filter(entity::Column::Key.eq(key))
                        .exec(db),
                )
                .await?;
            }
            #[cfg(feature = "redis")]
            Backend::Redis { client, prefix } => {
                use fred::interfaces::KeysInterface;
                let _: i64 = self
                    .timed_redis(client.del(format!("{prefix}{key}")))
                    .await?;
            }
        }
        Ok(())
    }

    /// Deletes failures older than the window (the table only; Redis keys
    /// expire); how many.
    pub(crate) async fn prune(&self) -> Result<u64> {
        match &self.backend {
            Backend::Table(db) => {
                let cutoff = OffsetDateTime::now_utc() - self.window;
                let deleted = self
                    .timed(
                        entity::Entity::delete_many()
                            .filter(entity::Column::At.lte(cutoff))
                            .exec(db),
                    )
                    .await?;
                Ok(deleted.rows_affected)
            }
            #[cfg(feature = "redis")]
            Backend::Redis { .. } => Ok(0),
        }
    }

    async fn count(&self, key: &str) -> Result<u64> {
        match &self.backend {
            Backend::Table(db) => {
                let since = OffsetDateTime::now_utc() - self.window;
                self.timed(
                    entity::Entity::find()
                        .filter(entity::Column::Key.eq(key))
                        .filter(entity::Column::At.gt(since))
                        .count(db),
                )
                .await
            }
            #[cfg(feature = "redis")]
            Backend::Redis { client, prefix } => {
                use fred::interfaces::KeysInterface;
                let count: Option<u64> = self
                    .timed_redis(client.get(format!("{prefix}{key}")))
                    .await?;
                Ok(count.unwrap_or(0))
            }
        }
    }

    async fn add(&self, key: &str) -> Result<()> {
        match &self.backend {
            Backend::Table(db) => {
                let row = entity::ActiveModel {
                    key: Set(key.to_owned()),
                    at: Set(OffsetDateTime::now_utc()),
                    ..Default::default()
                };
                self.timed(entity::Entity::insert(row).exec_without_returning(db))
                    .await?;
            }
            #[cfg(feature = "redis")]
            Backend::Redis { client, prefix } => {
                use fred::{
                    interfaces::KeysInterface,
                    types::{Expiration, SetOptions},
                };
                let key = format!("{prefix}{key}");
                let window = i64::try_from(self.window.as_secs().max(1)).unwrap_or(i64::MAX);
                // The window starts at the first failure: create the
                // counter with its expiry, then count (INCR keeps the TTL).
                let _: Option<String> = self
                    .timed_redis(client.set(
                        &key,
                        0,
                        Some(Expiration::EX(window)),
                        Some(SetOptions::NX),
                        false,
                    ))
                    .await?;
                let _: i64 = self.timed_redis(client.incr(&key)).await?;
            }
        }
        Ok(())
    }

    async fn timed<T>(&self, fut: impl Future<Output = Result<T, DbErr>>) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(crate::Error::Timeout),
        }
    }

    #[cfg(feature = "redis")]
    async fn timed_redis<T>(
        &self,
        fut: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(crate::Error::Timeout),
        }
    }
}

/// Creates the failures table if missing.
pub(crate) async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    crate::schema::create_table::<entity::Entity>(db).await
}

/// The client's address: the socket peer, or the rightmost entry of the
/// header named by `AUTH_TRUSTED_PROXY_HEADER` when that is configured.
pub(crate) fn client_ip(
    headers: &http::HeaderMap,
    peer: Option<IpAddr>,
    proxy_header: Option<&str>,
) -> Option<IpAddr> {
    let Some(name) = proxy_header else {
        return peer;
    };
    let value = headers.get(name)?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_peer_or_the_proxys_last_hop() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(&headers, Some(peer), None), Some(peer));
        assert_eq!(
            client_ip(&headers, Some(peer), Some("x-forwarded-for")),
            Some("198.51.100.7".parse().unwrap()),
            "the rightmost entry: the one the trusted proxy added"
        );
        headers.insert("x-forwarded-for", "[2001:db8::1]:443".parse().unwrap());
        assert_eq!(
            client_ip(&headers, None, Some("x-forwarded-for")),
            Some("2001:db8::1".parse().unwrap())
        );
        headers.insert("x-forwarded-for", "garbage".parse().unwrap());
        assert_eq!(
            client_ip(&headers, Some(peer), Some("x-forwarded-for")),
            None
        );
        assert_eq!(client_ip(&http::HeaderMap::new(), None, None), None);
    }
}
