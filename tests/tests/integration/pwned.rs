//! The breached-password validator against a range service: a mock of
//! Have I Been Pwned's range API started by each test on loopback (no
//! network), which records what it was asked.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use auth::password::{PwnedFail, PwnedPasswordValidator, validation::PasswordValidator};
use auth_tests::{User, client::Client, fresh_auth_with};
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::get,
};
use sha1::Digest;

auth::auth_urls! {
    login: "/accounts/login/" => LoginView,
    password_change: "/accounts/password_change/" => PasswordChangeView,
    password_change_done: "/accounts/password_change/done/" => PasswordChangeDoneView,
}

fn sha1_hex(password: &str) -> String {
    hex::encode_upper(sha1::Sha1::digest(password.as_bytes()))
}

/// What the mock answers and what it was asked.
#[derive(Default)]
struct Mock {
    breached: BTreeSet<String>,
    /// Hashes listed with a count of 0, as the padding lines are.
    padding: BTreeSet<String>,
    delay: Option<Duration>,
    status: Option<StatusCode>,
    /// Each request: its path and its `Add-Padding` header.
    asked: Mutex<Vec<(String, Option<String>)>>,
}

async fn range(
    State(mock): State<Arc<Mock>>,
    Path(prefix): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let padding = headers
        .get("add-padding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    mock.asked
        .lock()
        .unwrap()
        .push((format!("/range/{prefix}"), padding));
    if let Some(delay) = mock.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = mock.status {
        return (status, "unavailable".into());
    }
    let mut body = String::new();
    for (hashes, count) in [(&mock.breached, "7"), (&mock.padding, "0")] {
        for hash in hashes.iter().filter(|h| h.starts_with(&prefix)) {
            body.push_str(&format!("{}:{count}\r\n", &hash[5..]));
        }
    }
    (StatusCode::OK, body)
}

/// Serves `mock` on a loopback port; the range URL.
async fn serve(mock: Arc<Mock>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/range/{prefix}", get(range))
        .with_state(mock);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/range/")
}

fn mock(breached: &[&str], padding: &[&str]) -> Mock {
    Mock {
        breached: breached.iter().map(|p| sha1_hex(p)).collect(),
        padding: padding.iter().map(|p| sha1_hex(p)).collect(),
        ..Mock::default()
    }
}

/// Through the password change form: a breached password is refused with
/// the breach message, a clean one (listed only on a padding line) is
/// accepted; every request names only a 5-digit prefix and asks for
/// padding.
#[tokio::test]
async fn the_range_protocol_refuses_breached_passwords_and_sends_only_a_prefix() {
    let mock = Arc::new(mock(&["breached-but-long-1"], &["not-in-any-list-9"]));
    let url = serve(mock.clone()).await;
    let auth = fresh_auth_with::<User>(auth::Settings {
        pwned_passwords_url: Some(url),
        ..Default::default()
    })
    .await;
    auth.users()
        .create_user("alice", "alice@example.com", Some("wonderland-42"))
        .await
        .unwrap();
    let mut client = Client::new(urls::router().layer(auth.layer()));
    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let change = |new: &'static str| {
        [
            ("old_password", "wonderland-42"),
            ("new_password1", new),
            ("new_password2", new),
        ]
    };
    let page = client
        .submit_form(urls::PASSWORD_CHANGE, &change("breached-but-long-1"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("This password has appeared in a data breach"),
        "{}",
        page.body
    );
    let page = client
        .submit_form(urls::PASSWORD_CHANGE, &change("not-in-any-list-9"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    let asked = mock.asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 2, "{asked:?}");
    for (password, (path, padding)) in ["breached-but-long-1", "not-in-any-list-9"]
        .iter()
        .zip(&asked)
    {
        let hash = sha1_hex(password);
        assert_eq!(path, &format!("/range/{}", &hash[..5]));
        assert!(!path.contains(&hash[5..10]), "only the prefix leaves");
        assert_eq!(padding.as_deref(), Some("true"));
    }
}

/// A range fetched once answers every password of its prefix until the
/// TTL; the blocking and async paths agree.
#[tokio::test(flavor = "multi_thread")]
async fn ranges_are_cached() {
    let mock = Arc::new(mock(&["hunter2hunter2"], &[]));
    let url = serve(mock.clone()).await;
    let validator =
        PwnedPasswordValidator::online(&url, Duration::from_secs(2), Duration::from_secs(60))
            .unwrap();
    assert!(validator.is_breached("hunter2hunter2").await.unwrap());
    assert!(validator.is_breached("hunter2hunter2").await.unwrap());
    assert!(validator.is_breached_blocking("hunter2hunter2").unwrap());
    assert_eq!(mock.asked.lock().unwrap().len(), 1, "one fetch per range");
    assert!(
        !validator
            .is_breached("correct horse battery")
            .await
            .unwrap()
    );
    assert_eq!(mock.asked.lock().unwrap().len(), 2);

    let uncached =
        PwnedPasswordValidator::online(&url, Duration::from_secs(2), Duration::ZERO).unwrap();
    assert!(uncached.is_breached_blocking("hunter2hunter2").unwrap());
    assert!(uncached.is_breached("hunter2hunter2").await.unwrap());
    assert_eq!(
        mock.asked.lock().unwrap().len(),
        4,
        "a TTL of 0 keeps nothing"
    );
}

/// A service that is slow, answers an error or is not there: `open` lets
/// the password through, `closed` refuses it with a message that says
/// the check is unavailable (never the breach message).
#[tokio::test(flavor = "multi_thread")]
async fn an_unavailable_service_fails_open_or_closed() {
    let slow = serve(Arc::new(Mock {
        delay: Some(Duration::from_secs(5)),
        ..mock(&["breached-but-long-1"], &[])
    }))
    .await;
    let failing = serve(Arc::new(Mock {
        status: Some(StatusCode::SERVICE_UNAVAILABLE),
        ..Mock::default()
    }))
    .await;
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/range/", listener.local_addr().unwrap())
    };
    for url in [slow, failing, closed_port] {
        let open = PwnedPasswordValidator::online(
            &url,
            Duration::from_millis(300),
            Duration::from_secs(60),
        )
        .unwrap();
        let closed = open.clone().fail(PwnedFail::Closed);
        let started = std::time::Instant::now();
        assert!(
            open.validate_async("breached-but-long-1", None)
                .await
                .is_ok(),
            "{url}: fails open"
        );
        let refused = closed
            .validate_async("breached-but-long-1", None)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), "password_pwned_unavailable", "{url}");
        assert!(refused.message().contains("could not be checked"));
        let refused = closed.validate("breached-but-long-1", None).unwrap_err();
        assert_eq!(refused.code(), "password_pwned_unavailable", "{url}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{url}: the timeout bounds the wait"
        );
    }
}

/// Misconfigurations stop the start: both lists set, a URL that is not
/// one, an unknown failure policy.
#[tokio::test]
async fn a_breached_password_list_set_up_wrongly_stops_the_start() {
    let db = auth_tests::Backend::Sqlite.database().await;
    for (settings, expected) in [
        (
            auth::Settings {
                pwned_passwords_url: Some("https://api.pwnedpasswords.com/range/".into()),
                pwned_passwords_file: Some("/tmp/pwned.txt".into()),
                ..Default::default()
            },
            "are both set",
        ),
        (
            auth::Settings {
                pwned_passwords_url: Some("api.pwnedpasswords.com/range".into()),
                ..Default::default()
            },
            "AUTH_PWNED_PASSWORDS_URL",
        ),
    ] {
        let Err(err) = db.builder::<User>(settings).build().await else {
            panic!("{expected}: must not start");
        };
        assert!(err.to_string().contains(expected), "{err}");
    }
    let err = auth::Settings::from_lookup(|name| {
        (name == "AUTH_PWNED_FAIL").then(|| "sometimes".to_owned())
    })
    .unwrap_err();
    assert!(err.to_string().contains("open or closed"), "{err}");
}
