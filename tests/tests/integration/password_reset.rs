//! Password reset beyond the example: real SMTP to the local sink `.ci/run`
//! starts, a failing SMTP server, the `memory` backend and a custom one,
//! `post_reset_login`, and `auth_urls!` with paths of the app's choosing.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use auth::mail::{EmailBackend, EmailMessage};
use auth_tests::{User, app, client::Client, fresh_auth_with};
use http::StatusCode;

/// The SMTP sink's port and directory (see `.ci/smtp-sink.py`).
const SMTP_PORT_ENV: &str = "AUTH_TEST_SMTP_PORT";
const SMTP_DIR_ENV: &str = "AUTH_TEST_SMTP_DIR";

auth::auth_urls! {
    mod urls;
    login: "/accounts/login/" => LoginView,
    reset: "/accounts/reset/" => PasswordResetView { from_email: "Accounts <accounts@example.com>" },
    reset_sent: "/accounts/reset/sent/" => PasswordResetDoneView,
    reset_confirm: "/accounts/reset/<token>/for/<uidb64>/" => PasswordResetConfirmView { post_reset_login: true, success_url: "/welcome/" },
    reset_complete: "/accounts/reset/complete/" => PasswordResetCompleteView,
}

fn settings() -> auth::Settings {
    auth::Settings {
        allowed_hosts: vec!["testserver".into()],
        email_backend: auth::EmailBackendKind::Memory,
        ..Default::default()
    }
}

async fn client_for(auth: &auth::Auth<User>) -> Client {
    auth.users()
        .create_user("alice", "alice@example.com", Some("wonderland-42"))
        .await
        .unwrap();
    Client::new(urls::router().merge(app::routes(auth)).layer(auth.layer()))
}

async fn request_reset(client: &mut Client, email: &str) -> auth_tests::client::Page {
    client
        .post_with_csrf("/accounts/reset/", &[("email", email)])
        .await
}

fn link_path(body: &str) -> String {
    let start = body.find("http://testserver").expect("a link") + "http://testserver".len();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

#[tokio::test]
async fn the_memory_backend_keeps_messages_and_post_reset_login_logs_in() {
    let auth = fresh_auth_with::<User>(settings()).await;
    let mut client = client_for(&auth).await;
    let page = request_reset(&mut client, "alice@example.com").await;
    assert_eq!(page.location(), Some("/accounts/reset/sent/"));
    auth::testing::mail_idle(&auth).await;
    let outbox = auth.mail().outbox().expect("the memory backend");
    assert_eq!(outbox.len(), 1);
    let message = &outbox[0];
    assert_eq!(message.to, ["alice@example.com"]);
    assert_eq!(message.from_email, "Accounts <accounts@example.com>");
    assert_eq!(message.subject, "Password reset on testserver");
    let path = link_path(&message.body);
    // The app's own pattern: token first, then the uid.
    let uid = auth::testing::encode_uid(1);
    assert!(
        path.starts_with("/accounts/reset/") && path.ends_with(&format!("/for/{uid}/")),
        "{path}"
    );

    let moved = client.get(&path).await;
    let form = moved.location().expect("to the form").to_owned();
    assert_eq!(form, format!("/accounts/reset/set-password/for/{uid}/"));
    let token = client.csrf_token().await;
    let done = client
        .post(
            &form,
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("new_password1", "looking-glass-77"),
                ("new_password2", "looking-glass-77"),
            ],
        )
        .await;
    assert_eq!(done.location(), Some("/welcome/"));
    assert_eq!(client.get("/").await.body, "Welcome, alice!", "logged in");
}

/// Records messages; fails on demand.
#[derive(Clone, Default)]
struct Recorder {
    sent: Arc<Mutex<Vec<EmailMessage>>>,
}

impl EmailBackend for Recorder {
    async fn send(&self, message: &EmailMessage) -> auth::Result<()> {
        self.sent.lock().unwrap().push(message.clone());
        Ok(())
    }
}

#[tokio::test]
async fn an_app_can_bring_its_own_backend() {
    let recorder = Recorder::default();
    let auth = auth::Auth::<User>::builder()
        .database_url(auth_tests::sqlite_url())
        .settings(auth::Settings {
            secret_key: Some(auth_tests::TEST_SECRET.into()),
            ..settings()
        })
        .email_backend(recorder.clone())
        .build()
        .await
        .unwrap();
    let mut client = client_for(&auth).await;
    request_reset(&mut client, "alice@example.com").await;
    auth::testing::mail_idle(&auth).await;
    assert_eq!(recorder.sent.lock().unwrap().len(), 1);
    assert!(auth.mail().outbox().is_none());
}

#[tokio::test]
async fn a_failing_smtp_server_changes_nothing_the_user_sees() {
    // A port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let auth = fresh_auth_with::<User>(auth::Settings {
        email_backend: auth::EmailBackendKind::Smtp,
        email_host: "127.0.0.1".into(),
        email_port: port,
        email_timeout: Duration::from_secs(2),
        ..settings()
    })
    .await;
    let mut client = client_for(&auth).await;
    let known = request_reset(&mut client, "alice@example.com").await;
    let unknown = request_reset(&mut client, "nobody@example.com").await;
    assert_eq!(known.status, StatusCode::SEE_OTHER);
    assert_eq!(
        (known.status, known.location(), &known.body),
        (unknown.status, unknown.location(), &unknown.body)
    );
    auth::testing::mail_idle(&auth).await;
}

#[tokio::test]
async fn a_message_goes_over_real_smtp_to_the_sink() {
    let (Some(port), Some(dir)) = (
        std::env::var(SMTP_PORT_ENV).ok().filter(|v| !v.is_empty()),
        std::env::var(SMTP_DIR_ENV).ok().filter(|v| !v.is_empty()),
    ) else {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped on smtp: {SMTP_PORT_ENV} and {SMTP_DIR_ENV} not set (.ci/run starts the sink)"
        );
        return;
    };
    let dir = PathBuf::from(dir);
    let auth = fresh_auth_with::<User>(auth::Settings {
        email_backend: auth::EmailBackendKind::Smtp,
        email_host: "127.0.0.1".into(),
        email_port: port.parse().unwrap(),
        default_from_email: "site@example.com".into(),
        ..settings()
    })
    .await;
    let marker = auth::Uuid::new_v4().simple().to_string();
    auth.mail()
        .send(&EmailMessage {
            subject: format!("Test {marker}"),
            body: "Grüße from the tests.\nhttp://testserver/reset/MQ/abc-def/\n".into(),
            from_email: "site@example.com".into(),
            to: vec!["alice@example.com".into()],
        })
        .await
        .expect("the sink accepts the message");
    let found = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .find(|m| m.contains(&marker))
        .expect("the sink wrote the message");
    assert!(found.contains("To: alice@example.com"), "{found}");
    assert!(found.contains("From: site@example.com"), "{found}");
    assert!(
        found.contains("Grüße from the tests.\r\nhttp://testserver/reset/MQ/abc-def/"),
        "{found}"
    );

    // The reset view through the same server.
    let mut client = client_for(&auth).await;
    let carol = format!("carol-{marker}@example.com");
    auth.users()
        .create_user("carol", &carol, Some("pw"))
        .await
        .unwrap();
    request_reset(&mut client, &carol).await;
    auth::testing::mail_idle(&auth).await;
    let reset = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .any(|m| m.contains(&format!("To: {carol}")) && m.contains("/accounts/reset/"));
    assert!(reset, "the reset message reached the sink");
}

/// `settings()` with the client address read from `X-Forwarded-For`.
fn behind_a_proxy() -> auth::Settings {
    auth::Settings {
        trusted_proxy_header: Some("x-forwarded-for".into()),
        ..settings()
    }
}

/// A reset request for `email` from `ip`.
async fn request_reset_from(client: &mut Client, ip: &str, email: &str) -> StatusCode {
    let token = client.csrf_token().await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("email", email), ("csrfmiddlewaretoken", token.as_str())])
        .finish();
    let page = client
        .send(
            http::Request::post("/accounts/reset/")
                .header(
                    http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .header("x-forwarded-for", ip)
                .body(body.into())
                .unwrap(),
        )
        .await;
    page.status
}

/// The messages `auth` sent to `to`.
async fn sent_to(auth: &auth::Auth<User>, to: &str) -> usize {
    auth::testing::mail_idle(auth).await;
    let outbox = auth.mail().outbox().expect("the memory backend");
    outbox
        .iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .count()
}

auth_tests::backend_tests! {
    /// The limit counts messages per user matched, whatever variant of the
    /// address was typed (case, compatibility forms such as `ſ` for `s`,
    /// which MariaDB's default collation matches), per client and in all.
    async fn reset_mail_is_limited_per_user_whatever_the_address_typed(backend: Backend) {
        let db = backend.database().await;
        let auth = db.auth::<User>(behind_a_proxy()).await;
        auth.users().create_user("sam", "sam@example.com", Some("sam-password-1")).await.unwrap();
        let mut client = Client::new(urls::router().merge(app::routes(&auth)).layer(auth.layer()));
        let variants = [
            "sam@example.com",
            "SAM@example.com",
            "\u{17F}am@example.com",
            "\u{17F}AM@example.com",
            "Sam@EXAMPLE.com",
            "\u{17F}am@EXAMPLE.COM",
            "saM@example.com",
            "\u{17F}aM@example.com",
        ];
        for email in variants {
            assert_eq!(request_reset_from(&mut client, "198.51.100.1", email).await, StatusCode::SEE_OTHER);
            auth::testing::mail_idle(&auth).await;
        }
        assert_eq!(sent_to(&auth, "sam@example.com").await, 3, "AUTH_PASSWORD_RESET_EMAIL_LIMIT per client");
        // The owner, from another address, still gets one.
        request_reset_from(&mut client, "192.0.2.200", "sam@example.com").await;
        assert_eq!(sent_to(&auth, "sam@example.com").await, 4, "the owner is not locked out");
        // Spread over many addresses: 10 in all.
        for i in 0..12 {
            request_reset_from(&mut client, &format!("203.0.113.{i}"), "sam@example.com").await;
            auth::testing::mail_idle(&auth).await;
        }
        assert_eq!(sent_to(&auth, "sam@example.com").await, 10, "AUTH_PASSWORD_RESET_EMAIL_LIMIT_PER_USER");
    }
}

/// With `AUTH_SITE_URL` set, links point there even when `ALLOWED_HOSTS`
/// lets the request's host through with a port of the attacker's choice.
#[tokio::test]
async fn links_use_the_site_url_whatever_the_host_header() {
    let auth = fresh_auth_with::<User>(auth::Settings {
        allowed_hosts: vec!["good.example".into()],
        site_url: Some("https://good.example".into()),
        ..settings()
    })
    .await;
    let mut client = client_for(&auth).await;
    client.host = "good.example:6666".into();
    assert_eq!(
        request_reset(&mut client, "alice@example.com").await.status,
        StatusCode::SEE_OTHER
    );
    auth::testing::mail_idle(&auth).await;
    let outbox = auth.mail().outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    let body = &outbox[0].body;
    assert!(
        body.contains("https://good.example/accounts/reset/"),
        "{body}"
    );
    assert!(!body.contains("6666"), "{body}");
}

/// A session id planted in the victim's browser (cookie tossing) does not
/// give the attacker the victim's set-password form: the token moves into
/// a new session.
#[tokio::test]
async fn the_reset_token_moves_into_a_new_session() {
    let auth = fresh_auth_with::<User>(settings()).await;
    let mut attacker = client_for(&auth).await;
    // The attacker makes a session and plants its id in the victim's jar.
    attacker.post_with_csrf("/cart/", &[("item", "x")]).await;
    let planted = attacker.jar.get("sessionid").cloned().expect("a session");
    let mut victim = Client::new(attacker.router());
    victim.jar.insert("sessionid".into(), planted.clone());
    request_reset(&mut victim, "alice@example.com").await;
    auth::testing::mail_idle(&auth).await;
    let path = link_path(&auth.mail().outbox().unwrap()[0].body);
    let moved = victim.get(&path).await;
    let form = moved.location().expect("to the form").to_owned();
    assert_ne!(
        victim.jar.get("sessionid"),
        Some(&planted),
        "a new session id"
    );
    assert!(
        victim.get(&form).await.body.contains("new_password1"),
        "the victim has the form"
    );
    let seen = attacker.get(&form).await;
    assert!(
        !seen.body.contains("new_password1"),
        "the planted id gets no form: {}",
        seen.body
    );
    assert!(
        seen.body.contains("Password reset unsuccessful"),
        "{}",
        seen.body
    );
}
