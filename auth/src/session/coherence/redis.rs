//! Sessions in Redis: a second connection, in RESP3, turns on Redis's
//! client-side caching in broadcast mode for the session key prefix, so
//! Redis reports every change to a session key (a write, a delete, an
//! expiry, from any client) as an invalidation.
//!
//! That connection can go silent without closing (a NAT or a firewall
//! that stops forwarding): every half staleness bound the watcher writes a
//! heartbeat key under the prefix through the store's own connection, and
//! its invalidation must come back on the tracking connection within the
//! bound. When one does not, or the connection fails, the session cache
//! goes off until a new tracking connection has heard a heartbeat.

use std::{str::FromStr, time::Duration};

use fred::{
    clients::Client,
    interfaces::{ClientLike, EventInterface, KeysInterface, TrackingInterface},
    prelude::{Builder, Config, ReconnectPolicy},
    types::{Expiration, RespVersion, config::TcpConfig},
};
use tokio::time::Instant;
use tower_sessions::session::Id;

use super::{Heartbeat, SessionCache, Watched};

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
    let mut watcher = Watcher {
        config,
        heartbeats: format!("{prefix}heartbeat:"),
        prefix,
        store,
        heartbeat,
        watched: Watched {
            sessions: Some(sessions),
            users: None,
        },
    };
    let tracker = watcher
        .connect()
        .await
        .map_err(|e| crate::Error::Config(format!("cannot track session keys in Redis: {e}")))?;
    watcher.watched.set_live(true);
    Ok(tokio::spawn(watcher.run(tracker)))
}

struct Watcher {
    config: Config,
    prefix: String,
    /// The prefix of heartbeat keys (under the tracked prefix).
    heartbeats: String,
    store: Client,
    heartbeat: Heartbeat,
    watched: Watched,
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

impl Watcher {
    /// A new tracking connection, proven by a heartbeat.
    async fn connect(&mut self) -> Result<Tracker, String> {
        let deadline = self.heartbeat.deadline;
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
            // A lost connection is rebuilt here, with tracking, not by
            // the client behind the watcher's back.
            .set_policy(ReconnectPolicy::new_constant(0, 0))
            .build()
            .map_err(|e| e.to_string())?;
        let mut tracker = Tracker {
            invalidations: client.invalidation_rx(),
            errors: client.error_rx(),
            client,
        };
        tokio::time::timeout(deadline, tracker.client.init())
            .await
            .map_err(|_| "Redis did not answer in time".to_owned())?
            .map_err(|e| e.to_string())?;
        tokio::time::timeout(
            deadline,
            tracker
                .client
                .start_tracking(self.prefix.clone(), true, false, false, false),
        )
        .await
        .map_err(|_| "CLIENT TRACKING did not answer in time".to_owned())?
        .map_err(|e| e.to_string())?;
        let due = Instant::now() + deadline;
        let sent = self.send_heartbeat().await?;
        loop {
            match tokio::time::timeout_at(due, tracker.invalidations.recv()).await {
                Err(_) => return Err("the first heartbeat did not come back".into()),
                Ok(Ok(invalidation)) => {
                    if self.apply(&invalidation.keys, Some(&sent)) {
                        return Ok(tracker);
                    }
                }
                Ok(Err(_)) => self.watched.set_live(false),
            }
        }
    }

    /// Writes a fresh heartbeat key through the store's connection; its
    /// name.
    async fn send_heartbeat(&mut self) -> Result<String, String> {
        let key = format!("{}{}", self.heartbeats, self.heartbeat.next_payload());
        let lifetime =
            i64::try_from(self.heartbeat.deadline.as_millis().max(1) * 10).unwrap_or(i64::MAX);
        let written: Result<Option<String>, _> = tokio::time::timeout(
            self.heartbeat.deadline,
            self.store
                .set(&key, 1, Some(Expiration::PX(lifetime)), None, false),
        )
        .await
        .map_err(|_| "the heartbeat could not be written in time".to_owned())?;
        written.map_err(|e| e.to_string())?;
        Ok(key)
    }

    /// Invalidates the sessions named in `keys`; whether the awaited
    /// heartbeat key is among them.
    fn apply(&self, keys: &[fred::types::Key], awaited: Option<&str>) -> bool {
        if keys.is_empty() {
            // A FLUSHALL or FLUSHDB.
            self.watched.set_live(true);
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
                self.watched.apply(&super::Change::Session(id));
            }
        }
        heard
    }

    /// Applies invalidations while heartbeats come back in time; on a
    /// failure, turns the cache off until a new tracker is proven.
    async fn run(mut self, mut tracker: Tracker) {
        loop {
            let failure = self.watch(&mut tracker).await;
            tracing::warn!(
                reason = %failure,
                "Redis invalidations went silent; reading sessions through until they are heard again"
            );
            self.watched.set_live(false);
            drop(tracker);
            tracker = self.reconnect().await;
            self.watched.set_live(true);
            tracing::info!("the session cache is back on");
        }
    }

    /// A new proven tracking connection, retried every heartbeat period until one is.
    async fn reconnect(&mut self) -> Tracker {
        loop {
            tokio::time::sleep(self.heartbeat.period).await;
            match self.connect().await {
                Ok(fresh) => return fresh,
                Err(err) => tracing::debug!(error = %err, "cache notifications still silent"),
            }
        }
    }

    /// Serves `tracker` until it fails; why it failed.
    async fn watch(&mut self, tracker: &mut Tracker) -> String {
        let mut next_beat = Instant::now() + self.heartbeat.period;
        let mut pending: Option<(String, Instant)> = None;
        loop {
            let wake = pending.as_ref().map_or(next_beat, |(_, due)| *due);
            tokio::select! {
                invalidation = tracker.invalidations.recv() => match invalidation {
                    Ok(invalidation) => {
                        let awaited = pending.as_ref().map(|(key, _)| key.as_str());
                        if self.apply(&invalidation.keys, awaited) {
                            pending = None;
                            next_beat = Instant::now() + self.heartbeat.period;
                        }
                    }
                    // Missed some (lagged): nothing cached can be trusted.
                    Err(_) => return "invalidations were missed".into(),
                },
                error = tracker.errors.recv() => {
                    return match error {
                        Ok((error, _)) => format!("the tracking connection failed: {error}"),
                        Err(_) => "the tracking connection failed".into(),
                    };
                }
                () = tokio::time::sleep_until(wake) => {
                    if pending.is_some() {
                        return "a heartbeat did not come back in time".into();
                    }
                    match self.send_heartbeat().await {
                        Ok(key) => pending = Some((key, Instant::now() + self.heartbeat.deadline)),
                        Err(err) => return err,
                    }
                }
            }
        }
    }
}
