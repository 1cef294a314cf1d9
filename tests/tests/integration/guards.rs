//! `#[login_required]` and `LoginRequiredLayer` on the test app: where
//! they send anonymous visitors, and the cookie of an unknown session.

use crate::sessions::{client_with_cookie, setup};
use auth_tests::{User, app, client::Client, fresh_auth};
use http::StatusCode;

#[tokio::test]
async fn login_required_layer_guards_whole_routers() {
    let auth = fresh_auth::<User>().await;
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let app = app::routes(&auth)
        .route("/reports/", axum::routing::get(|| async { "reports" }))
        .route("/static/app.css", axum::routing::get(|| async { "css" }))
        .route(
            "/accounts/login/",
            axum::routing::get(|| async { "login page" }),
        )
        .layer(
            auth::LoginRequiredLayer::new()
                .exempt("/")
                .exempt("/csrf/")
                .exempt("/login/")
                .exempt_prefix("/static/"),
        );
    let mut client = Client::new(app.layer(auth.layer()));
    assert_eq!(client.get("/").await.body, "Welcome, Guest!");
    assert_eq!(client.get("/static/app.css").await.body, "css");
    assert_eq!(client.get("/accounts/login/").await.body, "login page");
    let page = client.get("/reports/?q=1").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        Some("/accounts/login/?next=/reports/%3Fq%3D1")
    );
    client.log_in("/login/", "alice", "pw").await;
    assert_eq!(client.get("/reports/").await.body, "reports");
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn an_unknown_session_on_a_protected_page_deletes_the_cookie(backend: Backend) {
        let (_auth, client, _db) = setup(backend).await;
        let mut c = client_with_cookie(&client, "AAAAAAAAAAAAAAAAAAAAAA");
        let page = c.get("/profile/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(
            page.set_cookie("sessionid")
                .is_some_and(|v| v.contains("Max-Age=0"))
        );
        // A page that does not touch the session sends no cookie at all.
        let mut c = client_with_cookie(&client, "AAAAAAAAAAAAAAAAAAAAAA");
        assert!(c.get("/ping/").await.set_cookie("sessionid").is_none());
    }

    async fn login_required_redirects_with_an_encoded_next(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        let cases = [
            ("/profile/", "/login/?next=/profile/"),
            (
                "/profile/?a=1&b=x+y",
                "/login/?next=/profile/%3Fa%3D1%26b%3Dx%2By",
            ),
            ("/private/", "/accounts/login/?next=/private/"),
            ("/custom/", "/custom-login/?goto=/custom/"),
        ];
        for (uri, location) in cases {
            let page = client.get(uri).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{uri}");
            assert_eq!(page.location(), Some(location), "{uri}");
        }
        client.log_in("/login/", "alice", "alice-password").await;
        assert_eq!(client.get("/private/").await.body, "private for alice");
        assert_eq!(client.get("/custom/").await.body, "custom");
    }
}
