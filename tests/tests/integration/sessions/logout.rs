//! Django's `logout()`: the session deleted server side, and never brought
//! back by a request that read it before.

use std::sync::Arc;

use super::{client_with_cookie, session_count, setup, whoami};
use auth_tests::{app, client::Client};
use http::StatusCode;

/// Signals between a test and [`slow_write`]: loaded, then release.
#[derive(Default)]
struct Gates {
    loaded: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

/// Loads the session, waits, then writes to it.
async fn slow_write(
    axum::extract::State(gates): axum::extract::State<Arc<Gates>>,
    session: auth::Session,
) -> auth::Result<&'static str> {
    session.get::<String>("cart").await?;
    gates.loaded.notify_one();
    gates.release.notified().await;
    session.insert("cart", "late write").await?;
    Ok("written")
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn logout_kills_the_session_server_side(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        client.log_in("/login/", "alice", "alice-password").await;
        let old_id = client.jar["sessionid"].clone();
        assert_eq!(session_count(&auth).await, 1);

        let page = client.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let removal = page.set_cookie("sessionid").expect("the cookie is removed");
        assert!(removal.contains("Max-Age=0"), "{removal}");
        assert!(!client.jar.contains_key("sessionid"));
        assert_eq!(session_count(&auth).await, 0, "the row is deleted");

        // Replaying the old cookie is anonymous.
        let mut replay = client_with_cookie(&client, &old_id);
        assert_eq!(whoami(&mut replay).await, "Welcome, Guest!");
        assert_eq!(replay.get("/profile/").await.status, StatusCode::SEE_OTHER);
    }

    /// A request that read the session before a logout must not put it
    /// back into the cache after the logout deleted it.
    #[backends(sqlite, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel)]
    async fn a_read_racing_a_logout_cannot_bring_the_session_back(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        client.log_in("/login/", "alice", "alice-password").await;
        let cookie = client.jar["sessionid"].clone();
        auth::testing::forget_cached(&auth);
        let gate = auth::testing::session_cache_gate(&auth).expect("the cache is on");
        gate.arm();
        let mut reader = client_with_cookie(&client, &cookie);
        let read = tokio::spawn(async move { whoami(&mut reader).await });
        gate.paused().await; // the reader has the session, not yet cached
        let page = client.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        gate.release();
        read.await.unwrap();
        let mut replay = client_with_cookie(&client, &cookie);
        assert_eq!(whoami(&mut replay).await, "Welcome, Guest!");
    }

    async fn a_logout_elsewhere_is_not_undone_by_a_concurrent_write(backend: Backend) {
        let (auth, mut tab_one, _db) = setup(backend).await;
        tab_one.log_in("/login/", "alice", "alice-password").await;
        let gates = Arc::new(Gates::default());
        let router = axum::Router::new()
            .route("/slow/", axum::routing::get(slow_write))
            .with_state(gates.clone())
            .merge(app::routes(&auth))
            .layer(auth.layer());
        let mut tab_one = {
            let mut c = Client::new(router.clone());
            c.jar = tab_one.jar.clone();
            c
        };
        let mut tab_two = Client::new(router);
        tab_two.jar = tab_one.jar.clone();

        let slow = tokio::spawn(async move { tab_two.get("/slow/").await });
        gates.loaded.notified().await;
        let page = tab_one.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        gates.release.notify_one();
        let page = slow.await.unwrap();
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.body.contains("Session interrupted"), "{}", page.body);
        assert_eq!(
            session_count(&auth).await,
            0,
            "the logged-out session stays dead"
        );
    }
}
