//! Sessions in Redis (Django's `cache` session engine), for several app
//! instances behind one load balancer. Each session is one key holding the
//! JSON record, expiring with the session (Redis' TTL does the cleanup).
//! One server, a Redis Cluster or a primary behind Sentinel (see
//! `topology.rs`); every command names one key, so none spans a
//! cluster's slots.

pub(crate) mod topology;

use std::time::Duration;

use async_trait::async_trait;
use fred::{
    clients::Client,
    interfaces::SetsInterface,
    interfaces::{ClientLike, KeysInterface},
    types::{Expiration, ExpireOptions, SetOptions, config::Config},
};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use super::{
    keys::owner_in,
    store::{Store, interrupted, timed},
};
use topology::{Replication, Topology};

/// A tower-sessions store in Redis, with the same contract as
/// [`DbStore`](super::store::DbStore): `create` never overwrites (`SET NX`),
/// `save` never resurrects a deleted session (`SET XX`), unknown keys
/// create nothing, and keys expire with the session.
#[derive(Clone)]
pub(crate) struct RedisStore {
    client: Client,
    config: Config,
    prefix: String,
    timeout: Duration,
    /// How session writes reach replicas (`WAIT`).
    replication: std::sync::Arc<Replication>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("replicas", &self.replication.replicas())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (one server, a cluster or Sentinel: see
    /// `topology.rs`). Keys are `<prefix><session id>`. Commands fail
    /// after `timeout`; a lost connection is re-established in the
    /// background, so the app recovers without a restart when Redis (or
    /// a promoted replica) answers again. Each session write waits for
    /// `replicas` replicas (`None`: the topology's default).
    pub(crate) async fn connect(
        url: &str,
        prefix: impl Into<String>,
        timeout: Duration,
        replicas: Option<u32>,
    ) -> Result<Self, crate::kernel::error::Error> {
        let config = topology::config(url)?;
        let prefix = prefix.into();
        topology::check_prefix(&prefix)?;
        let replicas = replicas.unwrap_or(Topology::of(&config).default_replicas());
        // A replica on the same network acknowledges within a millisecond
        // or two; one that takes a tenth of the command timeout is as
        // good as gone for this write.
        let replication = Replication::new(replicas, timeout / 10);
        let client = topology::client(config.clone(), timeout)?;
        client.connect();
        match tokio::time::timeout(timeout, client.wait_for_connect()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::error!(error = %err, "cannot reach Redis yet; retrying in the background")
            }
            Err(_) => tracing::error!("cannot reach Redis yet; retrying in the background"),
        }
        Ok(RedisStore {
            client,
            config,
            prefix,
            timeout,
            replication: std::sync::Arc::new(replication),
        })
    }

    /// The session keys under this store's prefix, on every primary,
    /// found with `SCAN` (which walks the keyspace a page at a time and
    /// never blocks the server the way `KEYS` does).
    async fn keys(&self) -> Result<Vec<String>, crate::kernel::error::Error> {
        // Session ids are 22 characters; other keys under the prefix (the
        // login throttle's) are longer.
        let pattern = format!("{}{}", self.prefix, "?".repeat(22));
        let Some(primaries) = topology::primaries(&self.client).await? else {
            return scan(&self.client, &pattern).await;
        };
        let mut keys = Vec::new();
        for node in primaries {
            keys.extend(scan(&self.client.with_cluster_node(node), &pattern).await?);
        }
        Ok(keys)
    }

    /// The connection, shared with the login throttle.
    pub(crate) fn client(&self) -> Client {
        self.client.clone()
    }

    /// The deployment's configuration, for the cache's invalidations.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    /// Waits for the replicas to have the writes to `keys` (see
    /// [`Replication::wait`]).
    async fn replicate(&self, keys: &[&str]) -> session_store::Result<()> {
        timed(self.timeout, self.replication.wait(&self.client, keys)).await
    }

    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.prefix)
    }

    /// The set of user `user_id`'s session ids (the registry). Its braces
    /// make the user id the key's hash tag; every command names the set
    /// alone, so on a cluster the tag only spreads users' sets over the
    /// slots.
    fn user_key(&self, user_id: i64) -> String {
        format!("{}user:{{{user_id}}}", self.prefix)
    }

    /// Adds a logged-in record to its user's set, which lives as long as
    /// the longest-lived member (`EXPIREAT … GT`); the set's key, if any.
    async fn index(&self, record: &Record) -> session_store::Result<Option<String>> {
        let Some(user_id) = owner_in(&record.data) else {
            return Ok(None);
        };
        let key = self.user_key(user_id);
        let _: i64 = timed(
            self.timeout,
            self.client.sadd(key.clone(), record.id.to_string()),
        )
        .await?;
        // A set without a TTL (just made) takes any; `GT` only extends.
        let expires_at = record.expiry_date.unix_timestamp();
        let ttl: i64 = timed(self.timeout, self.client.ttl(key.clone())).await?;
        let options = (ttl >= 0).then_some(ExpireOptions::GT);
        let _: i64 = timed(
            self.timeout,
            self.client.expire_at(key.clone(), expires_at, options),
        )
        .await?;
        Ok(Some(key))
    }

    /// Writes the record with `SET <options>`; `Ok(false)` when the
    /// condition (`NX`/`XX`) was not met.
    async fn set(&self, record: &Record, options: SetOptions) -> session_store::Result<bool> {
        let value = serde_json::to_string(record)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let expires_at = record.expiry_date.unix_timestamp();
        let reply: Option<String> = timed(
            self.timeout,
            self.client.set(
                self.key(&record.id),
                value,
                Some(Expiration::EXAT(expires_at)),
                Some(options),
                false,
            ),
        )
        .await?;
        Ok(reply.is_some())
    }
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        for _ in 0..16 {
            // Always a fresh id (see `DbStore::create`).
            record.id = Id::default();
            if self.set(record, SetOptions::NX).await? {
                let key = self.key(&record.id);
                return match self.index(record).await? {
                    Some(set) => self.replicate(&[&key, &set]).await,
                    None => self.replicate(&[&key]).await,
                };
            }
        }
        Err(session_store::Error::Backend(
            "could not find a free session id".into(),
        ))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if self.set(record, SetOptions::XX).await? {
            self.replicate(&[&self.key(&record.id)]).await
        } else {
            Err(interrupted())
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let value: Option<String> = timed(self.timeout, self.client.get(self.key(id))).await?;
        let Some(value) = value else {
            return Ok(None);
        };
        match serde_json::from_str::<Record>(&value) {
            Ok(record)
                if record.id == *id && record.expiry_date > time::OffsetDateTime::now_utc() =>
            {
                Ok(Some(record))
            }
            Ok(_) => Ok(None),
            Err(err) => {
                tracing::warn!(error = %err, "undecodable session in Redis; treating the session as empty");
                Ok(None)
            }
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let key = self.key(id);
        let _: i64 = timed(self.timeout, self.client.del(key.clone())).await?;
        // A logout a failover forgot would bring the session back.
        self.replicate(&[&key]).await
    }
}

#[async_trait]
impl Store for RedisStore {
    async fn clear_expired(&self) -> crate::kernel::error::Result<u64> {
        // Keys expire with their session.
        Ok(0)
    }

    fn lists_sessions(&self) -> bool {
        true
    }

    /// The members of the user's set that still hold a session of that
    /// user; the others (ended, expired) are pruned from the set.
    async fn sessions_of(&self, user_id: i64) -> crate::kernel::error::Result<Vec<Record>> {
        let key = self.user_key(user_id);
        let members: Vec<String> = timed(self.timeout, self.client.smembers(key.clone()))
            .await
            .map_err(tower_sessions::session::Error::Store)?;
        let mut records = Vec::new();
        let mut gone = Vec::new();
        for member in members {
            let record = match member.parse::<Id>() {
                Ok(id) => self
                    .load(&id)
                    .await
                    .map_err(tower_sessions::session::Error::Store)?,
                Err(_) => None,
            };
            match record {
                Some(record) if owner_in(&record.data) == Some(user_id) => records.push(record),
                _ => gone.push(member),
            }
        }
        if !gone.is_empty() {
            let _: i64 = timed(self.timeout, self.client.srem(key, gone))
                .await
                .map_err(tower_sessions::session::Error::Store)?;
        }
        Ok(records)
    }

    #[cfg(feature = "test-util")]
    async fn count(&self) -> crate::kernel::error::Result<u64> {
        Ok(self.keys().await?.len() as u64)
    }
    async fn clear_all(&self) -> crate::kernel::error::Result<u64> {
        // One `DEL` per key: on a cluster, keys of several slots in one
        // command are refused (`CROSSSLOT`).
        let mut deleted = 0;
        for key in self.keys().await? {
            let gone: i64 = self.client.del(key).await?;
            deleted += u64::try_from(gone).unwrap_or(0);
        }
        Ok(deleted)
    }
}

/// Every key matching `pattern` on the server `client` talks to, by
/// `SCAN` pages (a key may come twice when the keyspace changes meanwhile:
/// deleting it twice is harmless).
async fn scan(
    client: &impl fred::interfaces::ClientLike,
    pattern: &str,
) -> Result<Vec<String>, crate::kernel::error::Error> {
    let mut keys = Vec::new();
    let mut cursor = "0".to_owned();
    loop {
        let args = vec![
            cursor,
            "MATCH".to_owned(),
            pattern.to_owned(),
            "COUNT".to_owned(),
            "1000".to_owned(),
        ];
        let (next, page): (String, Vec<String>) = client.custom(fred::cmd!("SCAN"), args).await?;
        keys.extend(page);
        if next == "0" {
            return Ok(keys);
        }
        cursor = next;
    }
}
