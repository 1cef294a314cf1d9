//! In-process costs: one authenticated request (session load, user load,
//! session hash check), with the coherent cache (the default) and with
//! `AUTH_CACHE=off`, against the same route without the auth layer; an
//! argon2 verification; `next` validation; a breached-password lookup in
//! a local list of 1 million hashes.
//!
//! `cargo bench -p contrib-auth`

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

/// `AUTH_PWNED_PASSWORDS_FILE` at 1 million hashes (~44 MB, written once
/// to the temporary directory): a listed and an unlisted password, each
/// one binary search over the file (SHA-1 included).
fn breached_list_lookup(c: &mut Criterion) {
    use sha1::Digest;
    use std::io::Write;
    const HASHES: usize = 1_000_000;
    let path = std::env::temp_dir().join(format!("auth-bench-pwned-{HASHES}.txt"));
    let expected_len = (HASHES * 44) as u64;
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(expected_len) {
        let mut hashes: Vec<[u8; 20]> = (0..HASHES)
            .map(|i| sha1::Sha1::digest(format!("breached-{i}").as_bytes()).into())
            .collect();
        hashes.sort_unstable();
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for hash in &hashes {
            // `HASH:COUNT` with CRLF, as the published files are: 44 bytes.
            write!(file, "{}:1\r\n", hex::encode_upper(hash)).unwrap();
        }
        file.flush().unwrap();
    }
    let list = auth::password::PwnedPasswordValidator::from_file(&path).unwrap();
    assert!(list.is_breached_blocking("breached-123456").unwrap());
    assert!(!list.is_breached_blocking("clean-123456").unwrap());
    let mut group = c.benchmark_group("breached_list_1m");
    group.bench_function("listed", |b| {
        b.iter(|| list.is_breached_blocking(black_box("breached-123456")))
    });
    group.bench_function("unlisted", |b| {
        b.iter(|| list.is_breached_blocking(black_box("clean-123456")))
    });
    group.finish();
}

criterion_group!(
    benches,
    requests,
    hashing,
    next_validation,
    breached_list_lookup
);
criterion_main!(benches);
