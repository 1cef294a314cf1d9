//! Timing equalisation, checked by counting hashes rather than timing: this
//! binary holds one test so no other test hashes concurrently.

use auth::testing::hash_computations;
use auth_tests::{User, fresh_auth};

async fn hashes_during<F: std::future::Future>(f: F) -> (F::Output, u64) {
    let before = hash_computations();
    let out = f.await;
    (out, hash_computations() - before)
}

#[tokio::test]
async fn every_failed_login_costs_exactly_one_hash() {
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
