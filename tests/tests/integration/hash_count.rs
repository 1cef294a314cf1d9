//! Timing equalisation and throttling, checked by counting hashes rather
//! than timing: the tests of this binary take turns, so no other test
//! hashes while one counts.

use auth::testing::hash_computations;
use auth_tests::{User, fresh_auth};

async fn hashes_during<F: std::future::Future>(f: F) -> (F::Output, u64) {
    let before = hash_computations();
    let out = f.await;
    (out, hash_computations() - before)
}

#[tokio::test]
async fn every_failed_login_costs_exactly_one_hash() {
    let _guard = SERIAL.lock().await;
    let auth = fresh_auth::<User>().await;
    auth.create_user("alice", "", Some("pw")).await.unwrap();
    let mut bob = auth.create_user("bob", "", Some("pw")).await.unwrap();
    bob.is_active = false;
    auth.save_user(bob).await.unwrap();
    auth.create_user("carl", "", None).await.unwrap(); // unusable password

    for (username, password, why) in [
        ("alice", "pw", "existing user, right password"),
        ("alice", "nope", "existing user, wrong password"),
        ("nobody", "pw", "unknown user"),
        ("bob", "pw", "inactive user"),
        ("carl", "pw", "unusable password"),
    ] {
        let (result, hashes) = hashes_during(auth.authenticate(username, password)).await;
        result.unwrap();
        assert_eq!(hashes, 1, "{why}");
    }
}

/// A locked-out attempt is refused before any hash.
#[tokio::test]
async fn a_locked_out_attempt_costs_no_hash() {
    let _guard = SERIAL.lock().await;
    let settings = auth::Settings {
        login_failure_limit: 2,
        ..Default::default()
    };
    let auth = auth_tests::fresh_auth_with::<User>(settings).await;
    auth.create_user("dana", "", Some("pw")).await.unwrap();
    for _ in 0..2 {
        auth.authenticate("dana", "wrong").await.unwrap();
    }
    let (result, hashes) = hashes_during(auth.authenticate("dana", "pw")).await;
    assert!(matches!(result, Err(auth::Error::Throttled)));
    assert_eq!(hashes, 0);
}

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
