//! The session's auth hash (Django's `update_session_auth_hash` and
//! session verification): a password change keeps this session and ends
//! the others, a tampered hash or a rotated secret ends it.

use std::str::FromStr;

use super::{client_with_cookie, session_count, setup, whoami};
use auth_tests::{User, app, client::Client};
use http::StatusCode;
use tower_sessions::{SessionStore, session::Id};

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn password_change_keeps_this_session_and_kills_the_others(backend: Backend) {
        let (auth, mut a, _db) = setup(backend).await;
        let mut b = Client::new(app::router(&auth));
        a.log_in("/login/", "alice", "alice-password").await;
        b.log_in("/login/", "alice", "alice-password").await;
        let a_before = a.jar["sessionid"].clone();

        let page = a
            .post_with_csrf("/password/", &[("password", "new-password")])
            .await;
        assert_eq!(page.body, "changed");
        assert_ne!(a.jar["sessionid"], a_before, "the session id changes");
        assert_eq!(whoami(&mut a).await, "Welcome, alice!");

        let page = b.get("/profile/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/login/?next=/profile/"));
        assert!(
            page.set_cookie("sessionid")
                .is_some_and(|c| c.contains("Max-Age=0")),
            "b's cookie is deleted"
        );
        assert_eq!(whoami(&mut b).await, "Welcome, Guest!");

        assert!(
            auth.authenticate("alice", "alice-password")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            auth.authenticate("alice", "new-password")
                .await
                .unwrap()
                .is_some()
        );
    }

    /// A request that read the user before a password change must not put
    /// the old password hash back into the cache (which would revive the
    /// other sessions the change ended).
    #[backends(sqlite, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel)]
    async fn a_read_racing_a_password_change_cannot_revive_old_sessions(backend: Backend) {
        let (auth, mut a, _db) = setup(backend).await;
        let mut b = Client::new(app::router(&auth));
        a.log_in("/login/", "alice", "alice-password").await;
        b.log_in("/login/", "alice", "alice-password").await;
        auth::testing::forget_cached(&auth);
        let gate = auth::testing::user_cache_gate(&auth).expect("the cache is on");
        gate.arm();
        let b_cookie = b.jar["sessionid"].clone();
        let read = tokio::spawn(async move { whoami(&mut b).await });
        gate.paused().await; // b has read alice with her old hash
        let page = a
            .post_with_csrf("/password/", &[("password", "new-password")])
            .await;
        assert_eq!(page.body, "changed");
        gate.release();
        read.await.unwrap();
        let mut b = client_with_cookie(&a, &b_cookie);
        assert_eq!(whoami(&mut b).await, "Welcome, Guest!");
        assert_eq!(whoami(&mut a).await, "Welcome, alice!");
    }

    async fn a_tampered_auth_hash_flushes_the_session(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        client.log_in("/login/", "alice", "alice-password").await;
        let id = Id::from_str(&client.jar["sessionid"]).unwrap();
        let store = auth::testing::session_store(&auth);
        let mut record = store.load(&id).await.unwrap().unwrap();
        record
            .data
            .insert("_auth_user_hash".into(), "0".repeat(64).into());
        store.save(&record).await.unwrap();

        let page = client.get("/profile/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(
            page.set_cookie("sessionid")
                .is_some_and(|c| c.contains("Max-Age=0"))
        );
        assert_eq!(session_count(&auth).await, 0, "the session is flushed");
    }

    async fn secret_rotation_keeps_sessions_only_with_a_fallback(backend: Backend) {
        let db = backend.database().await;
        let build = |secret: &str, fallbacks: Vec<String>| {
            let settings = auth::Settings {
                secret_key: Some(secret.into()),
                secret_key_fallbacks: fallbacks,
                ..Default::default()
            };
            let db = &db;
            async move { Ok::<_, ()>(db.auth::<User>(settings).await) }
        };
        let old = "old-secret-key-old-secret-key-old-secret-key".to_owned();
        let new = "new-secret-key-new-secret-key-new-secret-key".to_owned();
        let first = build(&old, vec![]).await.unwrap();
        first.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = Client::new(app::router(&first));
        client.log_in("/login/", "alice", "pw").await;
        let id_before = client.jar["sessionid"].clone();

        let rotated = build(&new, vec![old.clone()]).await.unwrap();
        let mut same = client_with_cookie(&Client::new(app::router(&rotated)), &id_before);
        assert_eq!(whoami(&mut same).await, "Welcome, alice!");
        assert_ne!(
            same.jar["sessionid"], id_before,
            "the session moves to a new id under the new key"
        );
        let id_after = same.jar["sessionid"].clone();

        let no_fallback = build(&new, vec![]).await.unwrap();
        let mut later = client_with_cookie(&Client::new(app::router(&no_fallback)), &id_after);
        assert_eq!(
            whoami(&mut later).await,
            "Welcome, alice!",
            "re-stored under the new key"
        );
        let mut stale = client_with_cookie(
            &Client::new(app::router(&build(&"x".repeat(40), vec![]).await.unwrap())),
            &id_after,
        );
        assert_eq!(
            whoami(&mut stale).await,
            "Welcome, Guest!",
            "no key matches: logged out"
        );
    }
}
