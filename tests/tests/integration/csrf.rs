//! CSRF: unsafe methods refused without a valid token, the secret rotated
//! at login, a failed check that logs nobody in; the `Referer` check on
//! secure requests without `Origin`, no `http://` origin on a secure
//! request, and the token in `multipart/form-data` bodies.

use auth_tests::{User, client::Client, fresh_auth_with};

use crate::sessions::{session_count, setup, whoami};
use axum::{body::Bytes, routing::post};
use http::{Request, StatusCode, header};

/// The size of the body the handler received.
async fn upload(body: Bytes) -> String {
    body.len().to_string()
}

async fn client(settings: auth::Settings) -> Client {
    let auth = fresh_auth_with::<User>(settings).await;
    let app = auth_tests::app::routes(&auth)
        .route(
            "/upload/",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(8 << 20)),
        )
        .layer(auth.layer());
    Client::new(app)
}

/// Behind a TLS proxy that marks requests as HTTPS.
fn behind_tls() -> auth::Settings {
    auth::Settings {
        secure_proxy_ssl_header: Some(("x-forwarded-proto".into(), "https".into())),
        csrf_trusted_origins: vec!["http://legacy.example".into()],
        ..Default::default()
    }
}

fn secure_post(token: &str, headers: &[(&str, &str)]) -> Request<axum::body::Body> {
    let mut req = Request::post("/ping/")
        .header("x-forwarded-proto", "https")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(format!("csrfmiddlewaretoken={token}").into())
        .unwrap()
}

#[tokio::test]
async fn secure_requests_without_origin_need_a_same_site_https_referer() {
    let mut client = client(behind_tls()).await;
    let token = client.csrf_token().await;
    type Case<'a> = (&'a [(&'a str, &'a str)], Result<(), &'a str>);
    let cases: [Case; 6] = [
        (&[], Err("Referer checking failed - no Referer.")),
        (
            &[("referer", "http://testserver/form/")],
            Err("Referer checking failed - Referer is insecure while host is secure."),
        ),
        (
            &[("referer", "https://evil.example/form/")],
            Err(
                "Referer checking failed - https://evil.example/form/ does not match any trusted origins.",
            ),
        ),
        (
            &[("referer", "no scheme")],
            Err("Referer checking failed - Referer is malformed."),
        ),
        (&[("referer", "https://testserver/form/")], Ok(())),
        (&[("origin", "https://testserver")], Ok(())),
    ];
    for (headers, expected) in cases {
        let page = client.send(secure_post(&token, headers)).await;
        match expected {
            Ok(()) => assert_eq!(page.status, StatusCode::OK, "{headers:?}: {}", page.body),
            Err(reason) => {
                assert_eq!(page.status, StatusCode::FORBIDDEN, "{headers:?}");
                assert!(page.body.contains(reason), "{headers:?}: {}", page.body);
            }
        }
    }
    // Plain HTTP requests need no Referer (as in Django).
    let plain = client
        .post("/ping/", &[("csrfmiddlewaretoken", &token)])
        .await;
    assert_eq!(plain.status, StatusCode::OK);
}

#[tokio::test]
async fn a_secure_request_takes_no_http_origin_not_even_a_trusted_one() {
    let mut client = client(behind_tls()).await;
    let token = client.csrf_token().await;
    for origin in ["http://testserver", "http://legacy.example"] {
        let page = client
            .send(secure_post(&token, &[("origin", origin)]))
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{origin}");
        assert!(
            page.body.contains("Origin checking failed"),
            "{}",
            page.body
        );
    }
}

/// A multipart body: the token part (if any) first, then a file.
fn multipart(token: Option<&str>, file: &[u8], token_after_file: bool) -> (String, Vec<u8>) {
    let boundary = "----formboundary7MA4YWxkTrZu0gW";
    let token_part = token.map(|t| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{t}\r\n"
        )
    });
    let mut body = Vec::new();
    if !token_after_file && let Some(part) = &token_part {
        body.extend_from_slice(part.as_bytes());
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"a.bin\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n");
    if token_after_file && let Some(part) = &token_part {
        body.extend_from_slice(part.as_bytes());
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn multipart_forms_carry_the_token_and_arrive_whole() {
    let mut client = client(auth::Settings::default()).await;
    let token = client.csrf_token().await;
    // Bigger than DATA_UPLOAD_MAX_MEMORY_SIZE: fine, the token comes first.
    let file = vec![b'x'; 3_000_000];
    let send = async |client: &mut Client, content_type: String, body: Vec<u8>| {
        client
            .send(
                Request::post("/upload/")
                    .header(header::CONTENT_TYPE, content_type)
                    .body(body.into())
                    .unwrap(),
            )
            .await
    };

    let (content_type, body) = multipart(Some(&token), &file, false);
    let size = body.len();
    let page = send(&mut client, content_type, body).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.body,
        size.to_string(),
        "the handler gets the whole body"
    );

    let (content_type, body) = multipart(None, b"small", false);
    let page = send(&mut client, content_type, body).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("CSRF token missing."), "{}", page.body);

    let (content_type, body) = multipart(Some(&"a".repeat(64)), b"small", false);
    let page = send(&mut client, content_type, body).await;
    assert!(page.body.contains("CSRF token incorrect."), "{}", page.body);

    // After a small file the token is still found; after one beyond the
    // limit it is not read.
    let (content_type, body) = multipart(Some(&token), b"small", true);
    assert_eq!(
        send(&mut client, content_type, body).await.status,
        StatusCode::OK
    );
    let (content_type, body) = multipart(Some(&token), &file, true);
    assert_eq!(
        send(&mut client, content_type, body).await.status,
        StatusCode::FORBIDDEN
    );
    // Garbage that claims to be multipart is a refusal, not a crash.
    let page = send(
        &mut client,
        "multipart/form-data; boundary=x".into(),
        b"\xff\xfe not multipart at all".to_vec(),
    )
    .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn csrf_protects_unsafe_methods(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        // No cookie at all.
        let page = client.post("/ping/", &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.body
                .contains("CSRF verification failed. Request aborted."),
            "{}",
            page.body
        );
        assert!(page.body.contains("CSRF cookie not set."));

        let token = client.csrf_token().await;
        assert_eq!(token.len(), 64);
        let secret = client.jar["csrftoken"].clone();
        assert_eq!(secret.len(), 32);
        assert!(!token.contains(&secret), "the page never shows the secret");

        let missing = client.post("/ping/", &[]).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN);
        assert!(missing.body.contains("CSRF token missing."));
        let forged = "a".repeat(64);
        let page = client
            .post("/ping/", &[("csrfmiddlewaretoken", &forged)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("CSRF token incorrect."));
        let page = client
            .post("/ping/", &[("csrfmiddlewaretoken", "short")])
            .await;
        assert!(page.body.contains("incorrect length"));

        assert_eq!(
            client
                .post("/ping/", &[("csrfmiddlewaretoken", &token)])
                .await
                .status,
            StatusCode::OK
        );
        let via_header = Request::post("/ping/")
            .header("X-CSRFToken", &token)
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(client.send(via_header).await.status, StatusCode::OK);
        for method in ["PUT", "PATCH", "DELETE"] {
            let req = Request::builder()
                .method(method)
                .uri("/ping/")
                .body(axum::body::Body::empty())
                .unwrap();
            assert_eq!(
                client.send(req).await.status,
                StatusCode::FORBIDDEN,
                "{method}"
            );
        }

        // A cross-site origin is refused even with a good token.
        let cross = Request::post("/ping/")
            .header("X-CSRFToken", &token)
            .header(header::ORIGIN, "https://evil.example")
            .body(axum::body::Body::empty())
            .unwrap();
        let page = client.send(cross).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("Origin checking failed"));
        let same = Request::post("/ping/")
            .header("X-CSRFToken", &token)
            .header(header::ORIGIN, "http://testserver")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(client.send(same).await.status, StatusCode::OK);
    }

    async fn a_failed_csrf_check_logs_nobody_in(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        client.csrf_token().await;
        let page = client
            .post(
                "/login/",
                &[("username", "alice"), ("password", "alice-password")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(session_count(&auth).await, 0);
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
    }

    async fn login_rotates_the_csrf_secret(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        let planted = client.csrf_token().await;
        let before = client.jar["csrftoken"].clone();
        let page = client
            .post(
                "/login/",
                &[
                    ("username", "alice"),
                    ("password", "alice-password"),
                    ("csrfmiddlewaretoken", &planted),
                ],
            )
            .await;
        let cookie = page.set_cookie("csrftoken").expect("a new CSRF cookie");
        assert!(
            cookie.contains("Max-Age=31449600") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert_ne!(client.jar["csrftoken"], before);
        let page = client
            .post("/ping/", &[("csrfmiddlewaretoken", &planted)])
            .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "the planted token is useless now"
        );
    }
}
