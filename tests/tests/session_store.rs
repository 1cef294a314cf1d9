//! The session store contract, checked directly against each store: the
//! database's (SQLite, PostgreSQL, MySQL) and Redis.

#[macro_use]
mod common;

use std::time::Duration;

use auth::session::{redis::RedisStore, store::count_sessions};
use common::{Backend, User, backend::TestDb};
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
};

fn record(data: &str, expires_in: i64) -> Record {
    let mut map = std::collections::HashMap::new();
    map.insert("k".to_owned(), serde_json::Value::from(data));
    Record {
        id: Id::default(),
        data: map,
        expiry_date: auth::DateTime::now_utc() + time::Duration::seconds(expires_in),
    }
}

/// The store under test, and a way to count what it holds (the `TestDb`
/// is held so the database is dropped at the end).
#[allow(dead_code)]
enum Store {
    Db(auth::Auth<User>, TestDb),
    Redis(RedisStore, TestDb),
}

impl Store {
    async fn new(backend: Backend) -> Self {
        let db = backend.database().await;
        match db.redis.clone() {
            Some((url, prefix)) => Store::Redis(
                RedisStore::connect(&url, prefix, Duration::from_secs(5))
                    .await
                    .unwrap(),
                db,
            ),
            None => Store::Db(db.auth::<User>(auth::Settings::default()).await, db),
        }
    }

    fn store(&self) -> &dyn SessionStore {
        match self {
            Store::Db(auth, _) => auth.session_store(),
            Store::Redis(store, _) => store,
        }
    }

    async fn count(&self) -> u64 {
        match self {
            Store::Db(auth, _) => count_sessions(auth.db()).await.unwrap(),
            Store::Redis(store, _) => store.count().await.unwrap() as u64,
        }
    }
}

async fn create_never_overwrites(backend: Backend) {
    let s = Store::new(backend).await;
    let store = s.store();
    let mut first = record("first", 60);
    store.create(&mut first).await.unwrap();
    let mut second = record("second", 60);
    second.id = first.id;
    store.create(&mut second).await.unwrap();
    assert_ne!(second.id, first.id, "a taken id is replaced");
    assert_eq!(
        store.load(&first.id).await.unwrap().unwrap().data["k"],
        "first"
    );
    assert_eq!(
        store.load(&second.id).await.unwrap().unwrap().data["k"],
        "second"
    );
    assert_eq!(s.count().await, 2);
}

async fn unknown_and_expired_keys_load_nothing_and_create_nothing(backend: Backend) {
    let s = Store::new(backend).await;
    let store = s.store();
    assert!(store.load(&Id::default()).await.unwrap().is_none());
    assert_eq!(s.count().await, 0);
    let mut short = record("short-lived", 1);
    store.create(&mut short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(store.load(&short.id).await.unwrap().is_none(), "expired");
    if let Store::Db(auth, _) = &s {
        assert_eq!(auth.clear_expired_sessions().await.unwrap(), 1);
    }
    assert_eq!(s.count().await, 0);
}

async fn save_updates_but_never_resurrects(backend: Backend) {
    let s = Store::new(backend).await;
    let store = s.store();
    let mut rec = record("v1", 60);
    store.create(&mut rec).await.unwrap();
    rec.data.insert("k".into(), "v2".into());
    store.save(&rec).await.unwrap();
    assert_eq!(store.load(&rec.id).await.unwrap().unwrap().data["k"], "v2");
    // Saving the same data again is fine (no "0 rows changed" surprise).
    store.save(&rec).await.unwrap();

    store.delete(&rec.id).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_none());
    assert!(
        store.save(&rec).await.is_err(),
        "saving a deleted session fails"
    );
    assert_eq!(s.count().await, 0);
}

on_every_backend!(
    create_never_overwrites,
    unknown_and_expired_keys_load_nothing_and_create_nothing,
    save_updates_but_never_resurrects,
);
