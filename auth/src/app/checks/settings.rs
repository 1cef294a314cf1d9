//! Checks on the settings alone: what a development setup may leave out
//! but production must set, and database URLs the build cannot serve.

use super::{CheckMessage, Scope};
use crate::settings::DEFAULT_LOGIN_REDIRECT_URL;
use crate::settings::Settings;

pub(super) fn check(settings: &Settings, scope: Scope) -> Vec<CheckMessage> {
    let mut found = Vec::new();
    if settings.login_redirect_url.is_none() {
        found.push(
            CheckMessage::warning(
                "auth.W004",
                format!(
                    "AUTH_LOGIN_REDIRECT_URL is not set: after a login without `next`, users go \
                     to Django's default {DEFAULT_LOGIN_REDIRECT_URL}"
                ),
            )
            .hint(format!(
                "set it to a page the app serves, such as AUTH_LOGIN_REDIRECT_URL=/ (setting it \
                 to {DEFAULT_LOGIN_REDIRECT_URL} silences this)"
            ))
            .obj("AUTH_LOGIN_REDIRECT_URL"),
        );
    }
    match &settings.secret_key {
        None => found.push(
            CheckMessage::warning(
                "auth.W005",
                format!(
                    "AUTH_SECRET_KEY is not set: sessions, reset links and the throttle are \
                     signed with the development key in {}",
                    settings.secret_key_file.display()
                ),
            )
            .hint("set AUTH_SECRET_KEY (50 or more random characters) in production")
            .obj("AUTH_SECRET_KEY"),
        ),
        Some(key) if scope.deploy && weak(key) => found.push(
            CheckMessage::warning(
                "auth.W009",
                "AUTH_SECRET_KEY has fewer than 50 characters or fewer than 5 distinct ones",
            )
            .hint("generate a long random key, such as `openssl rand -base64 48`")
            .obj("AUTH_SECRET_KEY"),
        ),
        Some(_) => {}
    }
    if !scope.public() {
        return found;
    }
    let serving = scope
        .bind
        .filter(|bind| !bind.ip().is_loopback())
        .map(|bind| format!("serving on {bind} with "))
        .unwrap_or_default();
    if settings.allowed_hosts.is_empty() {
        found.push(
            CheckMessage::warning(
                "auth.W006",
                format!("{serving}AUTH_ALLOWED_HOSTS empty: every Host header is accepted"),
            )
            .hint("set it to the site's host names, such as AUTH_ALLOWED_HOSTS=example.com")
            .obj("AUTH_ALLOWED_HOSTS"),
        );
    }
    for (on, id, name, what) in [
        (
            settings.session_cookie_secure,
            "auth.W007",
            "AUTH_SESSION_COOKIE_SECURE",
            "the session cookie",
        ),
        (
            settings.csrf_cookie_secure,
            "auth.W008",
            "AUTH_CSRF_COOKIE_SECURE",
            "the CSRF cookie",
        ),
    ] {
        if !on {
            found.push(
                CheckMessage::warning(
                    id,
                    format!("{serving}{name} off: {what} is also sent over plain HTTP"),
                )
                .hint(format!("behind HTTPS, set {name}=true"))
                .obj(name),
            );
        }
    }
    found
}

/// Django's `security.W009`: short, or made of few characters.
fn weak(key: &str) -> bool {
    let distinct: std::collections::BTreeSet<char> = key.chars().collect();
    key.chars().count() < 50 || distinct.len() < 5
}

/// `auth.E003`: a database URL whose driver this build lacks.
pub(crate) fn database_feature(url: &str) -> Option<CheckMessage> {
    const COMPILED: [(&str, bool); 3] = [
        ("postgres", cfg!(feature = "postgres")),
        ("mysql", cfg!(feature = "mysql")),
        ("sqlite", cfg!(feature = "sqlite")),
    ];
    missing_driver(url, |feature| {
        COMPILED.iter().any(|(name, on)| *name == feature && *on)
    })
}

/// [`database_feature`] for a build with the features `compiled` says.
fn missing_driver(url: &str, compiled: impl Fn(&str) -> bool) -> Option<CheckMessage> {
    let scheme = url.split(':').next().unwrap_or_default();
    let feature = match scheme {
        "postgres" | "postgresql" => "postgres",
        "mysql" | "mariadb" => "mysql",
        "sqlite" => "sqlite",
        _ => return None,
    };
    (!compiled(feature)).then(|| {
        CheckMessage::error(
            "auth.E003",
            format!(
                "DATABASE_URL is a {scheme} URL, but auth was built without its `{feature}` \
                 feature"
            ),
        )
        .hint(format!(
            "add it to the dependency: auth = {{ version = \"…\", features = [\"{feature}\"] }}"
        ))
        .obj("DATABASE_URL")
    })
}

/// `auth.E004`: `REDIS_URL` without the `redis` feature.
#[cfg(not(feature = "redis"))]
pub(crate) fn redis_feature() -> CheckMessage {
    CheckMessage::error(
        "auth.E004",
        "REDIS_URL is set, but auth was built without its `redis` feature",
    )
    .hint("add it to the dependency: auth = { version = \"…\", features = [\"redis\"] }")
    .obj("REDIS_URL")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_keys_are_short_or_repetitive() {
        assert!(weak("short"));
        assert!(weak(&"ab".repeat(40)));
        assert!(!weak(
            "l0ng-and-varied-secret-key-0123456789-abcdefghijklmnop"
        ));
    }

    #[test]
    fn a_url_without_its_driver_names_the_feature() {
        let none = |_: &str| false;
        let message = missing_driver("postgres://db/app", none).unwrap();
        assert_eq!(
            message.to_string(),
            "DATABASE_URL: (auth.E003) DATABASE_URL is a postgres URL, but auth was built \
             without its `postgres` feature\n\tHINT: add it to the dependency: auth = { \
             version = \"…\", features = [\"postgres\"] }"
        );
        assert_eq!(
            missing_driver("mariadb://db/app", none)
                .unwrap()
                .hint
                .unwrap(),
            "add it to the dependency: auth = { version = \"…\", features = [\"mysql\"] }"
        );
        assert!(missing_driver("postgres://db/app", |f| f == "postgres").is_none());
        assert!(missing_driver("oracle://db", none).is_none());
    }

    #[test]
    fn public_scope_adds_hosts_and_cookies() {
        let settings = Settings {
            login_redirect_url: Some("/".into()),
            secret_key: Some("x".repeat(60)),
            ..Settings::default()
        };
        let ids = |scope| -> Vec<&str> { check(&settings, scope).iter().map(|m| m.id).collect() };
        assert!(ids(Scope::serve(([127, 0, 0, 1], 8000).into())).is_empty());
        assert_eq!(
            ids(Scope::serve(([0, 0, 0, 0], 8000).into())),
            ["auth.W006", "auth.W007", "auth.W008"]
        );
        assert_eq!(
            ids(Scope::check(true)),
            ["auth.W009", "auth.W006", "auth.W007", "auth.W008"]
        );
    }
}
