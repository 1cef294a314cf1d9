//! Secrets never reach logs through `Debug`: the settings' keys and
//! passwords, and the password in a database or Redis URL.

use auth_tests::User;

#[test]
fn the_builder_and_the_settings_hide_their_secrets() {
    let settings = auth::Settings {
        secret_key: Some("current-secret-key-0123456789".into()),
        secret_key_fallbacks: vec!["fallback-secret-key-0123456789".into()],
        email_host_password: "smtp-password-0123".into(),
        ..Default::default()
    };
    let builder = auth::Auth::<User>::builder()
        .database_url("postgres://app:db-password-0123@db.example/app")
        .redis_url("redis://:redis-password-0123@cache.example:6379/0")
        .settings(settings.clone());
    for shown in [format!("{builder:?}"), format!("{settings:?}")] {
        for secret in [
            "current-secret-key",
            "fallback-secret-key",
            "smtp-password",
            "db-password",
            "redis-password",
        ] {
            assert!(!shown.contains(secret), "{secret} appears in {shown}");
        }
    }
    let shown = format!("{builder:?}");
    assert!(
        shown.contains("db.example/app"),
        "the rest is kept: {shown}"
    );
    assert!(shown.contains("cache.example:6379"), "{shown}");
}
