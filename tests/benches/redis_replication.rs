//! What waiting for a replica (`WAIT 1` after each session write, the
//! default on a Redis Cluster and behind Sentinel) costs, against the
//! same deployment without it, in the same run: the mean time of one
//! session write (create, then delete) one after another, and the writes
//! per second of 16 at once (`WAIT` holds the connection they share).
//!
//! Runs on the deployments `.ci/redis-topologies` starts:
//! `AUTH_TEST_REDIS_SENTINEL_URL` and `AUTH_TEST_REDIS_CLUSTER_URL`
//! (`eval "$(.ci/redis-topologies)"; cargo bench -p auth-tests --bench
//! redis_replication`).

use std::time::{Duration, Instant};

use tower_sessions::{
    SessionStore,
    session::{Id, Record},
};

const SEQUENTIAL: usize = 2_000;
const CONCURRENT: usize = 16;
const PER_TASK: usize = 500;

fn record() -> Record {
    Record {
        id: Id::default(),
        data: [("k".to_owned(), serde_json::json!("v"))].into(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
    }
}

async fn app(url: &str, replicas: u32) -> auth::Auth<auth_tests::User> {
    let settings = auth::Settings {
        secret_key: Some(auth_tests::TEST_SECRET.into()),
        session_redis_key_prefix: format!("bench-{}:", auth::Uuid::new_v4().simple()),
        session_redis_replicas: Some(replicas),
        session_cleanup_interval: None,
        ..Default::default()
    };
    auth::Auth::<auth_tests::User>::builder()
        .database_url(auth_tests::sqlite_url())
        .redis_url(url)
        .settings(settings)
        .build()
        .await
        .expect("auth builds")
}

async fn write(store: &impl SessionStore) {
    let mut record = record();
    store.create(&mut record).await.expect("create");
    store.delete(&record.id).await.expect("delete");
}

/// Mean time of one write (a create and a delete), one after another.
async fn sequential(store: &(impl SessionStore + Clone)) -> Duration {
    for _ in 0..100 {
        write(store).await;
    }
    let started = Instant::now();
    for _ in 0..SEQUENTIAL {
        write(store).await;
    }
    started.elapsed() / SEQUENTIAL as u32
}

/// Writes per second with `CONCURRENT` tasks at once.
async fn concurrent(store: &(impl SessionStore + Clone + 'static)) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..PER_TASK {
                    write(&store).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a task");
    }
    (CONCURRENT * PER_TASK) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "| deployment | write, no WAIT | write, WAIT 1 | ratio | writes/s ×16, no WAIT | writes/s ×16, WAIT 1 | ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut ran = 0;
    for (name, variable) in [
        ("Sentinel", "AUTH_TEST_REDIS_SENTINEL_URL"),
        ("Cluster", "AUTH_TEST_REDIS_CLUSTER_URL"),
    ] {
        let Some(url) = std::env::var(variable).ok().filter(|v| !v.is_empty()) else {
            eprintln!("{name}: {variable} is not set; skipped");
            continue;
        };
        let (no_wait, wait) = (app(&url, 0).await, app(&url, 1).await);
        let without = auth::testing::session_store(&no_wait);
        let with = auth::testing::session_store(&wait);
        let (a, b) = (sequential(&without).await, sequential(&with).await);
        let (c, d) = (concurrent(&without).await, concurrent(&with).await);
        println!(
            "| {name} | {:.0} µs | {:.0} µs | {:.2} | {c:.0} | {d:.0} | {:.2} |",
            a.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            b.as_secs_f64() / a.as_secs_f64(),
            d / c,
        );
        ran += 1;
    }
    assert!(ran > 0, "no deployment to measure: see the module docs");
}
