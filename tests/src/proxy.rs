//! A TCP proxy a test can cut and restore, to take a database or Redis
//! "down" for one app without stopping the shared service; and, to force
//! what only timing would otherwise show, hold one command, or stall the
//! connections that sent a given command (a NAT that stops forwarding
//! without closing the socket).

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    sync::{Notify, watch},
    task::AbortHandle,
};

/// What the test asked the proxy to do to the traffic.
#[derive(Default)]
struct Rules {
    /// Connections whose client has sent these bytes stop forwarding
    /// (both ways) while `stalled` is on.
    stall_pattern: Option<Vec<u8>>,
    /// The next client write holding these bytes waits for the release.
    hold: Option<(Vec<u8>, Arc<HoldState>)>,
}

/// A held write: the proxy notifies `held`, then waits for `released`.
#[derive(Default)]
struct HoldState {
    held: Notify,
    released: Notify,
}

/// A write the proxy holds back until [`Hold::release`].
pub struct Hold(Arc<HoldState>);

impl Hold {
    /// Waits until the proxy holds a matching write.
    pub async fn held(&self) {
        self.0.held.notified().await;
    }

    /// Lets the held write through.
    pub fn release(&self) {
        self.0.released.notify_one();
    }
}

/// What one connection's client sent first (up to [`HISTORY`] bytes), and
/// whether it matched the stall pattern.
#[derive(Default)]
struct Sent {
    history: Mutex<Vec<u8>>,
    matched: AtomicBool,
}

/// How much of each connection's first bytes is kept to match a stall
/// pattern given later.
const HISTORY: usize = 64 * 1024;

/// A proxy on a local port.
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    rules: Arc<Mutex<Rules>>,
    sent: Arc<Mutex<Vec<Arc<Sent>>>>,
    /// Whether connections matching the stall pattern are stalled.
    stalled: watch::Sender<bool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    listener: AbortHandle,
}

impl Proxy {
    /// Starts forwarding a local port to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let rules: Arc<Mutex<Rules>> = Arc::default();
        let (stalled, _) = watch::channel(false);
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let sent: Arc<Mutex<Vec<Arc<Sent>>>> = Arc::default();
        let (up2, rules2, stalled2, connections2, sent2) = (
            up.clone(),
            rules.clone(),
            stalled.clone(),
            connections.clone(),
            sent.clone(),
        );
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound); // refuse while down
                    continue;
                }
                let (rules, stalled) = (rules2.clone(), stalled2.subscribe());
                let record = Arc::new(Sent::default());
                sent2.lock().unwrap().push(record.clone());
                let forward = tokio::spawn(async move {
                    if let Ok(outbound) = tokio::net::TcpStream::connect(target).await {
                        forward(inbound, outbound, rules, stalled, record).await;
                    }
                });
                connections2.lock().unwrap().push(forward.abort_handle());
            }
        });
        Proxy {
            addr,
            up,
            rules,
            sent,
            stalled,
            connections,
            listener: task.abort_handle(),
        }
    }

    /// Drops every connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    /// Accepts connections again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Holds the next client write that contains `pattern` until the
    /// returned [`Hold`] is released.
    pub fn hold(&self, pattern: &[u8]) -> Hold {
        let state = Arc::new(HoldState::default());
        self.rules.lock().unwrap().hold = Some((pattern.to_vec(), state.clone()));
        Hold(state)
    }

    /// Stops forwarding, both ways and without closing them, on every
    /// connection whose client has sent (or will send) `pattern`, such as
    /// `LISTEN` or `TRACKING`; the others go on.
    pub fn stall(&self, pattern: &[u8]) {
        let mut rules = self.rules.lock().unwrap();
        rules.stall_pattern = Some(pattern.to_vec());
        for sent in self.sent.lock().unwrap().iter() {
            if contains(&sent.history.lock().unwrap(), pattern) {
                sent.matched.store(true, Ordering::SeqCst);
            }
        }
        drop(rules);
        self.stalled.send_replace(true);
    }

    /// Forwards on stalled connections again.
    pub fn unstall(&self) {
        self.stalled.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.listener.abort();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Copies both ways, applying the rules.
async fn forward(
    inbound: tokio::net::TcpStream,
    outbound: tokio::net::TcpStream,
    rules: Arc<Mutex<Rules>>,
    stalled: watch::Receiver<bool>,
    sent: Arc<Sent>,
) {
    let (mut client_read, mut client_write) = inbound.into_split();
    let (mut server_read, mut server_write) = outbound.into_split();
    let wait_unstalled = |sent: Arc<Sent>, mut stalled: watch::Receiver<bool>| async move {
        while sent.matched.load(Ordering::SeqCst) && *stalled.borrow_and_update() {
            if stalled.changed().await.is_err() {
                return;
            }
        }
    };
    let upstream = {
        let (sent, stalled) = (sent.clone(), stalled.clone());
        async move {
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = match client_read.read(&mut buffer).await {
                    Ok(0) | Err(_) => {
                        let _ = server_write.shutdown().await;
                        return;
                    }
                    Ok(n) => n,
                };
                let chunk = &buffer[..n];
                let hold = {
                    let mut rules = rules.lock().unwrap();
                    let mut history = sent.history.lock().unwrap();
                    let room = HISTORY.saturating_sub(history.len());
                    history.extend_from_slice(&chunk[..room.min(chunk.len())]);
                    if let Some(pattern) = &rules.stall_pattern
                        && contains(&history, pattern)
                    {
                        sent.matched.store(true, Ordering::SeqCst);
                    }
                    drop(history);
                    match &rules.hold {
                        Some((pattern, _)) if contains(chunk, pattern) => {
                            rules.hold.take().map(|(_, state)| state)
                        }
                        _ => None,
                    }
                };
                if let Some(state) = hold {
                    state.held.notify_one();
                    state.released.notified().await;
                }
                wait_unstalled(sent.clone(), stalled.clone()).await;
                if server_write.write_all(chunk).await.is_err() {
                    return;
                }
            }
        }
    };
    let downstream = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => {
                    let _ = client_write.shutdown().await;
                    return;
                }
                Ok(n) => n,
            };
            wait_unstalled(sent.clone(), stalled.clone()).await;
            if client_write.write_all(&buffer[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::join!(upstream, downstream);
}

/// `url` with its `host:port` replaced by `addr`.
pub fn via(url: &str, addr: SocketAddr) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (userinfo, after_user) = match rest.split_once('@') {
        Some((user, after)) => (format!("{user}@"), after),
        None => (String::new(), rest),
    };
    let path_start = after_user.find(['/', '?']).unwrap_or(after_user.len());
    format!("{scheme}://{userinfo}{addr}{}", &after_user[path_start..])
}

/// The `host:port` of `url`, resolved.
pub fn target(url: &str) -> SocketAddr {
    use std::net::ToSocketAddrs;
    let rest = url.split_once("://").expect("a URL with a scheme").1;
    let after_user = rest.rsplit_once('@').map_or(rest, |(_, a)| a);
    let end = after_user.find(['/', '?']).unwrap_or(after_user.len());
    after_user[..end].to_socket_addrs().unwrap().next().unwrap()
}
