//! Requests refused before their body is read (a cross-origin POST, a POST
//! without a CSRF cookie, a POST to a GET-only view) still get their
//! answer: the unread body is drained first, so the connection is not
//! reset under a client that is still sending.

use auth_tests::{User, fresh_auth};

auth::auth_urls! {
    login: "/login/" => LoginView,
    password_change: "/password-change/" => PasswordChangeView { success_url: "/" },
}

async fn serve() -> (String, tokio::task::JoinHandle<()>) {
    let auth = fresh_auth::<User>().await;
    let app = auth_tests::app::routes(&auth)
        .merge(urls::router())
        .layer(auth.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, task)
}

/// Sends a whole request the way Python's `http.client` does (all of the
/// body, then read the answer); an error writing or reading is the
/// "connection aborted" a user would see.
async fn send_then_read(base: &str, head: &str, body: &[u8]) -> Result<String, std::io::Error> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(head.as_bytes()).await?;
    // At the pace of a real network: still sending when the answer comes.
    for chunk in body.chunks(64 * 1024) {
        stream.write_all(chunk).await?;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

#[tokio::test]
async fn refusals_arrive_whole_even_with_a_body_left_unread() {
    let (base, server) = serve().await;
    // A form-sized body a browser might send (under the 2.5 MB limit).
    let body = format!("username=alice&password=x&filler={}", "a".repeat(2_000_000));
    let cases = [
        ("/login/", "Origin: https://evil.example\r\n"),
        ("/login/", ""),
        (
            "/password-change/",
            "Cookie: csrftoken=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        ),
    ];
    for round in 0..5 {
        for (path, extra) in &cases {
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: testserver\r\n{extra}\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let answer = send_then_read(&base, &head, body.as_bytes())
                .await
                .unwrap_or_else(|e| panic!("round {round}, {path}: connection aborted: {e}"));
            assert!(
                answer.starts_with("HTTP/1.1 403"),
                "round {round}, {path}: {answer:.200}"
            );
            assert!(answer.contains("CSRF verification failed"), "{answer:.300}");
        }
    }
    server.abort();
}
