//! CSRF beyond the basics: the `Referer` check on secure requests without
//! `Origin`, no `http://` origin on a secure request, and the token in
//! `multipart/form-data` bodies.

use auth_tests::{User, client::Client, fresh_auth_with};
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
