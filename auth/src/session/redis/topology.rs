//! The three shapes of Redis deployment `REDIS_URL` can name, and what
//! differs between them:
//!
//! - one server: `redis://host:6379/0`;
//! - a Redis Cluster: `redis-cluster://host:7000?node=host:7001&node=host:7002`,
//!   keys spread over the primaries by hash slot;
//! - a primary behind Sentinel:
//!   `redis-sentinel://host:26379/0?sentinelServiceName=mymaster&node=host:26380`,
//!   which the client asks where the primary is, again after a failover.
//!
//! On the two replicated shapes a session write waits for a replica to
//! acknowledge it (`WAIT`), so a session survives its primary's failure.

use std::time::{Duration, Instant};

use fred::{
    clients::Client,
    interfaces::{ClientLike, ClusterInterface, ServerInterface},
    types::{
        Builder,
        config::{ClusterDiscoveryPolicy, Config, ReconnectPolicy, Server, ServerConfig},
    },
};

/// A Redis deployment's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Topology {
    /// One server, perhaps with replicas nobody fails over to.
    Single,
    /// A Redis Cluster.
    Cluster,
    /// A primary found through Sentinel.
    Sentinel,
}

impl Topology {
    /// The shape `config` names.
    pub(crate) fn of(config: &Config) -> Self {
        match config.server {
            ServerConfig::Clustered { .. } => Topology::Cluster,
            ServerConfig::Sentinel { .. } => Topology::Sentinel,
            _ => Topology::Single,
        }
    }

    /// How many replicas a session write waits for unless
    /// `AUTH_SESSION_REDIS_REPLICAS` says: one where a replica can be
    /// promoted (Cluster, Sentinel), none on one server.
    pub(crate) fn default_replicas(self) -> u32 {
        match self {
            Topology::Single => 0,
            Topology::Cluster | Topology::Sentinel => 1,
        }
    }
}

/// `REDIS_URL` parsed; an error names the variable, never the password.
pub(crate) fn config(url: &str) -> Result<Config, crate::kernel::error::Error> {
    let mut config = Config::from_url(url)
        .map_err(|e| crate::kernel::error::Error::Config(format!("REDIS_URL: {e}")))?;
    if let ServerConfig::Clustered { policy, .. } = &mut config.server {
        // The nodes given are where to start; after a failover, any node
        // the cluster last named may say where the slots went.
        *policy = ClusterDiscoveryPolicy::UseCache;
    }
    Ok(config)
}

/// A client for `config` whose commands fail after `timeout` and which
/// reconnects in the background (on a Cluster or Sentinel: to wherever
/// the primary now is).
pub(crate) fn client(
    config: Config,
    timeout: Duration,
) -> Result<Client, crate::kernel::error::Error> {
    Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = timeout;
            c.internal_command_timeout = timeout;
            c.max_command_attempts = 1;
            // A failover moves slots: follow MOVED and ASK, resyncing
            // the routing table, rather than failing the request.
            c.max_redirections = 5;
        })
        .with_performance_config(|p| p.default_command_timeout = timeout)
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build()
        .map_err(|e| crate::kernel::error::Error::Config(format!("REDIS_URL: {e}")))
}

/// A configuration like `config` for the one server `node` (a cluster's
/// primary), with the same credentials and TLS.
pub(crate) fn node_config(config: &Config, node: Server) -> Config {
    Config {
        server: ServerConfig::Centralized { server: node },
        ..config.clone()
    }
}

/// The cluster's primaries, after asking the cluster for its current
/// layout; the one server otherwise (`None`: not a cluster).
pub(crate) async fn primaries(client: &Client) -> Result<Option<Vec<Server>>, fred::error::Error> {
    if !client.is_clustered() {
        return Ok(None);
    }
    client.sync_cluster().await?;
    let routing = client.cached_cluster_state().ok_or_else(|| {
        fred::error::Error::new(
            fred::error::ErrorKind::Cluster,
            "the cluster's layout is not known yet",
        )
    })?;
    Ok(Some(routing.unique_primary_nodes()))
}

/// Where the keys under a prefix land on a cluster, by Redis's rule (a
/// key's slot is its hash tag's, the text between its first `{` and the
/// next `}`, when that is not empty; the whole key's otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// The prefix has a hash tag: every key under it is on one slot.
    Fixed,
    /// A `{…}` appended to the prefix decides the slot.
    Free,
}

/// How keys under `prefix` are placed; `AUTH_SESSION_REDIS_KEY_PREFIX`
/// with an empty `{}` (which would hash whole keys, and let no tag place
/// one) is refused at start (see [`check_prefix`]).
pub(crate) fn placement(prefix: &str) -> Placement {
    match prefix.find('{') {
        Some(open) if prefix[open + 1..].find('}').is_some_and(|close| close > 0) => {
            Placement::Fixed
        }
        _ => Placement::Free,
    }
}

/// Refuses a key prefix whose first `{` is closed at once (`{}`): Redis
/// then hashes every key whole, so no key could be placed on a chosen
/// cluster node.
pub(crate) fn check_prefix(prefix: &str) -> Result<(), crate::kernel::error::Error> {
    match prefix.find('{') {
        Some(open) if prefix[open + 1..].starts_with('}') => {
            Err(crate::kernel::error::Error::Config(format!(
                "AUTH_SESSION_REDIS_KEY_PREFIX {prefix:?} has an empty hash tag `{{}}`, which \
             keeps Redis Cluster from placing its keys; remove it, or put a name inside"
            )))
        }
        _ => Ok(()),
    }
}

/// The hash slot of `key` (its hash tag's, when it has one).
pub(crate) fn slot(key: &str) -> u16 {
    fred::util::redis_keyslot(key.as_bytes())
}

/// How session writes are replicated before they are answered: `WAIT`
/// for `replicas` replicas after each, on the server that took it.
///
/// A server without enough replicas in time (its replica died, or was
/// just promoted in its place) is not waited on again for
/// [`Replication::BACKOFF`]: `WAIT` holds the connection every command to
/// that server shares, so waiting out the timeout on every write would
/// turn a lost replica into an outage of the shard.
#[derive(Debug)]
pub(crate) struct Replication {
    replicas: u32,
    timeout: Duration,
    /// Servers not waited on until the instant given (`None`: the one
    /// server, or Sentinel's primary).
    skipped: std::sync::Mutex<Vec<(Option<Server>, Instant)>>,
}

impl Replication {
    /// How long a server that fell short is not waited on.
    pub(crate) const BACKOFF: Duration = Duration::from_secs(10);

    /// `replicas` acknowledgements per write, each wait at most `timeout`.
    pub(crate) fn new(replicas: u32, timeout: Duration) -> Self {
        Replication {
            replicas,
            timeout,
            skipped: std::sync::Mutex::default(),
        }
    }

    /// How many replicas each write waits for.
    pub(crate) fn replicas(&self) -> u32 {
        self.replicas
    }

    /// Waits until the replicas have what `client` wrote to the servers
    /// holding `keys` (one `WAIT` per server). Fewer in time is logged,
    /// not an error: the write is on the primary, and refusing it would
    /// turn a lost replica into an outage.
    pub(crate) async fn wait(
        &self,
        client: &Client,
        keys: &[&str],
    ) -> Result<(), fred::error::Error> {
        if self.replicas == 0 || keys.is_empty() {
            return Ok(());
        }
        // WAIT counts this connection's writes: on a cluster, send it to
        // each node that took one.
        let mut nodes: Vec<Option<Server>> = Vec::new();
        match client.cached_cluster_state() {
            Some(routing) => {
                for node in keys.iter().filter_map(|key| routing.get_server(slot(key))) {
                    if !nodes.iter().flatten().any(|known| known == node) {
                        nodes.push(Some(node.clone()));
                    }
                }
            }
            None => nodes.push(None),
        }
        let millis = i64::try_from(self.timeout.as_millis().max(1)).unwrap_or(i64::MAX);
        let wanted = i64::from(self.replicas);
        for node in nodes {
            if self.is_skipped(&node) {
                continue;
            }
            let acknowledged: i64 = match &node {
                Some(server) => {
                    client
                        .with_cluster_node(server.clone())
                        .wait(wanted, millis)
                        .await?
                }
                None => client.wait(wanted, millis).await?,
            };
            if acknowledged < wanted {
                tracing::warn!(
                    server = %node.as_ref().map_or_else(|| "primary".to_owned(), Server::to_string),
                    wanted,
                    acknowledged,
                    "a session write reached fewer Redis replicas than AUTH_SESSION_REDIS_REPLICAS \
                     in time; it would be lost if its primary failed now. Not waiting on this \
                     server for {} s",
                    Self::BACKOFF.as_secs()
                );
                self.skip(node);
            }
        }
        Ok(())
    }

    fn is_skipped(&self, node: &Option<Server>) -> bool {
        let now = Instant::now();
        let mut skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        skipped.retain(|(_, until)| *until > now);
        skipped.iter().any(|(server, _)| server == node)
    }

    fn skip(&self, node: Option<Server>) {
        let until = Instant::now() + Self::BACKOFF;
        let mut skipped = self.skipped.lock().unwrap_or_else(|e| e.into_inner());
        skipped.retain(|(server, _)| *server != node);
        skipped.push((node, until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_names_the_shape() {
        let shape = |url: &str| Topology::of(&config(url).unwrap());
        assert_eq!(shape("redis://127.0.0.1:6379/0"), Topology::Single);
        assert_eq!(
            shape("redis-cluster://127.0.0.1:7000?node=127.0.0.1:7001&node=127.0.0.1:7002"),
            Topology::Cluster
        );
        assert_eq!(
            shape("redis-sentinel://127.0.0.1:26379/0?sentinelServiceName=mymaster"),
            Topology::Sentinel
        );
        assert_eq!(Topology::Single.default_replicas(), 0);
        assert_eq!(Topology::Cluster.default_replicas(), 1);
        assert!(config("redis-sentinel://127.0.0.1:26379/0").is_err());
    }

    #[test]
    fn a_prefix_places_its_keys_by_redis_rule() {
        assert_eq!(placement("auth:session:"), Placement::Free);
        assert_eq!(placement("{app}auth:session:"), Placement::Fixed);
        // The `}` of the tag appended closes it: the tag still varies.
        assert_eq!(placement("auth{session:"), Placement::Free);
        assert!(check_prefix("auth:{}session:").is_err());
        assert!(check_prefix("{app}:").is_ok());
        assert!(check_prefix("auth:session:").is_ok());
    }

    #[test]
    fn a_hash_tag_decides_the_slot() {
        // The values `CLUSTER KEYSLOT` gives.
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("auth:session:user:{42}"), slot("{42}"));
        assert_ne!(
            slot("auth:session:user:{42}"),
            slot("auth:session:user:{43}")
        );
    }
}
