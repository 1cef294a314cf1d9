//! Sessions in Redis: a second connection, in RESP3, turns on Redis's
//! client-side caching in broadcast mode for the session key prefix, so
//! Redis reports every change to a session key (a write, a delete, an
//! expiry, from any client) as an invalidation.
//!
//! Its heartbeat (see `heartbeat.rs`) is a key written under the prefix
//! through the store's own connection, whose invalidation must come back
//! on the tracking connection.

use std::{str::FromStr, time::Duration};

use fred::{
    clients::Client,
    interfaces::{ClientLike, EventInterface, KeysInterface, TrackingInterface},
    prelude::{Builder, Config, ReconnectPolicy},
    types::{Expiration, RespVersion, config::TcpConfig},
};
use tower_sessions::session::Id;

use super::{
    SessionCache, Watched,
    heartbeat::{Channel, Heartbeat, Watcher},
};

/// Connects, starts tracking `prefix`, proves the channel with a
/// heartbeat, and handles invalidations in a task. `store` is the
/// sessions' own connection, which heartbeats are written through.
pub(crate) async fn start(
    url: &str,
    prefix: String,
    store: Client,
    heartbeat: Heartbeat,
    sessions: SessionCache,
) -> Result<tokio::task::JoinHandle<()>, crate::Error> {
    let config =
        Config::from_url(url).map_err(|e| crate::Error::Config(format!("REDIS_URL: {e}")))?;
    let channel = Invalidations {
        config,
        heartbeats: format!("{prefix}heartbeat:"),
        prefix,
        store,
        lifetime: heartbeat.deadline() * 10,
    };
    let watched = Watched {
        sessions: Some(sessions),
        users: None,
    };
    Watcher::start(channel, heartbeat, watched)
        .await
        .map_err(|e| crate::Error::Config(format!("cannot track session keys in Redis: {e}")))
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
}

/// A tracking connection and what it reports.
struct Tracker {
    client: Client,
    invalidations: tokio::sync::broadcast::Receiver<fred::types::client::Invalidation>,
    errors:
        tokio::sync::broadcast::Receiver<(fred::error::Error, Option<fred::types::config::Server>)>,
}

impl Drop for Tracker {
    fn drop(&mut self) {
        let client = self.client.clone();
        // A silent socket may never answer QUIT: give up on it quickly.
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(1), client.quit()).await;
        });
    }
}

impl Channel for Invalidations {
    type Listener = Tracker;
    const NAME: &'static str = "Redis session invalidations";

    async fn open(&mut self, deadline: Duration) -> Result<Tracker, String> {
        let mut config = self.config.clone();
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
        let tracker = Tracker {
            invalidations: client.invalidation_rx(),
            errors: client.error_rx(),
            client,
        };
        tokio::time::timeout(deadline, tracker.client.init())
            .await
            .map_err(|_| "Redis did not answer in time".to_owned())?
            .map_err(|e| e.to_string())?;
        let tracking =
            tracker
                .client
                .start_tracking(self.prefix.clone(), true, false, false, false);
        tokio::time::timeout(deadline, tracking)
            .await
            .map_err(|_| "CLIENT TRACKING did not answer in time".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok(tracker)
    }

    async fn send(&mut self, payload: String) -> Result<String, String> {
        let key = format!("{}{payload}", self.heartbeats);
        let lifetime = i64::try_from(self.lifetime.as_millis().max(1)).unwrap_or(i64::MAX);
        let written: Result<Option<String>, _> = self
            .store
            .set(&key, 1, Some(Expiration::PX(lifetime)), None, false)
            .await;
        written.map_err(|e| e.to_string())?;
        Ok(key)
    }

    async fn hear(
        &mut self,
        tracker: &mut Tracker,
        watched: &Watched,
        awaited: Option<&str>,
    ) -> Result<bool, String> {
        tokio::select! {
            invalidation = tracker.invalidations.recv() => match invalidation {
                Ok(invalidation) => Ok(self.apply(&invalidation.keys, watched, awaited)),
                // Missed some (lagged): nothing cached can be trusted.
                Err(_) => Err("invalidations were missed".into()),
            },
            error = tracker.errors.recv() => Err(match error {
                Ok((error, _)) => format!("the tracking connection failed: {error}"),
                Err(_) => "the tracking connection failed".into(),
            }),
        }
    }
}

impl Invalidations {
    /// Invalidates the sessions named in `keys`; whether the awaited
    /// heartbeat key is among them.
    fn apply(&self, keys: &[fred::types::Key], watched: &Watched, awaited: Option<&str>) -> bool {
        if keys.is_empty() {
            // A FLUSHALL or FLUSHDB.
            watched.set_live(true);
        }
        let mut heard = false;
        for key in keys {
            let Some(key) = key.as_str() else { continue };
            if key.starts_with(self.heartbeats.as_str()) {
                heard |= awaited == Some(key);
                continue;
            }
            if let Some(id) = key
                .strip_prefix(self.prefix.as_str())
                .and_then(|rest| Id::from_str(rest).ok())
            {
                watched.apply(&super::Change::Session(id));
            }
        }
        heard
    }
}
