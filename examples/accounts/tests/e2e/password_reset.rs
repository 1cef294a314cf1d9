//! The example's password reset end to end: messages read from the `file`
//! backend's directory, links followed as a browser follows them.

use std::path::{Path, PathBuf};

use accounts::User;
use auth_tests::client::{Client, Page};
use http::StatusCode;

const SECRET: &str = "reset-secret-key-reset-secret-key-reset-secret";
const OLD: &str = "wonderland-42";
const NEW: &str = "looking-glass-77";

struct App {
    auth: auth::Auth<User>,
    mail: PathBuf,
}

fn temp_dir(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("accounts-reset")
        .join(format!("{kind}-{}", auth::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn app_with(adjust: impl FnOnce(&mut auth::Settings)) -> App {
    let dir = temp_dir("db");
    let mail = temp_dir("mail");
    let mut settings = accounts::settings().unwrap();
    settings.secret_key = Some(SECRET.into());
    settings.email_backend = auth::EmailBackendKind::File;
    settings.email_file_path = Some(mail.clone());
    settings.allowed_hosts = vec!["testserver".into()];
    adjust(&mut settings);
    let auth = accounts::builder(settings)
        .database_url(format!(
            "sqlite://{}?mode=rwc",
            dir.join("auth.db").display()
        ))
        .build()
        .await
        .unwrap();
    auth.users()
        .create_user("alice", "alice@example.com", Some(OLD))
        .await
        .unwrap();
    auth.users()
        .create_user("bob", "bob@example.com", Some(OLD))
        .await
        .unwrap();
    App { auth, mail }
}

async fn app() -> App {
    app_with(|_| {}).await
}

impl App {
    fn client(&self) -> Client {
        Client::new(accounts::app(&self.auth))
    }

    /// The messages written so far, oldest first.
    async fn messages(&self) -> Vec<String> {
        auth::testing::mail_idle(&self.auth).await;
        read_messages(&self.mail)
    }

    async fn user(&self, name: &str) -> User {
        self.auth
            .users()
            .get_by_username(name)
            .await
            .unwrap()
            .unwrap()
    }
}

fn read_messages(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// The reset link in a message.
fn link(message: &str) -> String {
    let start = message.find("http://").expect("a link");
    let rest = &message[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// The path of a link to this test server.
fn path(link: &str) -> &str {
    link.strip_prefix("http://testserver")
        .expect("a link to the request's host")
}

async fn request_reset(client: &mut Client, email: &str) -> Page {
    client
        .submit_form("/password-reset/", &[("email", email)])
        .await
}

/// Follows a reset link to the form page; returns the form's path.
async fn open_link(client: &mut Client, link: &str) -> Page {
    client.get(path(link)).await
}

async fn set_password(client: &mut Client, form_path: &str, new1: &str, new2: &str) -> Page {
    client
        .submit_form(
            form_path,
            &[("new_password1", new1), ("new_password2", new2)],
        )
        .await
}

const INVALID: &str =
    "The password reset link was invalid, possibly because it has already been used.";

fn is_invalid(page: &Page) -> bool {
    page.status == StatusCode::OK
        && page.body.contains(INVALID)
        && !page.body.contains("new_password1")
}

#[tokio::test]
async fn the_whole_flow_works_once() {
    let app = app().await;
    let mut client = app.client();
    let login = client.get("/login/").await;
    assert!(
        login
            .body
            .contains(r#"<a href="/password-reset/">Forgot your password?</a>"#)
    );

    let done = request_reset(&mut client, "alice@example.com").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/password-reset/done/"));
    assert_eq!(
        client.get("/password-reset/done/").await.status,
        StatusCode::OK
    );

    let messages = app.messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(
        message.contains("Subject: Password reset on testserver"),
        "{message}"
    );
    assert!(message.contains("To: alice@example.com"), "{message}");
    assert!(message.contains("From: webmaster@localhost"), "{message}");
    assert!(message.contains("alice"), "the username: {message}");
    let link = link(message);
    let uid = auth::testing::encode_uid(app.user("alice").await.id);
    assert!(path(&link).starts_with(&format!("/reset/{uid}/")), "{link}");

    // The token moves to the session; the form's address holds no token.
    let moved = open_link(&mut client, &link).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let form_path = format!("/reset/{uid}/set-password/");
    assert_eq!(moved.location(), Some(form_path.as_str()));
    let form = client.get(&form_path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("name=\"new_password1\""),
        "{}",
        form.body
    );
    assert!(form.body.contains("name=\"new_password2\""));

    let mismatch = set_password(&mut client, &form_path, NEW, "something-else-9").await;
    assert_eq!(mismatch.status, StatusCode::OK);
    assert!(
        mismatch
            .body
            .contains("The two password fields didn’t match."),
        "{}",
        mismatch.body
    );
    let weak = set_password(&mut client, &form_path, "12345678", "12345678").await;
    assert_eq!(weak.status, StatusCode::OK);
    assert!(
        weak.body.contains("This password is too common."),
        "{}",
        weak.body
    );
    assert!(
        weak.body.contains("This password is entirely numeric."),
        "{}",
        weak.body
    );
    let like_name = set_password(&mut client, &form_path, "alice-example", "alice-example").await;
    assert!(like_name.body.contains("too similar"), "{}", like_name.body);
    let empty = set_password(&mut client, &form_path, "", "").await;
    assert!(empty.body.contains("This field is required."));

    let saved = set_password(&mut client, &form_path, NEW, NEW).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), Some("/reset/done/"));
    let complete = client.get("/reset/done/").await;
    assert_eq!(complete.status, StatusCode::OK);
    assert!(complete.body.contains("Password reset complete"));

    // Used: neither the link nor the form works again.
    assert!(is_invalid(&open_link(&mut client, &link).await));
    assert!(is_invalid(&client.get(&form_path).await));
    let mut other = app.client();
    assert_eq!(
        other.log_in("/login/", "alice", OLD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        other.log_in("/login/", "alice", NEW).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn other_sessions_of_the_user_end() {
    let app = app().await;
    let mut elsewhere = app.client();
    assert_eq!(
        elsewhere.log_in("/login/", "alice", OLD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(elsewhere.get("/profile/").await.status, StatusCode::OK);
    let mut bob = app.client();
    assert_eq!(
        bob.log_in("/login/", "bob", OLD).await.status,
        StatusCode::SEE_OTHER
    );

    let mut client = app.client();
    request_reset(&mut client, "alice@example.com").await;
    let link = link(&app.messages().await[0]);
    let form_path = open_link(&mut client, &link)
        .await
        .location()
        .unwrap()
        .to_owned();
    assert_eq!(
        set_password(&mut client, &form_path, NEW, NEW).await.status,
        StatusCode::SEE_OTHER
    );

    let profile = elsewhere.get("/profile/").await;
    assert_eq!(
        profile.status,
        StatusCode::SEE_OTHER,
        "alice's other session ended"
    );
    assert_eq!(
        bob.get("/profile/").await.status,
        StatusCode::OK,
        "bob's did not"
    );
}

#[tokio::test]
async fn tampered_foreign_and_malformed_links_are_invalid() {
    let app = app().await;
    let mut client = app.client();
    request_reset(&mut client, "alice@example.com").await;
    let link = link(&app.messages().await[0]);
    let (base, token) = path(&link).trim_end_matches('/').rsplit_once('/').unwrap();
    let bob_uid = auth::testing::encode_uid(app.user("bob").await.id);
    let mut flipped = token.to_owned();
    let last = flipped.pop().unwrap();
    flipped.push(if last == '0' { '1' } else { '0' });
    for bad in [
        format!("{base}/{flipped}/"),
        format!("/reset/{bob_uid}/{token}/"),
        format!("{base}/{}/", &token[..token.len() - 2]),
        format!("{base}/not-a-token/"),
        format!("{base}/set-password/"),
        "/reset/MTIzNDU2Nzg/x-y/".to_owned(),
        "/reset/%FF%FE/abc-def/".to_owned(),
        "/reset/!!!/abc-def/".to_owned(),
        format!("/reset/{}/{token}/", "QUFB".repeat(40)),
    ] {
        let page = client.get(&bad).await;
        assert!(is_invalid(&page), "{bad}: {} {}", page.status, page.body);
    }
    // The real link still works after all that.
    assert_eq!(
        open_link(&mut client, &link).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn links_expire() {
    let app = app().await;
    let mut client = app.client();
    request_reset(&mut client, "alice@example.com").await;
    let link = link(&app.messages().await[0]);
    auth::testing::advance_clock(&app.auth, 259_200 - 60);
    assert_eq!(
        open_link(&mut client, &link).await.status,
        StatusCode::SEE_OTHER,
        "still valid"
    );
    let form_path = format!(
        "/reset/{}/set-password/",
        auth::testing::encode_uid(app.user("alice").await.id)
    );
    auth::testing::advance_clock(&app.auth, 61);
    assert!(is_invalid(&open_link(&mut client, &link).await));
    assert!(
        is_invalid(&client.get(&form_path).await),
        "the stored token expired too"
    );
}

#[tokio::test]
async fn a_login_a_password_change_or_a_new_email_kills_the_link() {
    let app = app().await;
    let mut client = app.client();

    request_reset(&mut client, "alice@example.com").await;
    let before_login = link(&app.messages().await[0]);
    assert_eq!(
        app.client().log_in("/login/", "alice", OLD).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(is_invalid(&open_link(&mut client, &before_login).await));

    request_reset(&mut client, "alice@example.com").await;
    let before_change = link(&app.messages().await[1]);
    let mut alice = app.user("alice").await;
    app.auth
        .users()
        .set_password(&mut alice, "another-password-5")
        .await
        .unwrap();
    assert!(is_invalid(&open_link(&mut client, &before_change).await));

    request_reset(&mut client, "alice@example.com").await;
    let before_email = link(&app.messages().await[2]);
    let mut alice = app.user("alice").await;
    alice.email = "alice@elsewhere.example".into();
    app.auth.users().save(alice).await.unwrap();
    assert!(is_invalid(&open_link(&mut client, &before_email).await));
}

#[tokio::test]
async fn unknown_inactive_and_passwordless_addresses_look_the_same_and_get_nothing() {
    let app = app().await;
    let mut carol = app
        .auth
        .users()
        .create_user("carol", "carol@example.com", Some(OLD))
        .await
        .unwrap();
    carol.is_active = false;
    app.auth.users().save(carol).await.unwrap();
    app.auth
        .users()
        .create_user("dave", "dave@example.com", None)
        .await
        .unwrap();
    let mut client = app.client();
    let mut answers = Vec::new();
    for email in [
        "nobody@example.com",
        "carol@example.com",
        "dave@example.com",
        "alice@example.com",
    ] {
        let page = request_reset(&mut client, email).await;
        answers.push((page.status, page.location().map(str::to_owned), page.body));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let messages = app.messages().await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("To: alice@example.com"));
}

#[tokio::test]
async fn the_address_matches_case_insensitively_and_bad_input_is_a_form_error() {
    let app = app().await;
    let mut client = app.client();
    assert_eq!(
        request_reset(&mut client, "  ALICE@Example.COM ")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.messages().await.len(), 1);
    for (email, message) in [
        ("", "This field is required."),
        ("not-an-address", "Enter a valid email address."),
        ("a@b\u{0}c.com", "Enter a valid email address."),
    ] {
        let page = request_reset(&mut client, email).await;
        assert_eq!(page.status, StatusCode::OK, "{email:?}");
        assert!(page.body.contains(message), "{email:?}: {}", page.body);
    }
    let long = format!("{}@example.com", "a".repeat(5000));
    assert_eq!(
        request_reset(&mut client, &long).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_flood_of_requests_sends_at_most_the_limit() {
    let app = app().await;
    let mut client = app.client();
    for _ in 0..8 {
        let page = request_reset(&mut client, "alice@example.com").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        auth::testing::mail_idle(&app.auth).await;
    }
    assert_eq!(
        app.messages().await.len(),
        3,
        "AUTH_PASSWORD_RESET_EMAIL_LIMIT"
    );
    // Another address is not held back by alice's.
    request_reset(&mut client, "bob@example.com").await;
    assert_eq!(app.messages().await.len(), 4);
}

#[tokio::test]
async fn links_never_point_at_an_unguarded_host() {
    // No allowed hosts, no site URL: a poisoned Host gets nothing sent.
    let app = app_with(|s| s.allowed_hosts.clear()).await;
    let mut client = app.client();
    client.host = "evil.example".into();
    assert_eq!(
        request_reset(&mut client, "alice@example.com").await.status,
        StatusCode::SEE_OTHER
    );
    assert!(app.messages().await.is_empty());
    // A loopback host cannot point elsewhere: sent.
    client.host = "127.0.0.1:8000".into();
    request_reset(&mut client, "alice@example.com").await;
    let messages = app.messages().await;
    assert_eq!(messages.len(), 1);
    assert!(link(&messages[0]).starts_with("http://127.0.0.1:8000/reset/"));

    // With AUTH_SITE_URL, links use it whatever the Host says.
    let app = app_with(|s| {
        s.allowed_hosts.clear();
        s.site_url = Some("https://accounts.example".into());
    })
    .await;
    let mut client = app.client();
    client.host = "evil.example".into();
    request_reset(&mut client, "alice@example.com").await;
    let messages = app.messages().await;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert!(
        message.contains("https://accounts.example/reset/"),
        "{message}"
    );
    assert!(!message.contains("evil"), "{message}");
}

/// The file backend writes messages (live reset links) readable by their
/// owner only, whatever the umask.
#[cfg(unix)]
#[tokio::test]
async fn messages_on_disk_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = app().await;
    let mut client = app.client();
    request_reset(&mut client, "alice@example.com").await;
    assert_eq!(app.messages().await.len(), 1);
    for entry in std::fs::read_dir(&app.mail).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
}
