//! Django's `login()`: the cookie it sets, the new id on every login
//! (session fixation), what the session keeps and drops.

use super::{client_with_cookie, session_count, setup, whoami};
use auth_tests::client::Client;
use http::StatusCode;

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn login_sets_a_django_style_session_cookie(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        let page = client.log_in("/login/", "alice", "alice-password").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/profile/"));
        let cookie = page.set_cookie("sessionid").expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"] {
            assert!(
                cookie.contains(attribute),
                "{attribute} missing in {cookie}"
            );
        }
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
        let profile = client.get("/profile/").await;
        assert_eq!(
            (profile.status, profile.body.as_str()),
            (StatusCode::OK, "profile of alice ()")
        );
    }

    async fn failed_logins_create_no_session(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        let page = client.log_in("/login/", "alice", "wrong").await;
        assert_eq!(page.body, "Invalid credentials");
        assert!(page.set_cookie("sessionid").is_none());
        assert_eq!(session_count(&auth).await, 0);
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
    }

    async fn login_rotates_the_session_id_and_keeps_anonymous_data(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        client.post_with_csrf("/cart/", &[("item", "apples")]).await;
        let anonymous_id = client.jar["sessionid"].clone();

        client.log_in("/login/", "alice", "alice-password").await;
        let logged_in_id = client.jar["sessionid"].clone();
        assert_ne!(anonymous_id, logged_in_id);
        assert_eq!(
            client.get("/cart/").await.body,
            "apples",
            "data carries over"
        );

        // The old id is dead.
        let mut attacker = client_with_cookie(&client, &anonymous_id);
        assert_eq!(attacker.get("/cart/").await.body, "");
        assert_eq!(whoami(&mut attacker).await, "Welcome, Guest!");

        // A repeated login of the same user rotates too (stricter than Django).
        client.log_in("/login/", "alice", "alice-password").await;
        assert_ne!(client.jar["sessionid"], logged_in_id);
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
    }

    async fn another_user_logging_in_drops_the_first_users_data(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        client.log_in("/login/", "alice", "alice-password").await;
        client
            .post_with_csrf("/cart/", &[("item", "alice's secret")])
            .await;
        let page = client.log_in("/login/", "bob", "bob-password").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(whoami(&mut client).await, "Welcome, bob!");
        assert_eq!(client.get("/cart/").await.body, "", "alice's data is gone");
    }

    /// Session fixation, every branch of `login`: whatever the session held
    /// before (nothing, an anonymous session, the same user, another user,
    /// a stale auth hash), the login answers with a new id, and the old id,
    /// replayed, is anonymous.
    async fn every_login_issues_a_new_id_and_kills_the_old_one(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        let check = async |client: &mut Client, username: &str, password: &str, branch: &str| {
            let old = client.jar.get("sessionid").cloned();
            let page = client.log_in("/login/", username, password).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{branch}");
            let issued = page
                .set_cookie("sessionid")
                .and_then(|c| c.split(';').next().map(str::to_owned))
                .and_then(|c| c.split_once('=').map(|(_, v)| v.to_owned()))
                .unwrap_or_else(|| panic!("{branch}: the login sets a session cookie"));
            assert_eq!(whoami(client).await, format!("Welcome, {username}!"), "{branch}");
            if let Some(old) = old {
                assert_ne!(issued, old, "{branch}: the id changes");
                let mut replay = client_with_cookie(client, &old);
                assert_eq!(
                    whoami(&mut replay).await,
                    "Welcome, Guest!",
                    "{branch}: the old id is dead"
                );
            }
        };
        check(&mut client, "alice", "alice-password", "no session").await;
        let mut anonymous = Client::new(client.router());
        anonymous.post_with_csrf("/cart/", &[("item", "apples")]).await;
        assert!(anonymous.jar.contains_key("sessionid"));
        check(&mut anonymous, "alice", "alice-password", "anonymous session").await;
        check(&mut client, "alice", "alice-password", "same user").await;
        check(&mut client, "bob", "bob-password", "another user").await;
        // Bob's password changes elsewhere: this session's hash is stale.
        let mut bob = auth.users().get_by_username("bob").await.unwrap().unwrap();
        auth.users().set_password(&mut bob, "bob-new-password").await.unwrap();
        check(&mut client, "bob", "bob-new-password", "stale auth hash").await;
    }
}
