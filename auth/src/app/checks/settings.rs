//! Checks on the settings alone: what a development setup may leave out
//! but production must set, and database URLs the build cannot serve.

use super::{CheckMessage, Scope};
use crate::http::cookies::Prefix;
use crate::settings::DEFAULT_LOGIN_REDIRECT_URL;
use crate::settings::Settings;

pub(super) fn check(settings: &Settings, scope: Scope) -> Vec<CheckMessage> {
    let mut found = cookie_prefixes(settings);
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
    if scope.deploy {
        found.extend(unprefixed(settings));
    }
    found
}

/// A cookie this crate sets whose name the settings choose, with the
/// settings that shape it.
struct NamedCookie<'a> {
    /// The setting of its name, and the name.
    setting: &'static str,
    name: &'a str,
    /// The setting that makes it `Secure`, and whether it is.
    secure_setting: &'static str,
    secure: bool,
    /// Its path, and the setting of it (none: always `/`).
    path: &'a str,
    path_setting: Option<&'static str>,
    domain: Option<&'a str>,
}

/// The session, CSRF and device cookies, in that order.
fn named_cookies(settings: &Settings) -> [NamedCookie<'_>; 3] {
    [
        NamedCookie {
            setting: "AUTH_SESSION_COOKIE_NAME",
            name: &settings.session_cookie_name,
            secure_setting: "AUTH_SESSION_COOKIE_SECURE",
            secure: settings.session_cookie_secure,
            path: &settings.session_cookie_path,
            path_setting: Some("AUTH_SESSION_COOKIE_PATH"),
            domain: settings.session_cookie_domain.as_deref(),
        },
        NamedCookie {
            setting: "AUTH_CSRF_COOKIE_NAME",
            name: &settings.csrf_cookie_name,
            secure_setting: "AUTH_CSRF_COOKIE_SECURE",
            secure: settings.csrf_cookie_secure,
            path: "/",
            path_setting: None,
            domain: None,
        },
        NamedCookie {
            setting: "AUTH_DEVICE_COOKIE_NAME",
            name: &settings.device_cookie_name,
            secure_setting: "AUTH_SESSION_COOKIE_SECURE",
            secure: settings.session_cookie_secure,
            path: "/",
            path_setting: None,
            domain: None,
        },
    ]
}

/// `auth.E010`: a cookie named with a `__Secure-` or `__Host-` prefix
/// without what the prefix demands. Browsers would drop the cookie, so
/// nobody could stay logged in (or post a form): the builder refuses to
/// start with it.
pub(crate) fn cookie_prefixes(settings: &Settings) -> Vec<CheckMessage> {
    let mut found = Vec::new();
    for cookie in named_cookies(settings) {
        let Some(prefix) = Prefix::of(cookie.name) else {
            continue;
        };
        let mut missing = Vec::new();
        if !cookie.secure {
            missing.push(format!("{}=true", cookie.secure_setting));
        }
        if prefix == Prefix::Host {
            if cookie.path != "/" {
                missing.push(format!("{}=/", cookie.path_setting.unwrap_or("the path")));
            }
            if cookie.domain.is_some() {
                missing.push("AUTH_SESSION_COOKIE_DOMAIN unset".to_owned());
            }
        }
        if missing.is_empty() {
            continue;
        }
        let kind = if prefix == Prefix::Host {
            "__Host-: Secure, Path=/ and no Domain"
        } else {
            "__Secure-: Secure"
        };
        found.push(
            CheckMessage::error(
                "auth.E010",
                format!(
                    "{}={} has a prefix browsers enforce ({kind}); without it they drop the cookie",
                    cookie.setting, cookie.name
                ),
            )
            .hint(format!(
                "set {} (behind HTTPS), or use a name without the prefix in development",
                missing.join(" and ")
            ))
            .obj(cookie.setting),
        );
    }
    found
}

/// `auth.W014`: cookies sent only over HTTPS but named without a prefix,
/// which a subdomain or a plain-HTTP page of the site could set for the
/// browser (a planted session or CSRF cookie), OWASP ASVS 3.3.1/3.3.3.
fn unprefixed(settings: &Settings) -> Vec<CheckMessage> {
    let mut found = Vec::new();
    for cookie in named_cookies(settings).into_iter().take(2) {
        let (setting, name) = (cookie.setting, cookie.name);
        if !cookie.secure || Prefix::of(name).is_some() {
            continue;
        }
        let suggested = if cookie.path == "/" && cookie.domain.is_none() {
            format!("__Host-{name}")
        } else {
            format!("__Secure-{name}")
        };
        found.push(
            CheckMessage::warning(
                "auth.W014",
                format!(
                    "{setting}={name} has no __Host- prefix: a subdomain or a plain-HTTP page of \
                     the site could set this cookie in the browser"
                ),
            )
            .hint(format!("set {setting}={suggested}"))
            .obj(setting),
        );
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
            "add it to the dependency: contrib-auth = {{ version = \"…\", features = [\"{feature}\"] }}"
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
    .hint("add it to the dependency: contrib-auth = { version = \"…\", features = [\"redis\"] }")
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
             without its `postgres` feature\n\tHINT: add it to the dependency: contrib-auth = { \
             version = \"…\", features = [\"postgres\"] }"
        );
        assert_eq!(
            missing_driver("mariadb://db/app", none)
                .unwrap()
                .hint
                .unwrap(),
            "add it to the dependency: contrib-auth = { version = \"…\", features = [\"mysql\"] }"
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
