//! Watching a notification channel that can go silent without closing (a
//! NAT or a firewall that stops forwarding): PostgreSQL's `LISTEN` and
//! Redis's invalidations share this loop. The watcher sends itself a
//! heartbeat through the ordinary connection every `period`, and it must
//! come back on the listening connection within `deadline`. When one does
//! not, or the connection fails, the caches go off (every read goes to the
//! store) until a new connection has heard a heartbeat of its own.

use std::{future::Future, time::Duration};

use tokio::time::Instant;

use super::{Watched, poll_interval};
use crate::settings::Settings;

/// A heartbeat's timing and payloads. With the period and the deadline
/// derived from `AUTH_CACHE_MAX_STALENESS` (half of it, and all of it), a
/// silent channel is noticed within one and a half times the bound.
pub(crate) struct Heartbeat {
    period: Duration,
    deadline: Duration,
    /// This process's mark, so instances ignore each other's heartbeats.
    nonce: String,
    sent: u64,
}

impl Heartbeat {
    pub(crate) fn new(settings: &Settings) -> Self {
        Heartbeat {
            period: poll_interval(settings),
            deadline: settings.cache_max_staleness.max(Duration::from_millis(20)),
            nonce: uuid::Uuid::new_v4().simple().to_string(),
            sent: 0,
        }
    }

    /// How long a heartbeat has to come back.
    #[cfg(feature = "redis")]
    pub(super) fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The payload of the next heartbeat: `ping:<nonce>:<n>`, which no
    /// other reader takes for a change.
    fn next_payload(&mut self) -> String {
        self.sent += 1;
        format!("ping:{}:{}", self.nonce, self.sent)
    }
}

/// A source of change notifications: how to open a listening connection,
/// send a heartbeat, and hear what comes back.
pub(super) trait Channel: Send + 'static {
    /// An open listening connection; dropping it closes it.
    type Listener: Send;
    /// What the logs call these notifications.
    const NAME: &'static str;

    /// Opens a listening connection, each step bounded by `deadline`.
    fn open(
        &mut self,
        deadline: Duration,
    ) -> impl Future<Output = Result<Self::Listener, String>> + Send;

    /// Sends `payload` through the ordinary connection; what will come
    /// back on the listener when it arrives.
    fn send(&mut self, payload: String) -> impl Future<Output = Result<String, String>> + Send;

    /// Waits for the next notifications, applies them to `watched`, and
    /// says whether `awaited` (a heartbeat) was among them; an error when
    /// the listener failed or missed something. Cancel-safe.
    fn hear(
        &mut self,
        listener: &mut Self::Listener,
        watched: &Watched,
        awaited: Option<&str>,
    ) -> impl Future<Output = Result<bool, String>> + Send;
}

/// Keeps a channel's caches live while its heartbeats come back in time.
pub(super) struct Watcher<C> {
    channel: C,
    heartbeat: Heartbeat,
    watched: Watched,
}

impl<C: Channel> Watcher<C> {
    /// Opens and proves a first listener (nothing is missed once the
    /// caches go live), then watches in a task.
    pub(super) async fn start(
        channel: C,
        heartbeat: Heartbeat,
        watched: Watched,
    ) -> Result<tokio::task::JoinHandle<()>, String> {
        let mut watcher = Watcher {
            channel,
            heartbeat,
            watched,
        };
        let listener = watcher.connect().await?;
        watcher.watched.set_live(true);
        Ok(tokio::spawn(watcher.run(listener)))
    }

    /// A new listener, proven by a heartbeat.
    async fn connect(&mut self) -> Result<C::Listener, String> {
        let mut listener = self.channel.open(self.heartbeat.deadline).await?;
        let awaited = self.beat().await?;
        let due = Instant::now() + self.heartbeat.deadline;
        loop {
            let heard = self
                .channel
                .hear(&mut listener, &self.watched, Some(&awaited));
            match tokio::time::timeout_at(due, heard).await {
                Err(_) => return Err("the first heartbeat did not come back".into()),
                Ok(Ok(true)) => return Ok(listener),
                Ok(Ok(false)) => {}
                Ok(Err(why)) => return Err(why),
            }
        }
    }

    /// Sends a fresh heartbeat; what to wait for.
    async fn beat(&mut self) -> Result<String, String> {
        let payload = self.heartbeat.next_payload();
        tokio::time::timeout(self.heartbeat.deadline, self.channel.send(payload))
            .await
            .map_err(|_| "the heartbeat could not be sent in time".to_owned())?
    }

    /// Applies notifications while heartbeats come back in time; on a
    /// failure, turns the caches off until a new listener is proven.
    async fn run(mut self, mut listener: C::Listener) {
        loop {
            let failure = self.watch(&mut listener).await;
            tracing::warn!(
                reason = %failure,
                "{} went silent; reading through the cache until they are heard again",
                C::NAME
            );
            self.watched.set_live(false);
            drop(listener);
            listener = self.reconnect().await;
            self.watched.set_live(true);
            tracing::info!("{} are heard again; the cache is back on", C::NAME);
        }
    }

    /// A new proven listener, retried every heartbeat period until one is.
    async fn reconnect(&mut self) -> C::Listener {
        loop {
            tokio::time::sleep(self.heartbeat.period).await;
            match self.connect().await {
                Ok(fresh) => return fresh,
                Err(err) => tracing::debug!(error = %err, "{} still silent", C::NAME),
            }
        }
    }

    /// Serves `listener` until it fails; why it failed.
    async fn watch(&mut self, listener: &mut C::Listener) -> String {
        let mut next_beat = Instant::now() + self.heartbeat.period;
        let mut pending: Option<(String, Instant)> = None;
        loop {
            let wake = pending.as_ref().map_or(next_beat, |(_, due)| *due);
            let awaited = pending.as_ref().map(|(awaited, _)| awaited.as_str());
            tokio::select! {
                heard = self.channel.hear(listener, &self.watched, awaited) => match heard {
                    Ok(true) => {
                        pending = None;
                        next_beat = Instant::now() + self.heartbeat.period;
                    }
                    Ok(false) => {}
                    Err(why) => return why,
                },
                () = tokio::time::sleep_until(wake) => {
                    if pending.is_some() {
                        return "a heartbeat did not come back in time".into();
                    }
                    match self.beat().await {
                        Ok(awaited) => {
                            pending = Some((awaited, Instant::now() + self.heartbeat.deadline));
                        }
                        Err(err) => return err,
                    }
                }
            }
        }
    }
}
