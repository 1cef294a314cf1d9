//! The seed app end to end, driven as a browser would: GET the form, submit
//! every hidden input, follow no redirects, check status, `Location`,
//! cookies and text.

use accounts::User;
use auth_tests::client::{Client, Page};
use http::{Request, StatusCode, header};

const SECRET: &str = "e2e-secret-key-e2e-secret-key-e2e-secret-key";

pub(crate) async fn app() -> (auth::Auth<User>, Client) {
    let dir = std::env::temp_dir().join("accounts-e2e");
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("{}.db", auth::Uuid::new_v4().simple()))
            .display()
    );
    let mut settings = accounts::settings().unwrap();
    settings.secret_key = Some(SECRET.into());
    let auth = accounts::builder(settings)
        .database_url(db)
        .build()
        .await
        .unwrap();
    let mut alice = auth
        .users()
        .create_user("alice", "alice@example.com", Some("wonderland-42"))
        .await
        .unwrap();
    alice.bio = "Curious.".into();
    auth.users().save(alice).await.unwrap();
    let client = client_of(&auth);
    (auth, client)
}

/// A new browser on the example app of `auth`.
pub(crate) fn client_of(auth: &auth::Auth<User>) -> Client {
    Client::new(accounts::app(auth))
}

pub(crate) async fn logged_in() -> (auth::Auth<User>, Client) {
    let (auth, mut client) = app().await;
    let page = client.log_in("/login/", "alice", "wonderland-42").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    (auth, client)
}

#[tokio::test]
async fn anonymous_visitors_are_guests_and_are_sent_to_login() {
    let (_auth, mut client) = app().await;
    let home = client.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Welcome, Guest!"), "{}", home.body);
    let profile = client.get("/profile/").await;
    assert_eq!(profile.status, StatusCode::SEE_OTHER);
    assert_eq!(profile.location(), Some("/login/?next=/profile/"));
}

#[tokio::test]
async fn the_login_form_is_a_djangoish_form() {
    let (_auth, mut client) = app().await;
    let page = client.get("/login/?next=/profile/").await;
    assert_eq!(page.status, StatusCode::OK);
    for name in ["username", "password", "csrfmiddlewaretoken", "next"] {
        assert!(
            page.body.contains(&format!("name=\"{name}\"")),
            "{name} missing: {}",
            page.body
        );
    }
    assert_eq!(page.input_value("next").as_deref(), Some("/profile/"));
    let cache = page
        .headers
        .get(header::CACHE_CONTROL)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cache.contains("no-store"), "{cache}");
    assert_eq!(page.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    assert!(page.set_cookie("sessionid").is_none(), "no session on GET");
    assert!(page.set_cookie("csrftoken").is_some());
}

#[tokio::test]
async fn failed_logins_show_one_generic_message() {
    let (auth, mut client) = app().await;
    let mut bob = auth
        .users()
        .create_user("bob", "", Some("builder-99"))
        .await
        .unwrap();
    bob.is_active = false;
    auth.users().save(bob).await.unwrap();
    for (username, password) in [
        ("alice", "wrong"),
        ("nobody", "wonderland-42"),
        ("bob", "builder-99"),
        ("ALICE", "wonderland-42"),
    ] {
        let page = client.log_in("/login/", username, password).await;
        assert_eq!(page.status, StatusCode::OK, "{username}");
        assert!(
            page.body.contains(
                "Please enter a correct username and password. Note that both fields may be case-sensitive."
            ),
            "{username}: {}",
            page.body
        );
        assert!(page.set_cookie("sessionid").is_none());
    }
    let page = client.log_in("/login/", "", "").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.body.matches("This field is required.").count(),
        2,
        "{}",
        page.body
    );
    assert!(!client.get("/").await.body.contains("alice"));
}

#[tokio::test]
async fn a_successful_login_goes_to_the_profile() {
    let (_auth, mut client) = app().await;
    let page = client.log_in("/login/", "alice", "wonderland-42").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/profile/"));
    let cookie = page.set_cookie("sessionid").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let profile = client.get("/profile/").await;
    assert_eq!(profile.status, StatusCode::OK);
    assert!(
        profile.body.contains("alice") && profile.body.contains("Curious."),
        "{}",
        profile.body
    );
    assert!(
        profile.body.contains("action=\"/logout/\""),
        "a logout form: {}",
        profile.body
    );
    assert!(client.get("/").await.body.contains("Welcome, alice!"));
}

#[tokio::test]
async fn next_is_honoured_when_safe_and_ignored_otherwise() {
    let (_auth, mut client) = app().await;
    let page = client
        .log_in("/login/?next=/password-change/", "alice", "wonderland-42")
        .await;
    assert_eq!(page.location(), Some("/password-change/"));

    // The form's next wins over the query string's.
    let (_auth, mut client) = app().await;
    let form = client.get("/login/").await;
    let token = form.input_value("csrfmiddlewaretoken").unwrap();
    let page = client
        .post(
            "/login/?next=/from-query/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("next", "/from-post/"),
                ("username", "alice"),
                ("password", "wonderland-42"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/from-post/"));

    for bad in [
        "http://evil.com/",
        "//evil.com",
        "/\\evil.com",
        "https:evil.com",
        "javascript:alert(1)",
        "\\\\evil.com",
    ] {
        let (_auth, mut client) = app().await;
        let form = client.get("/login/").await;
        let token = form.input_value("csrfmiddlewaretoken").unwrap();
        let page = client
            .post(
                "/login/",
                &[
                    ("csrfmiddlewaretoken", &token),
                    ("next", bad),
                    ("username", "alice"),
                    ("password", "wonderland-42"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{bad}");
        assert_eq!(page.location(), Some("/profile/"), "{bad}");
        let query = format!(
            "/login/?next={}",
            form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>()
        );
        let form = client.get(&query).await;
        assert_eq!(
            form.input_value("next").as_deref(),
            Some(""),
            "{bad} is not echoed"
        );
    }
}

/// `next` values that browsers read as another site once they drop the
/// tab, CR or LF in them (Django accepts the first three), and ones whose
/// raw bytes cannot go into a `Location` header.
const CONTROL_CHARACTER_NEXTS: [&str; 8] = [
    "/\t//evil.example/",
    "/\\\t/evil.example/",
    "//\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n//evil.example/",
    "/x\ny",
    "/x\u{7f}y",
    "/\u{0}/evil.example/",
];

#[tokio::test]
async fn control_characters_in_next_never_leave_the_site_nor_break_the_redirect() {
    for bad in CONTROL_CHARACTER_NEXTS {
        let encoded: String = form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        // From the query string, carried through the form as a browser would.
        let (auth, mut client) = app().await;
        let page = client
            .log_in(&format!("/login/?next={encoded}"), "alice", "wonderland-42")
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{bad:?}: {}", page.body);
        assert_eq!(page.location(), Some("/profile/"), "{bad:?}");
        // From the POST body.
        let (_auth, mut client) = app().await;
        let token = client
            .get("/login/")
            .await
            .input_value("csrfmiddlewaretoken")
            .unwrap();
        let page = client
            .post(
                "/login/",
                &[
                    ("csrfmiddlewaretoken", &token),
                    ("next", bad),
                    ("username", "alice"),
                    ("password", "wonderland-42"),
                ],
            )
            .await;
        assert_eq!(page.location(), Some("/profile/"), "{bad:?}");
        // Logging out.
        let token = client
            .get("/")
            .await
            .input_value("csrfmiddlewaretoken")
            .unwrap();
        let page = client
            .post(
                &format!("/logout/?next={encoded}"),
                &[("csrfmiddlewaretoken", &token)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{bad:?}: {}", page.body);
        assert_eq!(page.location(), Some("/"), "{bad:?}");
        drop(auth);
    }
}

#[tokio::test]
async fn every_redirect_target_is_percent_encoded_like_iri_to_uri() {
    let (_auth, mut client) = app().await;
    let page = client
        .log_in(
            "/login/?next=/caf%C3%A9/%3Fq%3Da%20b%22%3C%3E%5E%60%7B%7C%7D",
            "alice",
            "wonderland-42",
        )
        .await;
    assert_eq!(
        page.location(),
        Some("/caf%C3%A9/?q=a%20b%22%3C%3E%5E%60%7B%7C%7D"),
        "non-ASCII, spaces and unsafe punctuation are encoded; `/?=` stay"
    );
}

#[tokio::test]
async fn logout_needs_post_and_a_token() {
    let (_auth, mut client) = logged_in().await;
    let page = client.get("/logout/").await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(page.headers.get(header::ALLOW).unwrap(), "POST, OPTIONS");
    assert!(client.get("/").await.body.contains("Welcome, alice!"));

    let page = client.post("/logout/", &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(client.get("/").await.body.contains("Welcome, alice!"));

    let profile = client.get("/profile/").await;
    let token = profile.input_value("csrfmiddlewaretoken").unwrap();
    let old_session = client.jar["sessionid"].clone();
    let page = client
        .post("/logout/", &[("csrfmiddlewaretoken", &token)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/"));
    assert!(page.set_cookie("sessionid").unwrap().contains("Max-Age=0"));
    assert!(client.get("/").await.body.contains("Welcome, Guest!"));

    client.jar.insert("sessionid".into(), old_session);
    assert!(
        client.get("/").await.body.contains("Welcome, Guest!"),
        "the old session is dead"
    );
}

async fn change_password(client: &mut Client, old: &str, new1: &str, new2: &str) -> Page {
    client
        .submit_form(
            "/password-change/",
            &[
                ("old_password", old),
                ("new_password1", new1),
                ("new_password2", new2),
            ],
        )
        .await
}

#[tokio::test]
async fn password_change_end_to_end() {
    let (auth, mut client) = app().await;
    let page = client.get("/password-change/").await;
    assert_eq!(page.location(), Some("/login/?next=/password-change/"));
    assert_eq!(
        client.get("/password-change/done/").await.location(),
        Some("/login/?next=/password-change/done/")
    );

    client.log_in("/login/", "alice", "wonderland-42").await;
    let mut other = Client::new(client.router());
    other.log_in("/login/", "alice", "wonderland-42").await;

    let page = change_password(&mut client, "nope", "brand-new-pass-7", "brand-new-pass-7").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Your old password was entered incorrectly. Please enter it again.")
    );

    let page = change_password(
        &mut client,
        "wonderland-42",
        "brand-new-pass-7",
        "brand-new-pass-8",
    )
    .await;
    assert!(
        page.body.contains("The two password fields didn’t match."),
        "{}",
        page.body
    );

    let page = change_password(&mut client, "wonderland-42", "12345678", "12345678").await;
    assert!(
        page.body.contains("This password is too common.")
            && page.body.contains("This password is entirely numeric.")
    );
    let page = change_password(&mut client, "wonderland-42", "alice", "alice").await;
    for message in [
        "The password is too similar to the username.",
        "This password is too short. It must contain at least 8 characters.",
        "This password is too common.",
    ] {
        assert!(page.body.contains(message), "{message}: {}", page.body);
    }

    let before = client.jar["sessionid"].clone();
    let page = change_password(
        &mut client,
        "wonderland-42",
        "brand-new-pass-7",
        "brand-new-pass-7",
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), Some("/password-change/done/"));
    assert_ne!(client.jar["sessionid"], before);
    let done = client.get("/password-change/done/").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        client.get("/").await.body.contains("Welcome, alice!"),
        "this session survives"
    );

    let page = other.get("/profile/").await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "the other session is dead"
    );
    assert!(
        auth.authenticate("alice", "wonderland-42")
            .await
            .unwrap()
            .is_none()
    );
    let mut fresh = Client::new(client.router());
    assert_eq!(
        fresh
            .log_in("/login/", "alice", "wonderland-42")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        fresh
            .log_in("/login/", "alice", "brand-new-pass-7")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_custom_login_view_uses_the_primitives() {
    let (_auth, mut client) = app().await;
    let page = client.log_in("/custom-login/", "alice", "wrong").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Invalid credentials"));
    let page = client
        .log_in("/custom-login/", "alice", "wonderland-42")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/"));
    assert!(client.get("/").await.body.contains("Welcome, alice!"));
}

#[tokio::test]
async fn fifty_concurrent_clients_see_only_themselves() {
    let (auth, client) = app().await;
    let router = client.router();
    for i in 0..50 {
        let mut user = auth
            .users()
            .create_user(&format!("user{i}"), "", None)
            .await
            .unwrap();
        // A cheap hash keeps the set-up fast; logins upgrade it.
        user.password = auth::password::Hasher::new(8, 1, 1)
            .unwrap()
            .make(&format!("password-{i}"));
        user.bio = format!("bio of user{i}");
        auth.users().save(user).await.unwrap();
    }
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let router = router.clone();
            tokio::spawn(async move {
                let mut client = Client::new(router);
                let page = client
                    .log_in("/login/", &format!("user{i}"), &format!("password-{i}"))
                    .await;
                assert_eq!(page.status, StatusCode::SEE_OTHER, "user{i}: {}", page.body);
                let profile = client.get("/profile/").await;
                assert_eq!(profile.status, StatusCode::OK, "user{i}");
                assert!(
                    profile.body.contains(&format!("bio of user{i}<")),
                    "user{i}: {}",
                    profile.body
                );
                profile.body.matches("bio of user").count()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 1, "no cross-talk");
    }
}

#[tokio::test]
async fn malformed_bodies_never_give_a_server_error() {
    let (_auth, mut client) = app().await;
    let form = client.get("/login/").await;
    let token = form.input_value("csrfmiddlewaretoken").unwrap();
    let huge = "x".repeat(1024 * 1024);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/x-www-form-urlencoded", format!("csrfmiddlewaretoken={token}&username=%FF%FE&password=%C3%28").into_bytes()),
        ("application/x-www-form-urlencoded", [format!("csrfmiddlewaretoken={token}&username=").as_bytes(), &[0xff, 0xfe], b"&password=x"].concat()),
        ("application/x-www-form-urlencoded", format!("csrfmiddlewaretoken={token}&username={huge}&password={huge}").into_bytes()),
        ("application/x-www-form-urlencoded", format!("csrfmiddlewaretoken={token}&username=a&username=alice&password=x&password=wonderland-42").into_bytes()),
        ("application/x-www-form-urlencoded; charset=utf-16", format!("csrfmiddlewaretoken={token}&username=alice").into_bytes()),
        ("application/x-www-form-urlencoded", "x".repeat(3 * 1024 * 1024).into_bytes()),
        ("application/x-www-form-urlencoded", "a=1&".repeat(2000).into_bytes()),
        ("application/json", br#"{"username": "alice", "password": "wonderland-42"}"#.to_vec()),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n".to_vec()),
        ("text/plain", b"\x00\x01\x02".to_vec()),
    ];
    for (content_type, body) in bodies {
        for uri in ["/login/", "/logout/", "/password-change/", "/custom-login/"] {
            let req = Request::post(uri)
                .header(header::CONTENT_TYPE, content_type)
                .header("X-CSRFToken", &token)
                .body(axum::body::Body::from(body.clone()))
                .unwrap();
            let page = client.send(req).await;
            assert!(
                !page.status.is_server_error(),
                "{uri} {content_type}: {} {}",
                page.status,
                page.body
            );
        }
    }
}

#[tokio::test]
async fn a_page_without_a_form_sets_no_csrf_cookie_and_a_form_does() {
    let (_auth, mut client) = app().await;
    let home = client.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.set_cookie("csrftoken").is_none(), "no form, no cookie");
    assert!(home.set_cookie("sessionid").is_none());
    let redirect = client.get("/profile/").await;
    assert!(redirect.set_cookie("csrftoken").is_none());
    let form = client.get("/login/").await;
    let cookie = form
        .set_cookie("csrftoken")
        .expect("a form sets the cookie");
    let token = form.input_value("csrfmiddlewaretoken").unwrap();
    assert_eq!(token.len(), 64, "a masked token: {token}");
    assert!(!cookie.is_empty());
    // The same secret stays: the next form page sends no new cookie.
    assert!(
        client
            .get("/password-reset/")
            .await
            .set_cookie("csrftoken")
            .is_none()
    );
}
