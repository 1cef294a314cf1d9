//! The session store contract, checked directly against the database.

mod common;

use auth::session::store::count_sessions;
use common::{User, fresh_auth};
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

#[tokio::test]
async fn create_never_overwrites() {
    let auth = fresh_auth::<User>().await;
    let store = auth.session_store();
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
}

#[tokio::test]
async fn unknown_and_expired_keys_load_nothing_and_create_nothing() {
    let auth = fresh_auth::<User>().await;
    let store = auth.session_store();
    assert!(store.load(&Id::default()).await.unwrap().is_none());
    assert_eq!(count_sessions(auth.db()).await.unwrap(), 0);
    let mut expired = record("old", -1);
    store.create(&mut expired).await.unwrap();
    assert!(store.load(&expired.id).await.unwrap().is_none());
    assert_eq!(auth.clear_expired_sessions().await.unwrap(), 1);
}

#[tokio::test]
async fn save_updates_but_never_resurrects() {
    let auth = fresh_auth::<User>().await;
    let store = auth.session_store();
    let mut rec = record("v1", 60);
    store.create(&mut rec).await.unwrap();
    rec.data.insert("k".into(), "v2".into());
    store.save(&rec).await.unwrap();
    assert_eq!(store.load(&rec.id).await.unwrap().unwrap().data["k"], "v2");

    store.delete(&rec.id).await.unwrap();
    assert!(store.load(&rec.id).await.unwrap().is_none());
    assert!(
        store.save(&rec).await.is_err(),
        "saving a deleted session fails"
    );
    assert_eq!(count_sessions(auth.db()).await.unwrap(), 0);
}
