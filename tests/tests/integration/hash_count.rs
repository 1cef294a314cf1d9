//! Timing equalisation and throttling, checked by counting the hashes an
//! app's hasher computed rather than timing.

use auth::testing::hash_computations;
use auth_tests::{User, fresh_auth};

async fn hashes_during<F: std::future::Future>(auth: &auth::Auth<User>, f: F) -> (F::Output, u64) {
    let before = hash_computations(auth);
    let out = f.await;
    (out, hash_computations(auth) - before)
}

#[tokio::test]
async fn every_failed_login_costs_exactly_one_hash() {
    let auth = fresh_auth::<User>().await;
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let mut bob = auth
        .users()
        .create_user("bob", "", Some("pw"))
        .await
        .unwrap();
    bob.is_active = false;
    auth.users().save(bob).await.unwrap();
    auth.users().create_user("carl", "", None).await.unwrap(); // unusable password

    for (username, password, why) in [
        ("alice", "pw", "existing user, right password"),
        ("alice", "nope", "existing user, wrong password"),
        ("nobody", "pw", "unknown user"),
        ("bob", "pw", "inactive user"),
        ("carl", "pw", "unusable password"),
    ] {
        let (result, hashes) = hashes_during(&auth, auth.authenticate(username, password)).await;
        result.unwrap();
        assert_eq!(hashes, 1, "{why}");
    }
}

/// A locked-out attempt is refused before any hash.
#[tokio::test]
async fn a_locked_out_attempt_costs_no_hash() {
    let settings = auth::Settings {
        login_failure_limit: 2,
        ..Default::default()
    };
    let auth = auth_tests::fresh_auth_with::<User>(settings).await;
    auth.users()
        .create_user("dana", "", Some("pw"))
        .await
        .unwrap();
    for _ in 0..2 {
        auth.authenticate("dana", "wrong").await.unwrap();
    }
    let (result, hashes) = hashes_during(&auth, auth.authenticate("dana", "pw")).await;
    assert!(matches!(result, Err(auth::Error::Throttled)));
    assert_eq!(hashes, 0);
}
