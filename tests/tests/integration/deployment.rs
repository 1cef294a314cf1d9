//! Production shapes: several app instances on one database (and Redis),
//! and backing services that fail and come back.

use std::time::Duration;

use auth_tests::{
    User, app,
    client::Client,
    outage::{Outage, Service, quick_timeouts},
};
use http::StatusCode;

/// Serves `router` on a free local port.
async fn serve(router: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (base, task)
}

/// A browser: one cookie jar for every instance (cookies ignore ports, as
/// behind one load balancer).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn token(http: &reqwest::Client, base: &str) -> String {
    http.get(format!("{base}/csrf/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = token(http, base).await;
    let mut form = fields.to_vec();
    form.push(("csrfmiddlewaretoken", &token));
    http.post(format!("{base}{path}"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The cache's staleness bound in these tests: a change made on one
/// instance reaches the other's cache within it.
const STALENESS: Duration = Duration::from_millis(200);

fn settings() -> auth::Settings {
    auth::Settings {
        cache_max_staleness: STALENESS,
        ..Default::default()
    }
}

/// GETs `url` until it answers `expected`: a change made through another
/// instance shows within the staleness bound (the deadline adds a wide
/// margin for a loaded machine; `bench/staleness.sh` measures the real
/// delay).
async fn within_bound(http: &reqwest::Client, url: String, expected: &str) {
    let deadline = std::time::Instant::now() + STALENESS * 2 + Duration::from_secs(3);
    loop {
        let (_, body) = text(http, url.clone()).await;
        if body == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{url} still answers {body:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn text(http: &reqwest::Client, url: String) -> (StatusCode, String) {
    let response = http.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

auth_tests::backend_tests! {
    async fn two_instances_share_sessions(backend: Backend) {
        let db = backend.database().await;
        let a = db.auth::<User>(settings()).await;
        let b = db.auth::<User>(settings()).await;
        a.users().create_user("alice", "", Some("alice-password"))
            .await
            .unwrap();
        let (base_a, server_a) = serve(app::router(&a)).await;
        let (base_b, server_b) = serve(app::router(&b)).await;

        let alice = browser();
        let login = post(
            &alice,
            &base_a,
            "/login/",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
        assert_eq!(login.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            text(&alice, format!("{base_b}/profile/")).await,
            (StatusCode::OK, "profile of alice ()".into())
        );

        let logout = post(&alice, &base_b, "/logout/", &[]).await;
        assert_eq!(logout.status(), StatusCode::SEE_OTHER);
        // Logged out on B: anonymous on A.
        within_bound(&alice, format!("{base_a}/"), "Welcome, Guest!").await;

        // A password change on A ends the session held on B.
        let other_device = browser();
        post(
            &other_device,
            &base_b,
            "/login/",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
        assert_eq!(
            text(&other_device, format!("{base_b}/")).await.1,
            "Welcome, alice!"
        );
        post(
            &alice,
            &base_a,
            "/login/",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
        let changed = post(
            &alice,
            &base_a,
            "/password/",
            &[("password", "a-new-password")],
        )
        .await;
        assert_eq!(changed.text().await.unwrap(), "changed");
        within_bound(&other_device, format!("{base_b}/"), "Welcome, Guest!").await;
        assert_eq!(
            text(&alice, format!("{base_b}/")).await.1,
            "Welcome, alice!",
            "the changing session lives on"
        );

        server_a.abort();
        server_b.abort();
    }

    #[backends(postgres, mysql)]
    async fn a_database_outage_is_a_503_and_recovers(backend: Backend) {
        let mut outage = Outage::start(backend, Service::Database).await;
        outage.proxy.cut();
        // Within the staleness bound the cache stops vouching for what it
        // holds; from then on, every request needs the database.
        outage.eventually_status("/", StatusCode::SERVICE_UNAVAILABLE).await;
        for uri in ["/", "/profile/"] {
            let page = tokio::time::timeout(Duration::from_secs(15), outage.client.get(uri))
                .await
                .expect("no hang");
            assert_eq!(
                page.status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{uri}: {}",
                page.body
            );
            assert!(page.body.contains("Service unavailable"), "{}", page.body);
        }
        assert_eq!(
            outage.client.get("/ping/").await.body,
            "pong",
            "routes without the user still work"
        );
        outage.proxy.restore();
        outage.eventually("/", "Welcome, alice!").await;
    }

    #[backends(postgres_redis)]
    async fn a_redis_outage_is_a_503_and_recovers(backend: Backend) {
        let mut outage = Outage::start(backend, Service::Redis).await;
        outage.proxy.cut();
        outage.eventually_status("/", StatusCode::SERVICE_UNAVAILABLE).await;
        let page = tokio::time::timeout(Duration::from_secs(15), outage.client.get("/"))
            .await
            .expect("no hang");
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
        let page = tokio::time::timeout(
            Duration::from_secs(15),
            outage.client.post_with_csrf("/cart/", &[("item", "x")]),
        )
        .await
        .expect("no hang");
        assert_eq!(
            page.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "a failed save: {}",
            page.body
        );
        outage.proxy.restore();
        outage.eventually("/", "Welcome, alice!").await;
    }
}

#[tokio::test]
async fn an_unreachable_redis_at_start_serves_503_not_a_crash() {
    let settings = auth::Settings {
        secret_key: Some(auth_tests::TEST_SECRET.into()),
        ..quick_timeouts()
    };
    let auth = auth::Auth::<User>::builder()
        .database_url(auth_tests::sqlite_url())
        .redis_url("redis://127.0.0.1:1/0")
        .settings(settings)
        .build()
        .await
        .expect("starts without Redis");
    let mut client = Client::new(app::router(&auth));
    assert_eq!(
        client.get("/").await.body,
        "Welcome, Guest!",
        "no session cookie, no Redis call"
    );
    client
        .jar
        .insert("sessionid".into(), "AAAAAAAAAAAAAAAAAAAAAA".into());
    let page = client.get("/").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
}
