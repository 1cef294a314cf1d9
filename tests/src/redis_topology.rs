//! Redis deployments a test owns: a Redis Cluster (3 primaries, 3
//! replicas) or a Sentinel set (a primary, a replica, 3 sentinels), as
//! child processes on free loopback ports in a directory of their own, so
//! that a test may kill a primary without disturbing the others. Stopped
//! and removed when dropped. Needs `redis-server` and `redis-cli`.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// One `redis-server` process.
struct Process {
    port: u16,
    child: Option<Child>,
}

/// A Redis Cluster or a Sentinel set of this test's own.
pub struct Topology {
    dir: PathBuf,
    servers: Vec<Process>,
    sentinels: Vec<Process>,
    cluster: bool,
}

/// The name the sentinels know the primary by.
pub const SERVICE: &str = "mymaster";

fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `count` free ports whose cluster bus ports (+10,000) are free too;
/// never the same twice in one process (tests run at once).
fn free_ports(count: usize) -> Vec<u16> {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(
        0,
        20_000 + (std::process::id() % 400) as u16 * 20,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let mut ports = Vec::new();
    while ports.len() < count {
        let port = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(port < 30_000, "no free ports");
        if free(port) && free(port + 10_000) {
            ports.push(port);
        }
    }
    ports
}

fn until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Topology {
    fn dir(kind: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "auth-redis-{kind}-{}-{}",
            std::process::id(),
            auth::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the servers");
        dir
    }

    fn spawn(&self, port: u16, args: &[String]) -> Process {
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(args)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        until(
            &format!("redis {port} answering"),
            Duration::from_secs(10),
            || redis_cli(port, &["ping"]).trim() == "PONG",
        );
        Process {
            port,
            child: Some(child),
        }
    }

    fn server_args(&self, port: u16, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// A cluster of 3 primaries and 3 replicas, every replica attached.
    /// A primary that stops answering is failed over after one second.
    pub fn cluster() -> Self {
        let mut topology = Topology {
            dir: Self::dir("cluster"),
            servers: Vec::new(),
            sentinels: Vec::new(),
            cluster: true,
        };
        for port in free_ports(6) {
            let args = topology.server_args(
                port,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-node-timeout",
                    "1000",
                    "--cluster-config-file",
                    "nodes.conf",
                ],
            );
            let process = topology.spawn(port, &args);
            topology.servers.push(process);
        }
        let nodes: Vec<String> = topology
            .servers
            .iter()
            .map(|p| format!("127.0.0.1:{}", p.port))
            .collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&nodes)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli --cluster create runs");
        assert!(status.success(), "the cluster was not created");
        let first = topology.servers[0].port;
        for server in &topology.servers {
            until(
                "every node's cluster state ok",
                Duration::from_secs(20),
                || redis_cli(server.port, &["cluster", "info"]).contains("cluster_state:ok"),
            );
        }
        until("three attached replicas", Duration::from_secs(20), || {
            redis_cli(first, &["cluster", "nodes"])
                .lines()
                .filter(|line| line.contains("slave") && line.contains("connected"))
                .count()
                == 3
        });
        topology.replicas_synced();
        topology
    }

    /// A primary, its replica and three sentinels watching it as
    /// [`SERVICE`]; a primary that stops answering is failed over after
    /// one second.
    pub fn sentinel() -> Self {
        let mut topology = Topology {
            dir: Self::dir("sentinel"),
            servers: Vec::new(),
            sentinels: Vec::new(),
            cluster: false,
        };
        let ports = free_ports(5);
        let primary = ports[0];
        let args = topology.server_args(primary, &[]);
        let process = topology.spawn(primary, &args);
        topology.servers.push(process);
        let replica_of = primary.to_string();
        let args = topology.server_args(ports[1], &["--replicaof", "127.0.0.1", &replica_of]);
        let process = topology.spawn(ports[1], &args);
        topology.servers.push(process);
        topology.replicas_synced();
        for &port in &ports[2..] {
            let dir = topology.dir.join(port.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            let conf = dir.join("sentinel.conf");
            std::fs::write(
                &conf,
                format!(
                    "port {port}\nbind 127.0.0.1\n\
                     sentinel monitor {SERVICE} 127.0.0.1 {primary} 2\n\
                     sentinel down-after-milliseconds {SERVICE} 1000\n\
                     sentinel failover-timeout {SERVICE} 5000\n"
                ),
            )
            .unwrap();
            let args = vec![conf.display().to_string(), "--sentinel".to_owned()];
            let process = topology.spawn(port, &args);
            topology.sentinels.push(process);
        }
        for sentinel in &topology.sentinels {
            until(
                "the sentinels see the replica",
                Duration::from_secs(20),
                || redis_cli(sentinel.port, &["sentinel", "replicas", SERVICE]).contains("slave"),
            );
        }
        topology
    }

    /// Waits until every replica has its primary's data and a live link
    /// (a replica that never synced cannot be promoted).
    fn replicas_synced(&self) {
        for server in &self.servers {
            until("a replica in sync", Duration::from_secs(30), || {
                let info = redis_cli(server.port, &["info", "replication"]);
                info.contains("role:master") || info.contains("master_link_status:up")
            });
        }
    }

    /// The `REDIS_URL` of this deployment.
    pub fn url(&self) -> String {
        if self.cluster {
            let mut url = format!("redis-cluster://127.0.0.1:{}", self.servers[0].port);
            for (i, server) in self.servers[1..3].iter().enumerate() {
                url.push(if i == 0 { '?' } else { '&' });
                url.push_str(&format!("node=127.0.0.1:{}", server.port));
            }
            url
        } else {
            let mut url = format!(
                "redis-sentinel://127.0.0.1:{}/0?sentinelServiceName={SERVICE}",
                self.sentinels[0].port
            );
            for sentinel in &self.sentinels[1..] {
                url.push_str(&format!("&node=127.0.0.1:{}", sentinel.port));
            }
            url
        }
    }

    /// The port of the primary that holds `key`.
    pub fn primary_of(&self, key: &str) -> u16 {
        if !self.cluster {
            let reply = redis_cli(
                self.sentinels[0].port,
                &["sentinel", "get-master-addr-by-name", SERVICE],
            );
            return reply
                .lines()
                .nth(1)
                .and_then(|p| p.trim().parse().ok())
                .expect("a primary");
        }
        let alive = self.alive().next().expect("a server alive");
        let slot: u16 = redis_cli(alive, &["cluster", "keyslot", key])
            .trim()
            .parse()
            .expect("a slot");
        for line in redis_cli(alive, &["cluster", "nodes"]).lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 9 || !fields[2].contains("master") || fields[2].contains("fail") {
                continue;
            }
            let owns = fields[8..].iter().any(|range| match range.split_once('-') {
                Some((start, end)) => {
                    (start.parse().unwrap_or(u16::MAX)..=end.parse().unwrap_or(0)).contains(&slot)
                }
                None => range.parse() == Ok(slot),
            });
            if owns {
                let address = fields[1].split('@').next().unwrap();
                return address.rsplit(':').next().unwrap().parse().unwrap();
            }
        }
        panic!("no primary holds slot {slot}");
    }

    /// The ports of the servers still running.
    fn alive(&self) -> impl Iterator<Item = u16> + '_ {
        self.servers
            .iter()
            .filter(|p| p.child.is_some())
            .map(|p| p.port)
    }

    /// Kills the server on `port` (SIGKILL: no goodbye to anyone).
    pub fn kill(&mut self, port: u16) {
        let process = self
            .servers
            .iter_mut()
            .find(|p| p.port == port)
            .expect("a server of this topology");
        if let Some(mut child) = process.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for process in self.sentinels.iter_mut().chain(self.servers.iter_mut()) {
            if let Some(mut child) = process.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
