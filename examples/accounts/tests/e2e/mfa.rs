//! Two-factor login in the example, at the paths and field names the
//! black-box suite uses: `/account/mfa/totp/activate/` (the secret in
//! `#totp-secret`, a `code`), `/account/mfa/recovery-codes/` (the list in
//! `#recovery-codes`), `/login/verify/` (a `code`: TOTP or recovery),
//! `/account/mfa/totp/deactivate/`, `/account/mfa/`.

use http::StatusCode;

use super::pages::{client_of, logged_in};

fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {body}"))
        + start.len();
    let rest = &body[from..];
    &rest[..rest.find(end).unwrap()]
}

#[tokio::test]
async fn totp_and_recovery_codes_through_the_example() {
    let (auth, mut client) = logged_in().await;
    let page = client.get("/account/mfa/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("/account/mfa/totp/activate/"),
        "{}",
        page.body
    );
    let page = client.get("/account/mfa/totp/activate/").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let secret = between(&page.body, "id=\"totp-secret\">", "<").to_owned();
    let code = auth::mfa::testing::current_code(&auth, &secret);
    let page = client
        .submit_form("/account/mfa/totp/activate/", &[("code", &code)])
        .await;
    assert_eq!(page.location(), Some("/account/mfa/recovery-codes/"));
    let page = client.get("/account/mfa/recovery-codes/").await;
    let list = between(&page.body, "id=\"recovery-codes\">", "</ul>");
    let codes: Vec<String> = list
        .split("<code>")
        .skip(1)
        .map(|part| part[..part.find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(codes.len(), 10);

    // A new browser: the password, then the code.
    let mut other = client_of(&auth);
    let page = other
        .log_in("/login/?next=/profile/", "alice", "wonderland-42")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login/verify/?next=%2Fprofile%2F"));
    assert_eq!(other.get("/profile/").await.status, StatusCode::SEE_OTHER);
    auth::testing::advance_clock(&auth, 30);
    let code = auth::mfa::testing::current_code(&auth, &secret);
    let page = other
        .submit_form("/login/verify/?next=/profile/", &[("code", &code)])
        .await;
    assert_eq!(page.location(), Some("/profile/"));
    assert_eq!(other.get("/profile/").await.status, StatusCode::OK);

    // A recovery code, in a third browser.
    let mut third = client_of(&auth);
    third.log_in("/login/", "alice", "wonderland-42").await;
    let page = third
        .submit_form("/login/verify/", &[("code", &codes[0])])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(third.get("/profile/").await.status, StatusCode::OK);

    // Off again: the password alone logs in.
    let page = third
        .submit_form("/account/mfa/totp/deactivate/", &[])
        .await;
    assert_eq!(page.location(), Some("/account/mfa/"));
    let mut fourth = client_of(&auth);
    let page = fourth.log_in("/login/", "alice", "wonderland-42").await;
    assert_eq!(page.location(), Some("/profile/"));
}
