//! The session store contract, checked directly against each store: the
//! database's (SQLite, PostgreSQL, MySQL) and Redis.

use std::time::Duration;

use auth_tests::{Backend, TestDb, User};
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

/// The app whose store is under test, and its database (dropped at the end).
struct Store {
    auth: auth::Auth<User>,
    _db: TestDb,
}

impl Store {
    async fn new(backend: Backend) -> Self {
        let db = backend.database().await;
        let auth = db.auth::<User>(auth::Settings::default()).await;
        Store { auth, _db: db }
    }

    fn store(&self) -> impl SessionStore {
        auth::testing::session_store(&self.auth)
    }

    async fn count(&self) -> u64 {
        auth::testing::session_count(&self.auth).await.unwrap()
    }
}

auth_tests::backend_tests! {
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

        // Not even a free id is adopted: every session gets one of the
        // store's choosing.
        let mut chosen = record("chosen", 60);
        let wanted = chosen.id;
        store.create(&mut chosen).await.unwrap();
        assert_ne!(chosen.id, wanted);
        assert!(store.load(&wanted).await.unwrap().is_none());
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
        // Redis expires the key by itself; the table needs a delete.
        let expected = if backend.redis_env().is_some() { 0 } else { 1 };
        assert_eq!(s.auth.clear_expired_sessions().await.unwrap(), expected);
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
}
