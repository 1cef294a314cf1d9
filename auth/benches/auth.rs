//! In-process costs: one authenticated request (session load, user load,
//! session hash check), with the coherent cache (the default) and with
//! `AUTH_CACHE=off`, against the same route without the auth layer; an
//! argon2 verification; `next` validation.
//!
//! `cargo bench -p auth`

use std::hint::black_box;

use axum::{Router, body::Body, routing::get};
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, header};
use tower::ServiceExt;

#[derive(Clone, Debug, auth::AuthUser)]
struct User {
    #[auth(base)]
    base: auth::AbstractUser,
}

#[auth::login_required(login_url = "/login/")]
async fn profile(user: User) -> String {
    format!("profile of {}", user.username)
}

async fn login(
    axum::extract::State(auth): axum::extract::State<auth::Auth<User>>,
    session: auth::Session,
) -> auth::Result<&'static str> {
    let user = auth
        .authenticate("bench", "bench-password")
        .await?
        .expect("the bench user");
    auth::login(&session, &user).await?;
    Ok("in")
}

/// The app, and the cookie of a logged-in session.
async fn app(cache: bool) -> (Router, String) {
    let path =
        std::env::temp_dir().join(format!("auth-bench-{}.db", auth::Uuid::new_v4().simple()));
    let settings = auth::Settings {
        secret_key: Some("benchmark-secret-key-benchmark-secret-key".into()),
        cache,
        ..Default::default()
    };
    let auth = auth::Auth::<User>::builder()
        .database_url(format!("sqlite://{}?mode=rwc", path.display()))
        .settings(settings)
        .build()
        .await
        .unwrap();
    auth.create_user("bench", "", Some("bench-password"))
        .await
        .unwrap();
    let router = Router::new()
        .route("/profile/", get(profile))
        .route("/login/", get(login))
        .with_state(auth.clone())
        .layer(auth.layer())
        .route(
            "/baseline/",
            get(|| async { format!("profile of {}", "bench") }),
        );
    // A GET is enough to log in here: the benchmark measures reads.
    let response = router
        .clone()
        .oneshot(Request::get("/login/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sessionid="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    (router, cookie)
}

fn requests(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (router, cookie) = runtime.block_on(app(false));
    let (cached, cached_cookie) = runtime.block_on(app(true));
    let mut group = c.benchmark_group("request");
    for (name, router, cookie) in [
        ("authenticated_profile", &router, &cookie),
        ("authenticated_profile_cached", &cached, &cached_cookie),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let request = Request::get("/profile/")
                    .header(header::COOKIE, cookie)
                    .body(Body::empty())
                    .unwrap();
                let response = router.clone().oneshot(request).await.unwrap();
                assert!(response.status().is_success());
            })
        });
    }
    group.bench_function("anonymous_redirect", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = router
                .clone()
                .oneshot(Request::get("/profile/").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert!(response.status().is_redirection());
        })
    });
    group.bench_function("baseline_without_auth", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = router
                .clone()
                .oneshot(Request::get("/baseline/").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert!(response.status().is_success());
        })
    });
    group.finish();
}

fn hashing(c: &mut Criterion) {
    let hasher = auth::password::Hasher::default();
    let hash = hasher.make("bench-password");
    let mut group = c.benchmark_group("argon2");
    group.sample_size(20);
    group.bench_function("verify_owasp", |b| {
        b.iter(|| hasher.check(black_box("bench-password"), &hash))
    });
    group.finish();
}

fn next_validation(c: &mut Criterion) {
    let hosts = ["testserver"];
    let urls = [
        "/profile/?tab=1",
        "https://testserver/x",
        "//evil.example/",
        "/\\evil",
        "javascript:alert(1)",
    ];
    c.bench_function("redirect/url_has_allowed_host_and_scheme", |b| {
        b.iter(|| {
            for url in urls {
                black_box(auth::redirect::url_has_allowed_host_and_scheme(
                    black_box(url),
                    &hosts,
                    false,
                ));
            }
        })
    });
}

criterion_group!(benches, requests, hashing, next_validation);
criterion_main!(benches);
