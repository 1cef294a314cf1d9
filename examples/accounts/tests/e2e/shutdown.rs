//! SIGTERM while requests are in flight: a login and a password change
//! whose bodies are still arriving complete and are persisted, a new
//! connection is refused, and the process exits 0.

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command},
    time::{Duration, Instant},
};

const SECRET: &str = "shutdown-secret-key-shutdown-secret-key-0123";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_accounts"));
    command
        .env("DATABASE_URL", db)
        .env("REDIS_URL", "")
        .env("AUTH_SECRET_KEY", SECRET)
        .env("AUTH_USER_PASSWORD", "old-password-1")
        .env("RUST_LOG", "warn");
    command
}

/// The example serving on `port`, once it accepts connections.
fn serve(db: &str, port: u16) -> Child {
    let child = command(db)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .spawn()
        .expect("the example starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the example did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The form's CSRF token, from `GET path` (its cookies go to the jar).
async fn form(client: &reqwest::Client, base: &str, path: &str) -> String {
    let page = client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("name=\"csrfmiddlewaretoken\" value=\"").unwrap() + 34;
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// A POST whose headers and first half of body are sent; `finish` sends
/// the rest and reads the answer's head.
struct InFlight {
    stream: TcpStream,
    rest: Vec<u8>,
}

impl InFlight {
    fn start(port: u16, path: &str, cookie: &str, body: &str) -> InFlight {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        let half = body.len() / 2;
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body.as_bytes()[..half]).unwrap();
        InFlight {
            stream,
            rest: body.as_bytes()[half..].to_vec(),
        }
    }

    fn finish(mut self) -> String {
        self.stream.write_all(&self.rest).unwrap();
        self.stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut answer = String::new();
        self.stream.read_to_string(&mut answer).unwrap();
        answer
    }
}

fn cookie_header(client_jar: &reqwest::cookie::Jar, base: &str) -> String {
    use reqwest::cookie::CookieStore;
    let url = base.parse().unwrap();
    client_jar
        .cookies(&url)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn browser(jar: &std::sync::Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn sigterm_finishes_the_requests_in_flight_and_refuses_new_ones() {
    let dir = std::env::temp_dir().join(format!(
        "accounts-shutdown-{}",
        auth::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/auth.db?mode=rwc", dir.display());
    assert!(command(&db).arg("migrate").status().unwrap().success());
    for name in ["alice", "bob"] {
        let created = command(&db)
            .args(["createuser", "--noinput", "--username", name])
            .status()
            .unwrap();
        assert!(created.success());
    }
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&db, port);

    // Browser A: logged in, about to change the password.
    let jar_a = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let a = browser(&jar_a);
    let token = form(&a, &base, "/login/").await;
    let fields = [
        ("csrfmiddlewaretoken", token.as_str()),
        ("username", "alice"),
        ("password", "old-password-1"),
    ];
    let login = a
        .post(format!("{base}/login/"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let token = form(&a, &base, "/password-change/").await;
    let change_body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrfmiddlewaretoken", &token)
        .append_pair("old_password", "old-password-1")
        .append_pair("new_password1", "new-password-2b")
        .append_pair("new_password2", "new-password-2b")
        .finish();
    let change = InFlight::start(
        port,
        "/password-change/",
        &cookie_header(&jar_a, &base),
        &change_body,
    );

    // Browser B: bob logging in.
    let jar_b = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let b = browser(&jar_b);
    let token = form(&b, &base, "/login/").await;
    let login_body = form_urlencoded::Serializer::new(String::new())
        .append_pair("csrfmiddlewaretoken", &token)
        .append_pair("username", "bob")
        .append_pair("password", "old-password-1")
        .finish();
    let login = InFlight::start(port, "/login/", &cookie_header(&jar_b, &base), &login_body);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "a new connection after SIGTERM is refused"
    );

    let logged_in = login.finish();
    assert!(logged_in.starts_with("HTTP/1.1 303"), "{logged_in}");
    let session = logged_in
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: sessionid="))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie in {logged_in}"))
        .to_owned();
    let changed = change.finish();
    assert!(changed.starts_with("HTTP/1.1 303"), "{changed}");
    assert!(
        changed.contains("location: /password-change/done/"),
        "{changed}"
    );

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    // The audit log's queued rows were written before the exit.
    let events = command(&db).args(["events", "bob"]).output().unwrap();
    let events = String::from_utf8_lossy(&events.stdout);
    assert!(events.contains("user_logged_in"), "{events}");

    // Both were persisted: after a restart, bob's new session is still
    // his, and alice's new password logs in.
    let mut again = serve(&db, port);
    let profile = reqwest::Client::new()
        .get(format!("{base}/profile/"))
        .header("Cookie", format!("sessionid={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    assert!(profile.text().await.unwrap().contains("bob"));
    let jar_c = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let c = browser(&jar_c);
    let token = form(&c, &base, "/login/").await;
    let fields = [
        ("csrfmiddlewaretoken", token.as_str()),
        ("username", "alice"),
        ("password", "new-password-2b"),
    ];
    let login = c
        .post(format!("{base}/login/"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303, "the new password works");
    let _ = again.kill();
    let _ = again.wait();
    std::fs::remove_dir_all(&dir).ok();
}
