//! The app's own `403.html` and `404.html` (Django's handler templates):
//! they replace the built-in page of a refused permission and axum's empty
//! 404, with `user`, `request_path` and `exception` in the context.

use auth_tests::{User, client::Client};
use http::StatusCode;

#[auth::permission_required("accounts.view_user", raise_exception = true)]
async fn users_page() -> &'static str {
    "users"
}

async fn client(templates: &[(&str, &str)]) -> Client {
    let mut builder = auth::Auth::<User>::builder()
        .database_url(auth_tests::sqlite_url())
        .settings(auth::Settings {
            secret_key: Some(auth_tests::TEST_SECRET.into()),
            ..Default::default()
        });
    for (name, source) in templates {
        builder = builder.template(*name, *source);
    }
    let auth = builder.build().await.unwrap();
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let app = auth_tests::app::routes(&auth)
        .route("/users/", axum::routing::get(users_page))
        .layer(auth.layer());
    let mut client = Client::new(app);
    client.log_in("/login/", "alice", "pw").await;
    client
}

#[tokio::test]
async fn the_apps_templates_replace_the_error_pages() {
    let mut client = client(&[
        (
            "403.html",
            "<h1>No entry, {{ user.username }}</h1><p>{{ exception }}</p>",
        ),
        ("404.html", "<h1>Nothing at {{ request_path }}</h1>"),
    ])
    .await;
    let page = client.get("/users/").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body.starts_with("<h1>No entry, alice</h1><p>"),
        "{}",
        page.body
    );
    let page = client.get("/no/such/page/").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.body, "<h1>Nothing at /no/such/page/</h1>");
    assert_eq!(
        page.headers.get(http::header::CONTENT_TYPE).unwrap(),
        "text/html; charset=utf-8"
    );
}

#[tokio::test]
async fn without_them_the_built_in_pages_stay() {
    let mut client = client(&[]).await;
    let page = client.get("/users/").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("Forbidden (403)"), "{}", page.body);
    let page = client.get("/no/such/page/").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.body, "");
}
