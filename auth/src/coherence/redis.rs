//! Sessions in Redis: a second connection, in RESP3, turns on Redis's
//! client-side caching in broadcast mode for the session key prefix, so
//! Redis reports every change to a session key (a write, a delete, an
//! expiry, from any client) as an invalidation. While that connection is
//! down, the session cache is off.

use std::{str::FromStr, time::Duration};

use fred::{
    interfaces::{ClientLike, EventInterface, TrackingInterface},
    prelude::{Builder, Config, ReconnectPolicy},
    types::RespVersion,
};
use tower_sessions::session::Id;

use super::{SessionCache, Watched};

/// Connects, starts tracking `prefix`, and handles invalidations in a task.
pub(crate) async fn start(
    url: &str,
    prefix: String,
    timeout: Duration,
    sessions: SessionCache,
) -> Result<tokio::task::JoinHandle<()>, crate::Error> {
    let mut config =
        Config::from_url(url).map_err(|e| crate::Error::Config(format!("REDIS_URL: {e}")))?;
    config.version = RespVersion::RESP3;
    let client = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = timeout;
            c.internal_command_timeout = timeout;
        })
        .with_performance_config(|p| p.default_command_timeout = timeout)
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .build()?;
    client.init().await?;
    let watched = Watched {
        sessions: Some(sessions),
        users: None,
    };
    let mut invalidations = client.invalidation_rx();
    let mut reconnects = client.reconnect_rx();
    let mut errors = client.error_rx();
    client
        .start_tracking(prefix.clone(), true, false, false, false)
        .await?;
    watched.set_live(true);
    Ok(tokio::spawn(async move {
        loop {
            tokio::select! {
                invalidation = invalidations.recv() => match invalidation {
                    Ok(invalidation) => {
                        if invalidation.keys.is_empty() {
                            // A FLUSHALL or FLUSHDB.
                            watched.set_live(true);
                        }
                        for key in &invalidation.keys {
                            let Some(key) = key.as_str() else { continue };
                            if let Some(id) = key
                                .strip_prefix(prefix.as_str())
                                .and_then(|rest| Id::from_str(rest).ok())
                            {
                                watched.apply(&super::Change::Session(id));
                            }
                        }
                    }
                    // Missed some (lagged): nothing cached can be trusted.
                    Err(_) => watched.set_live(true),
                },
                error = errors.recv() => {
                    if let Ok((error, _)) = error {
                        tracing::warn!(error = %error, "lost the Redis cache invalidation connection");
                    }
                    watched.set_live(false);
                }
                reconnected = reconnects.recv() => {
                    if reconnected.is_ok() {
                        match client.start_tracking(prefix.clone(), true, false, false, false).await {
                            Ok(()) => {
                                watched.set_live(true);
                                tracing::info!("the session cache is back on");
                            }
                            Err(err) => {
                                tracing::warn!(error = %err, "cannot track session keys");
                                watched.set_live(false);
                            }
                        }
                    }
                }
            }
        }
    }))
}
