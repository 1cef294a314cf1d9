//! A loop of logged-in requests in process, for a profiler:
//! `valgrind --tool=callgrind target/release/examples/profile_request 20000`.
//! With the argument `bare`, the same route without the auth layer; with
//! `anonymous`, a home page rendered for an anonymous visitor; with
//! `redirect`, the guarded profile without a cookie (the login redirect).

use axum::body::Body;
use http::{Request, header};
use tower::ServiceExt;

#[path = "../benches/support/mod.rs"]
mod support;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let mode = args.next().unwrap_or_default();
    let (router, cookie) = support::app(true).await;
    let (uri, cookie) = match mode.as_str() {
        "bare" => ("/baseline/", cookie),
        "anonymous" => ("/home/", String::new()),
        "redirect" => ("/profile/", String::new()),
        _ => ("/profile/", cookie),
    };
    for _ in 0..count {
        let request = Request::get(uri)
            .header(header::COOKIE, &cookie)
            .header(header::HOST, "localhost")
            .body(Body::empty())
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        assert!(status.is_success() || status.is_redirection(), "{status}");
    }
}
