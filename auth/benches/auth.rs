//! In-process costs: one authenticated request (session load, user load,
//! session hash check), with the coherent cache (the default) and with
//! `AUTH_CACHE=off`, against the same route without the auth layer; an
//! argon2 verification; `next` validation.
//!
//! `cargo bench -p auth`

use std::hint::black_box;

use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, header};
use tower::ServiceExt;

mod support;
use support::app;

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
