//! A TCP proxy a test can cut and restore, to take a database or Redis
//! "down" for one app without stopping the shared service.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use tokio::{net::TcpListener, task::AbortHandle};

/// A proxy on a local port.
pub struct Proxy {
    /// Where it listens.
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    listener: AbortHandle,
}

impl Proxy {
    /// Starts forwarding a local port to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (up2, connections2) = (up.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound); // refuse while down
                    continue;
                }
                let forward = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections2.lock().unwrap().push(forward.abort_handle());
            }
        });
        Proxy {
            addr,
            up,
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
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.listener.abort();
    }
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
