//! A flood of login attempts for random usernames: hashing stays within
//! its bound (so memory does), every answer is a page a browser
//! understands, and a real user logs in right after.

use std::collections::BTreeMap;

use auth::testing::{peak_concurrent_hashes, reset_peak_concurrent_hashes};
use auth_tests::{User, client::Client, fresh_auth_with};
use http::StatusCode;

auth::auth_urls! {
    login: "/login/" => LoginView { next_page: "/" },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_is_bounded_and_answered() {
    let settings = auth::Settings {
        password_hash_concurrency: 2,
        password_hash_queue: 16,
        ..Default::default()
    };
    let auth = fresh_auth_with::<User>(settings).await;
    auth.users()
        .create_user("alice", "", Some("alice-password"))
        .await
        .unwrap();
    let router = auth_tests::app::routes(&auth)
        .merge(urls::router())
        .layer(auth.layer());

    // One CSRF cookie and token for every attempt, as an attacker would.
    let mut attacker = Client::new(router.clone());
    let token = attacker.csrf_token().await;
    reset_peak_concurrent_hashes(&auth);
    let attempts = (0..200).map(|i| {
        let mut client = Client::new(router.clone());
        client.jar = attacker.jar.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let username = format!("nobody-{i}-{}", auth::Uuid::new_v4().simple());
            client
                .post(
                    "/login/",
                    &[
                        ("username", username.as_str()),
                        ("password", "guess"),
                        ("csrfmiddlewaretoken", &token),
                    ],
                )
                .await
        })
    });
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for attempt in attempts.collect::<Vec<_>>() {
        let page = attempt.await.unwrap();
        *statuses.entry(page.status.as_u16()).or_default() += 1;
        if page.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(
                page.headers.get(http::header::RETRY_AFTER).unwrap(),
                "1",
                "a refusal says when to retry"
            );
        }
    }
    let peak = peak_concurrent_hashes(&auth);
    assert!(peak <= 2, "at most 2 hashes at once, saw {peak}");
    assert!(
        statuses.keys().all(|s| [200, 303, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains_key(&503),
        "the queue overflowed: {statuses:?}"
    );

    let mut alice = Client::new(router);
    let page = alice
        .post_with_csrf(
            "/login/",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(alice.get("/").await.body, "Welcome, alice!");
}
