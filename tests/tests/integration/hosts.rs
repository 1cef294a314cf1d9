//! `AUTH_ALLOWED_HOSTS` (Django's `ALLOWED_HOSTS`): a request for a host
//! the site does not serve is refused with 400 before any handler runs.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use auth_tests::{User, client::Client, fresh_auth_with};
use axum::routing::get;
use http::{Request, StatusCode, header};

async fn client(allowed_hosts: &[&str]) -> (Client, Arc<AtomicUsize>) {
    let settings = auth::Settings {
        allowed_hosts: allowed_hosts.iter().map(|h| h.to_string()).collect(),
        ..Default::default()
    };
    let auth = fresh_auth_with::<User>(settings).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = auth_tests::app::routes(&auth)
        .route(
            "/count/",
            get(move || {
                let counter = counter.clone();
                async move { counter.fetch_add(1, Ordering::SeqCst).to_string() }
            }),
        )
        .layer(auth.layer());
    (Client::new(app), calls)
}

async fn status_for(client: &mut Client, host: &str) -> StatusCode {
    let req = Request::get("/count/")
        .header(header::HOST, host)
        .body(axum::body::Body::empty())
        .unwrap();
    client.send(req).await.status
}

#[tokio::test]
async fn only_the_allowed_hosts_are_served() {
    let (mut client, calls) = client(&["example.com", ".example.org", "[::1]"]).await;
    for host in [
        "example.com",
        "EXAMPLE.com",
        "example.com:8000",
        "example.com.",
        "example.org",
        "www.example.org",
        "a.b.example.org:443",
        "[::1]",
        "[::1]:8000",
    ] {
        assert_eq!(
            status_for(&mut client, host).await,
            StatusCode::OK,
            "{host}"
        );
    }
    let served = calls.load(Ordering::SeqCst);
    for host in [
        "evil.example",
        "example.com.evil.example",
        "notexample.org",
        "example.com:port",
        "exa mple.com",
        "example.com@evil.example",
        "",
    ] {
        let status = status_for(&mut client, host).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{host:?}");
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        served,
        "no handler ran for a refused host"
    );
    // A POST with a bad host is refused before CSRF or anything else.
    let page = client
        .send(
            Request::post("/ping/")
                .header(header::HOST, "evil.example")
                .body(axum::body::Body::from("x=1"))
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("Bad request"), "{}", page.body);
}

#[tokio::test]
async fn a_wildcard_or_no_setting_serves_any_host() {
    for allowed in [&["*"][..], &[][..]] {
        let (mut client, _) = client(allowed).await;
        assert_eq!(
            status_for(&mut client, "anything.example").await,
            StatusCode::OK,
            "{allowed:?}"
        );
    }
}

#[tokio::test]
async fn the_setting_reads_the_environment_and_is_checked_when_unset() {
    let settings = auth::Settings::from_lookup(|name| {
        (name == "AUTH_ALLOWED_HOSTS").then(|| "example.com, .example.org".to_owned())
    })
    .unwrap();
    assert_eq!(settings.allowed_hosts, ["example.com", ".example.org"]);
    let public: std::net::SocketAddr = "0.0.0.0:8000".parse().unwrap();
    let local: std::net::SocketAddr = "127.0.0.1:8000".parse().unwrap();
    let unset = fresh_auth_with::<User>(auth::Settings::default()).await;
    let set = fresh_auth_with::<User>(settings).await;
    let warns = |auth: &auth::Auth<User>, scope| {
        auth::checks::run_checks(auth, scope).contains("auth.W006")
    };
    assert!(warns(&unset, auth::checks::Scope::serve(public)));
    assert!(warns(&unset, auth::checks::Scope::check(true)));
    assert!(!warns(&unset, auth::checks::Scope::serve(local)));
    assert!(!warns(&set, auth::checks::Scope::serve(public)));
}

/// Two `Host` headers are a malformed request (RFC 9112 §3.2): 400, with
/// or without `AUTH_ALLOWED_HOSTS`, before any handler runs.
#[tokio::test]
async fn two_host_headers_are_refused() {
    for allowed in [&["example.com"][..], &[][..]] {
        let (mut client, calls) = client(allowed).await;
        let req = Request::get("/count/")
            .header(header::HOST, "example.com")
            .header(header::HOST, "evil.example")
            .body(axum::body::Body::empty())
            .unwrap();
        let page = client.send(req).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{allowed:?}");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
