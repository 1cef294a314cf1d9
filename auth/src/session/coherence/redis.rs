//! Sessions in Redis: connections in RESP3 turn on Redis's client-side
//! caching in broadcast mode for the session key prefix, so Redis reports
//! every change to a session key (a write, a delete, an expiry, from any
//! client) as an invalidation.
//!
//! Tracking is per server. On one server, or on the primary Sentinel
//! names, one connection does; on a Redis Cluster, one connection per
//! primary, since each reports only the keys of its own slots. A failover
//! ends a connection, and the watcher opens new ones wherever the
//! primaries now are.
//!
//! Its heartbeat (see `heartbeat.rs`) is a key written under the prefix
//! through the store's own connection, whose invalidation must come back
//! on the tracking connections: on a cluster, one key per primary, each
//! under a hash tag that puts it in that primary's slots, and a heartbeat
//! is heard when every primary has reported its own key.

use std::{collections::HashSet, str::FromStr, time::Duration};

use fred::{
    clients::Client,
    interfaces::{ClientLike, ClusterInterface, EventInterface, KeysInterface, TrackingInterface},
    prelude::{Builder, Config, ReconnectPolicy},
    types::{
        Expiration, Key, RespVersion,
        cluster::ClusterRouting,
        config::{Server, TcpConfig},
    },
};
use tokio::sync::mpsc;
use tower_sessions::session::Id;

use super::{
    SessionCache, Watched,
    heartbeat::{Channel, Heartbeat, Watcher},
};
use crate::session::redis::topology;

/// Connects, starts tracking `prefix`, proves the channel with a
/// heartbeat, and handles invalidations in a task. `store` is the
/// sessions' own connection, which heartbeats are written through.
pub(crate) async fn start(
    config: Config,
    prefix: String,
    store: Client,
    heartbeat: Heartbeat,
    sessions: SessionCache,
) -> Result<tokio::task::JoinHandle<()>, crate::kernel::error::Error> {
    let channel = Invalidations {
        config,
        heartbeats: format!("{prefix}heartbeat:"),
        prefix,
        store,
        lifetime: heartbeat.deadline() * 10,
        nodes: Vec::new(),
    };
    let watched = Watched {
        sessions: Some(sessions),
        users: None,
    };
    Watcher::start(channel, heartbeat, watched)
        .await
        .map_err(|e| {
            crate::kernel::error::Error::Config(format!("cannot track session keys in Redis: {e}"))
        })
}

/// Redis's invalidations for the session key prefix; heartbeats are keys
/// under it, written through the store's connection.
struct Invalidations {
    config: Config,
    prefix: String,
    /// The prefix of heartbeat keys (under the tracked prefix).
    heartbeats: String,
    store: Client,
    /// How long a heartbeat key lives (ten deadlines).
    lifetime: Duration,
    /// The servers tracked, as of the last `open`.
    nodes: Vec<Node>,
}

/// One tracked server, and the tag that puts a heartbeat key on it.
struct Node {
    /// A cluster's primary; `None` for the one server (or Sentinel's
    /// primary) the configuration names.
    server: Option<Server>,
    /// Written between the heartbeat prefix and the payload: `{h<n>}` on a
    /// cluster, empty otherwise.
    tag: String,
}

/// What a tracking connection reports, forwarded to the watcher with the
/// index of its node.
enum Report {
    Invalidated(usize, Vec<Key>),
    Failed(String),
}

/// The tracking connections and what they report.
struct Tracker {
    clients: Vec<Client>,
    reports: mpsc::Receiver<Report>,
    forwarders: Vec<tokio::task::JoinHandle<()>>,
    /// The heartbeat being awaited, and the nodes that reported it.
    awaiting: Option<String>,
    heard: HashSet<usize>,
}

impl Drop for Tracker {
    fn drop(&mut self) {
        for forwarder in &self.forwarders {
            forwarder.abort();
        }
        for client in self.clients.drain(..) {
            // A silent socket may never answer QUIT: give up on it quickly.
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(1), client.quit()).await;
            });
        }
    }
}

impl Channel for Invalidations {
    type Listener = Tracker;
    const NAME: &'static str = "Redis session invalidations";

    async fn open(&mut self, deadline: Duration) -> Result<Tracker, String> {
        self.nodes = self.nodes(deadline).await?;
        let (sender, reports) = mpsc::channel(1024);
        let mut tracker = Tracker {
            clients: Vec::with_capacity(self.nodes.len()),
            reports,
            forwarders: Vec::with_capacity(self.nodes.len()),
            awaiting: None,
            heard: HashSet::new(),
        };
        for (index, node) in self.nodes.iter().enumerate() {
            let config = match &node.server {
                Some(server) => topology::node_config(&self.config, server.clone()),
                None => self.config.clone(),
            };
            let client = self.track(config, deadline).await?;
            tracker
                .forwarders
                .push(tokio::spawn(forward(index, client.clone(), sender.clone())));
            tracker.clients.push(client);
        }
        Ok(tracker)
    }

    async fn send(&mut self, payload: String) -> Result<String, String> {
        if self.primaries_changed() {
            return Err("the cluster's primaries changed".into());
        }
        let lifetime = i64::try_from(self.lifetime.as_millis().max(1)).unwrap_or(i64::MAX);
        for node in &self.nodes {
            let key = format!("{}{}{payload}", self.heartbeats, node.tag);
            let written: Result<Option<String>, _> = self
                .store
                .set(&key, 1, Some(Expiration::PX(lifetime)), None, false)
                .await;
            written.map_err(|e| e.to_string())?;
        }
        Ok(payload)
    }

    async fn hear(
        &mut self,
        tracker: &mut Tracker,
        watched: &Watched,
        awaited: Option<&str>,
    ) -> Result<bool, String> {
        if tracker.awaiting.as_deref() != awaited {
            tracker.awaiting = awaited.map(str::to_owned);
            tracker.heard.clear();
        }
        match tracker.reports.recv().await {
            Some(Report::Invalidated(node, keys)) => {
                self.apply(node, &keys, watched, tracker);
                Ok(awaited.is_some() && tracker.heard.len() == self.nodes.len())
            }
            Some(Report::Failed(why)) => Err(why),
            None => Err("the tracking connections closed".into()),
        }
    }
}

impl Invalidations {
    /// The servers to track: every primary of a cluster, each with a tag
    /// that puts a heartbeat key in its slots; the one server otherwise.
    async fn nodes(&self, deadline: Duration) -> Result<Vec<Node>, String> {
        let primaries = tokio::time::timeout(deadline, topology::primaries(&self.store))
            .await
            .map_err(|_| "the cluster's layout did not come in time".to_owned())?
            .map_err(|e| e.to_string())?;
        let Some(primaries) = primaries else {
            return Ok(vec![Node {
                server: None,
                tag: String::new(),
            }]);
        };
        let routing = self
            .store
            .cached_cluster_state()
            .ok_or("the cluster's layout is not known")?;
        let nodes: Vec<Node> = primaries
            .into_iter()
            .filter_map(|server| {
                let tag = self.tag_on(&routing, &server)?;
                Some(Node {
                    server: Some(server),
                    tag,
                })
            })
            .collect();
        if nodes.is_empty() {
            // Nothing tracked would mean nothing heard, yet every
            // heartbeat "complete".
            return Err("no primary holds the session keys' slots".into());
        }
        Ok(nodes)
    }

    /// A hash tag that puts heartbeat keys on `server`: `{h<n>}`, or none
    /// when the prefix has a hash tag of its own (every session key is
    /// then on that tag's primary); `None` when no key under the prefix
    /// can land on `server`.
    fn tag_on(&self, routing: &ClusterRouting, server: &Server) -> Option<String> {
        match topology::placement(&self.heartbeats) {
            topology::Placement::Fixed => (routing.get_server(topology::slot(&self.heartbeats))
                == Some(server))
            .then(String::new),
            topology::Placement::Free => (0..100_000).map(|n| format!("{{h{n}}}")).find(|tag| {
                // The payload follows the tag; with a tag, it moves no slot.
                let key = format!("{}{tag}ping", self.heartbeats);
                routing.get_server(topology::slot(&key)) == Some(server)
            }),
        }
    }

    /// Whether the store's view of the cluster has primaries this
    /// tracker does not track (a failover, a new shard).
    fn primaries_changed(&self) -> bool {
        let Some(routing) = self.store.cached_cluster_state() else {
            return false;
        };
        let tracked: Vec<&Server> = self
            .nodes
            .iter()
            .filter_map(|n| n.server.as_ref())
            .collect();
        routing
            .unique_primary_nodes()
            .iter()
            .any(|primary| !tracked.contains(&primary) && self.tag_on(&routing, primary).is_some())
    }

    /// A tracking connection to the server `config` names.
    async fn track(&self, mut config: Config, deadline: Duration) -> Result<Client, String> {
        config.version = RespVersion::RESP3;
        let client = Builder::from_config(config)
            .with_connection_config(|c| {
                c.connection_timeout = deadline;
                c.internal_command_timeout = deadline;
                c.max_command_attempts = 1;
                c.tcp = TcpConfig {
                    keepalive: Some(
                        fred::socket2::TcpKeepalive::new()
                            .with_time(Duration::from_secs(10))
                            .with_interval(Duration::from_secs(5)),
                    ),
                    ..TcpConfig::default()
                };
            })
            .with_performance_config(|p| p.default_command_timeout = deadline)
            // A lost connection is rebuilt by the watcher, with tracking,
            // not by the client behind its back.
            .set_policy(ReconnectPolicy::new_constant(0, 0))
            .build()
            .map_err(|e| e.to_string())?;
        tokio::time::timeout(deadline, client.init())
            .await
            .map_err(|_| "Redis did not answer in time".to_owned())?
            .map_err(|e| e.to_string())?;
        let tracking = client.start_tracking(self.prefix.clone(), true, false, false, false);
        let started = tokio::time::timeout(deadline, tracking)
            .await
            .map_err(|_| "CLIENT TRACKING did not answer in time".to_owned())
            .and_then(|tracked| tracked.map_err(|e| e.to_string()));
        if let Err(why) = started {
            let _ = tokio::time::timeout(Duration::from_secs(1), client.quit()).await;
            return Err(why);
        }
        Ok(client)
    }

    /// Invalidates the sessions named in `keys`, which node `node`
    /// reported, and notes whether that node reported its own key of the
    /// awaited heartbeat (another node's key there would mean the tags no
    /// longer place keys where this tracker thinks).
    fn apply(&self, node: usize, keys: &[Key], watched: &Watched, tracker: &mut Tracker) {
        if keys.is_empty() {
            // A FLUSHALL or FLUSHDB.
            watched.set_live(true);
        }
        for key in keys {
            let Some(key) = key.as_str() else { continue };
            if let Some(beat) = key.strip_prefix(self.heartbeats.as_str()) {
                let own = self.nodes.get(node).map(|n| n.tag.as_str());
                let heard = own
                    .and_then(|tag| beat.strip_prefix(tag))
                    .is_some_and(|payload| tracker.awaiting.as_deref() == Some(payload));
                if heard {
                    tracker.heard.insert(node);
                }
                continue;
            }
            if let Some(id) = key
                .strip_prefix(self.prefix.as_str())
                .and_then(|rest| Id::from_str(rest).ok())
            {
                watched.apply(&super::Change::Session(id));
            }
        }
    }
}

/// Forwards the invalidations and failures of node `index`'s tracking
/// connection until either side closes.
async fn forward(index: usize, client: Client, reports: mpsc::Sender<Report>) {
    let mut invalidations = client.invalidation_rx();
    let mut errors = client.error_rx();
    loop {
        let report = tokio::select! {
            invalidation = invalidations.recv() => match invalidation {
                Ok(invalidation) => Report::Invalidated(index, invalidation.keys),
                // Missed some (lagged): nothing cached can be trusted.
                Err(_) => Report::Failed("invalidations were missed".into()),
            },
            error = errors.recv() => Report::Failed(match error {
                Ok((error, _)) => format!("a tracking connection failed: {error}"),
                Err(_) => "a tracking connection failed".into(),
            }),
        };
        let last = matches!(report, Report::Failed(_));
        if reports.send(report).await.is_err() || last {
            return;
        }
    }
}
