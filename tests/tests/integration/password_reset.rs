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
    auth.create_user("alice", "alice@example.com", Some("wonderland-42"))
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
    let outbox = auth.outbox().expect("the memory backend");
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
    assert!(auth.outbox().is_none());
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
    auth.send_mail(&EmailMessage {
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
    auth.create_user("carol", &carol, Some("pw")).await.unwrap();
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
