//! Settings with Django's names and defaults, declared once: the table at
//! the bottom of this file makes the [`Settings`] struct (each field
//! documented), its `Default`, the environment reader
//! ([`Settings::from_env`]) and its `Debug` (secrets redacted).
//!
//! Build them in code (`Settings { login_url: Some("/login/".into()), ..Default::default() }`)
//! or read them from the environment, where each setting is the Django
//! name prefixed with `AUTH_`, for example `AUTH_SESSION_COOKIE_AGE=3600`
//! or `AUTH_CSRF_TRUSTED_ORIGINS=https://a.example,https://b.example`.

pub(crate) mod secret;

use std::{path::PathBuf, str::FromStr, time::Duration};

use crate::kernel::error::SettingsError;

#[cfg(feature = "pwned")]
/// What the breached-password check does when the list cannot be asked
/// (`AUTH_PWNED_FAIL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PwnedFail {
    /// Let the password through, with a logged warning (the default): an
    /// outage of the list must not stop every sign-up and password change.
    Open,
    /// Refuse the password with a message that says the check is
    /// unavailable.
    Closed,
}

#[cfg(feature = "pwned")]
impl std::str::FromStr for PwnedFail {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "open" => Ok(PwnedFail::Open),
            "closed" => Ok(PwnedFail::Closed),
            _ => Err(format!("expected open or closed, got `{s}`")),
        }
    }
}

/// The `SameSite` attribute of a cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// `SameSite=Lax` (Django's default).
    Lax,
    /// `SameSite=Strict`.
    Strict,
    /// `SameSite=None` (requires `Secure`).
    None,
}

impl FromStr for SameSite {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s.to_ascii_lowercase().as_str() {
            "lax" => Ok(SameSite::Lax),
            "strict" => Ok(SameSite::Strict),
            "none" => Ok(SameSite::None),
            _ => Err(UnknownValue {
                expected: "Lax, Strict or None",
                got: s.to_owned(),
            }),
        }
    }
}

/// Where outgoing email goes (`EMAIL_BACKEND`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailBackendKind {
    /// Printed on standard output (the default, for development).
    Console,
    /// One `.eml` file per message in `email_file_path`.
    File,
    /// Sent to an SMTP server (`email_host`, `email_port`, …).
    Smtp,
    /// Kept in memory, for tests (`Auth::outbox`).
    Memory,
}

impl FromStr for EmailBackendKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s.to_ascii_lowercase().as_str() {
            "console" => Ok(EmailBackendKind::Console),
            "file" => Ok(EmailBackendKind::File),
            "smtp" => Ok(EmailBackendKind::Smtp),
            "memory" | "locmem" => Ok(EmailBackendKind::Memory),
            _ => Err(UnknownValue {
                expected: "console, file, smtp or memory",
                got: s.to_owned(),
            }),
        }
    }
}

/// Whether a login makes a lasting cookie (`AUTH_SESSION_REMEMBER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RememberMe {
    /// Always (Django's behaviour): the cookie lasts
    /// `session_cookie_age`, unless `session_expire_at_browser_close`.
    Always,
    /// The login form has a "Remember me" checkbox (`remember`): ticked,
    /// the cookie lasts `session_cookie_age`; unticked, it is a browser
    /// session cookie (no `Max-Age`) and the session ends on the server
    /// after `session_idle_timeout` (12 hours if unset) without activity.
    Ask,
    /// Never: every login makes a browser session cookie, as unticked
    /// under `Ask`.
    Never,
}

impl FromStr for RememberMe {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s.to_ascii_lowercase().as_str() {
            "always" => Ok(RememberMe::Always),
            "ask" => Ok(RememberMe::Ask),
            "never" => Ok(RememberMe::Never),
            _ => Err(UnknownValue {
                expected: "always, ask or never",
                got: s.to_owned(),
            }),
        }
    }
}

/// What a login does when the user already has
/// `session_max_per_user` sessions (`AUTH_SESSION_MAX_POLICY`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxSessionsPolicy {
    /// End the user's least recently active sessions to make room (the
    /// default).
    EndOldest,
    /// Refuse the login, with a message that says why.
    Refuse,
}

impl FromStr for MaxSessionsPolicy {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s.to_ascii_lowercase().as_str() {
            "end_oldest" => Ok(MaxSessionsPolicy::EndOldest),
            "refuse" => Ok(MaxSessionsPolicy::Refuse),
            _ => Err(UnknownValue {
                expected: "end_oldest or refuse",
                got: s.to_owned(),
            }),
        }
    }
}

#[cfg(feature = "mfa")]
/// Who must have a second factor (`AUTH_MFA_REQUIRED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MfaRequired {
    /// Nobody: a second factor is each user's choice (the default).
    None,
    /// Staff and superusers.
    Staff,
    /// Superusers.
    Superusers,
    /// Members of the groups in `AUTH_MFA_REQUIRED_GROUPS`.
    Groups,
}

#[cfg(feature = "mfa")]
impl FromStr for MfaRequired {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, UnknownValue> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(MfaRequired::None),
            "staff" => Ok(MfaRequired::Staff),
            "superusers" => Ok(MfaRequired::Superusers),
            "groups" => Ok(MfaRequired::Groups),
            _ => Err(UnknownValue {
                expected: "none, staff, superusers or groups",
                got: s.to_owned(),
            }),
        }
    }
}

/// How long a browser-session login (remember me not ticked) lives on the
/// server without activity when no idle timeout is set.
pub(crate) const BROWSER_SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

impl Settings {
    /// How often a session's "last seen" time is written:
    /// `session_activity_resolution` when set, else 60 s or a tenth of the
    /// idle timeout (a browser-session login's 12 hours without one),
    /// whichever is shorter. A session used at least once per idle
    /// timeout less this is never ended by it; one left idle ends within
    /// the idle timeout of its last request (up to this much sooner).
    pub fn activity_resolution(&self) -> Duration {
        if let Some(resolution) = self.session_activity_resolution {
            return resolution;
        }
        (self.browser_lifetime() / 10).min(Duration::from_secs(60))
    }

    /// How long a browser-session login lives without activity: the idle
    /// timeout, else 12 hours.
    pub(crate) fn browser_lifetime(&self) -> Duration {
        self.session_idle_timeout
            .unwrap_or(BROWSER_SESSION_LIFETIME)
    }

    /// The site passkeys are bound to: `mfa_passkey_origin`, else
    /// `site_url` (feature `passkeys`).
    #[cfg(feature = "passkeys")]
    pub fn passkey_site(&self) -> Option<&str> {
        self.mfa_passkey_origin
            .as_deref()
            .or(self.site_url.as_deref())
    }
}

/// A setting's value is not one of the accepted words.
#[derive(Debug, thiserror::Error)]
#[error("expected {expected}, got `{got}`")]
pub struct UnknownValue {
    expected: &'static str,
    got: String,
}

/// How one field is shown by `Debug`: as it is, or redacted when it holds
/// a secret.
mod show {
    use std::fmt::Debug;

    /// Shown as it is.
    pub(super) fn plain<T: Debug>(value: &T) -> &dyn Debug {
        value
    }

    /// A URL: shown without its password.
    pub(super) fn url(value: &Option<String>) -> Box<dyn Debug + '_> {
        Box::new(value.as_deref().map(super::redact_url))
    }

    /// A secret: only whether it is set.
    pub(super) fn secret<T: Secret>(value: &T) -> &dyn Debug {
        if value.is_set() {
            &"<redacted>"
        } else {
            &"<unset>"
        }
    }

    /// What may hold a secret.
    pub(super) trait Secret {
        fn is_set(&self) -> bool;
    }
    impl Secret for String {
        fn is_set(&self) -> bool {
            !self.is_empty()
        }
    }
    impl Secret for Option<String> {
        fn is_set(&self) -> bool {
            self.is_some()
        }
    }
    impl Secret for Vec<String> {
        fn is_set(&self) -> bool {
            !self.is_empty()
        }
    }
}

/// Turns a variable's text into a setting's value (each names what it
/// expects when the text does not fit).
mod parse {
    use std::{path::PathBuf, str::FromStr, time::Duration};

    pub(super) type Parsed<T> = Result<T, String>;

    /// Any `FromStr` value, surrounding whitespace trimmed.
    pub(super) fn value<T: FromStr>(raw: &str) -> Parsed<T>
    where
        T::Err: std::fmt::Display,
    {
        raw.trim().parse().map_err(|e: T::Err| e.to_string())
    }

    /// Text; empty means unset.
    pub(super) fn optional(raw: &str) -> Parsed<Option<String>> {
        Ok(Some(raw.to_owned()).filter(|v| !v.is_empty()))
    }

    /// A path; empty means unset.
    pub(super) fn optional_path(raw: &str) -> Parsed<Option<PathBuf>> {
        Ok(Some(PathBuf::from(raw)).filter(|p| !p.as_os_str().is_empty()))
    }

    /// Comma-separated, blanks dropped.
    pub(super) fn list(raw: &str) -> Parsed<Vec<String>> {
        Ok(raw
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// `true/false/1/0/yes/no/on/off`.
    pub(super) fn flag(raw: &str) -> Parsed<bool> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err("expected true or false".into()),
        }
    }

    /// Whole seconds.
    pub(super) fn seconds(raw: &str) -> Parsed<Duration> {
        value::<u64>(raw).map(Duration::from_secs)
    }

    /// Whole seconds, at least one.
    pub(super) fn positive_seconds(raw: &str) -> Parsed<Duration> {
        value::<u64>(raw).map(|secs| Duration::from_secs(secs.max(1)))
    }

    /// Whole seconds; empty means unset.
    pub(super) fn optional_seconds(raw: &str) -> Parsed<Option<Duration>> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        seconds(raw).map(Some)
    }

    /// TOTP steps either side, 0 to 10.
    #[cfg(feature = "mfa")]
    pub(super) fn totp_tolerance(raw: &str) -> Parsed<u8> {
        match raw.trim().parse::<u8>() {
            Ok(steps) if steps <= 10 => Ok(steps),
            _ => Err("expected a number of steps from 0 to 10".into()),
        }
    }

    /// Whole seconds; 0 turns it off.
    pub(super) fn seconds_or_off(raw: &str) -> Parsed<Option<Duration>> {
        value::<u64>(raw).map(|secs| (secs > 0).then(|| Duration::from_secs(secs)))
    }

    /// Seconds with a fraction, at least `min`.
    fn fractional_seconds(raw: &str, min: f64) -> Parsed<Duration> {
        let secs = value::<f64>(raw)?;
        Duration::try_from_secs_f64(secs.max(min)).map_err(|e| e.to_string())
    }

    /// The cache's staleness bound: seconds, at least 20 ms.
    pub(super) fn staleness(raw: &str) -> Parsed<Duration> {
        fractional_seconds(raw, 0.02)
    }

    /// The breached-password service's timeout: seconds, at least 100 ms.
    #[cfg(feature = "pwned-online")]
    pub(super) fn pwned_timeout(raw: &str) -> Parsed<Duration> {
        fractional_seconds(raw, 0.1)
    }

    /// The SMTP timeout: seconds, at least 100 ms.
    pub(super) fn email_timeout(raw: &str) -> Parsed<Duration> {
        fractional_seconds(raw, 0.1)
    }

    /// `HEADER:VALUE`, such as `X-Forwarded-Proto:https`.
    pub(super) fn header_and_value(raw: &str) -> Parsed<Option<(String, String)>> {
        let (name, expected) = raw
            .split_once(':')
            .ok_or("expected HEADER:VALUE, such as X-Forwarded-Proto:https")?;
        Ok(Some((name.trim().to_owned(), expected.trim().to_owned())))
    }

    /// `auto` (or empty): `None`; otherwise a count, 0 included.
    pub(super) fn auto_or_count(raw: &str) -> Parsed<Option<u32>> {
        match raw.trim() {
            "" | "auto" => Ok(None),
            count => value::<u32>(count).map(Some),
        }
    }

    /// A count; 0 means no limit.
    pub(super) fn count_or_none(raw: &str) -> Parsed<Option<usize>> {
        value::<usize>(raw).map(|n| (n > 0).then_some(n))
    }

    /// At least one.
    pub(super) fn at_least_one(raw: &str) -> Parsed<usize> {
        value::<usize>(raw).map(|n| n.max(1))
    }
}

/// Declares every setting once: the struct field (with its doc), its
/// default, the environment variable it is read from and how, and whether
/// `Debug` must hide it. A row under `#[cfg(feature = "…")]` exists only
/// with that feature: its field, its default and its variable.
macro_rules! settings {
    ($(
        $(#[cfg($cfg:meta)])?
        $(#[doc = $doc:literal])*
        $name:ident: $ty:ty = $default:expr, $env:literal => $parse:path, $show:ident;
    )*) => {
        /// Every setting, with Django's default. Each field's docs name its
        /// environment variable.
        #[derive(Clone)]
        pub struct Settings {
            $(
                $(#[cfg($cfg)])?
                $(#[doc = $doc])*
                #[doc = ""]
                #[doc = concat!("Environment: `", $env, "`.")]
                pub $name: $ty,
            )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Settings { $($(#[cfg($cfg)])? $name: $default,)* }
            }
        }

        impl std::fmt::Debug for Settings {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut debug = f.debug_struct("Settings");
                $(
                    $(#[cfg($cfg)])?
                    debug.field(stringify!($name), &show::$show(&self.$name));
                )*
                debug.finish()
            }
        }

        impl Settings {
            /// The environment variables settings are read from (Django's
            /// name with `AUTH_`, and `DATABASE_URL`, `REDIS_URL`), with
            /// each one's field name: those of the features this build has.
            pub const VARIABLES: &'static [(&'static str, &'static str)] =
                &[$($(#[cfg($cfg)])? ($env, stringify!($name)),)*];

            /// The defaults, overridden by every variable of
            /// [`Settings::VARIABLES`] that `lookup` finds. A variable of
            /// a feature this build lacks (`AUTH_MFA_REQUIRED` without
            /// `mfa`, say) is an error that names the feature: it would
            /// otherwise be ignored, and what it asks for silently off.
            pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
                $(
                    $(
                        #[cfg(not($cfg))]
                        if let Some(value) = lookup($env) {
                            return Err(SettingsError {
                                name: $env.to_owned(),
                                value,
                                reason: format!(
                                    "this build of contrib-auth lacks the feature it belongs to \
                                     ({}): turn that feature on in Cargo.toml, or unset it",
                                    stringify!($cfg)
                                ),
                            });
                        }
                    )?
                )*
                let mut settings = Settings::default();
                $(
                    $(#[cfg($cfg)])?
                    {
                        if let Some(value) = lookup($env) {
                            settings.$name = $parse(&value).map_err(|reason| SettingsError {
                                name: $env.to_owned(),
                                value,
                                reason,
                            })?;
                        }
                    }
                )*
                Ok(settings)
            }
        }
    };
}

settings! {
    /// The database: `DATABASE_URL` (no `AUTH_` prefix, as every
    /// framework reads it), such as `postgres://user:pass@host/db` or
    /// `mysql://…`; `None`: the builder's `database_url`, else
    /// [`DEFAULT_DATABASE_URL`](crate::DEFAULT_DATABASE_URL), a SQLite file
    /// in the working directory.
    database_url: Option<String> = None, "DATABASE_URL" => parse::optional, url;
    /// Where sessions live when several instances share them: `REDIS_URL`
    /// (`redis://host:6379/0`); `None`: the database's session table.
    /// Needs the `redis` feature.
    redis_url: Option<String> = None, "REDIS_URL" => parse::optional, url;
    /// `SECRET_KEY`: signs session auth hashes, reset tokens and the
    /// throttle's keys. When `None`, a development key is generated and
    /// persisted in [`Settings::secret_key_file`] (system check `auth.W005`).
    /// Set it in production.
    secret_key: Option<String> = None, "AUTH_SECRET_KEY" => parse::optional, secret;
    /// `SECRET_KEY_FALLBACKS`: older keys still accepted, for rotation.
    secret_key_fallbacks: Vec<String> = Vec::new(), "AUTH_SECRET_KEY_FALLBACKS" => parse::list, secret;
    /// Where a generated development secret key is kept (default
    /// `.auth-secret-key` in the working directory; keep it out of version
    /// control).
    secret_key_file: PathBuf = PathBuf::from(".auth-secret-key"), "AUTH_SECRET_KEY_FILE" => parse::value, plain;
    /// `LOGIN_URL`: where `#[login_required]` without `login_url` (and a
    /// handler argument of the user model) sends anonymous users. `None`:
    /// the login route declared with `auth_urls!`, else Django's
    /// `/accounts/login/` (see [`Settings::login_url`]).
    login_url: Option<String> = None, "AUTH_LOGIN_URL" => parse::optional, plain;
    /// `LOGIN_REDIRECT_URL`: where a login goes without a `next`. `None`:
    /// Django's `/accounts/profile/`, with a warning at start (`auth.W004`;
    /// set it, even to that, to silence it).
    login_redirect_url: Option<String> = None, "AUTH_LOGIN_REDIRECT_URL" => parse::optional, plain;
    /// `SILENCED_SYSTEM_CHECKS`: the ids of system checks not to report
    /// (`auth.W002,auth.W004`; see [`checks`](crate::checks)).
    silenced_system_checks: Vec<String> = Vec::new(), "AUTH_SILENCED_SYSTEM_CHECKS" => parse::list, plain;
    /// `LOGOUT_REDIRECT_URL`: where a logout goes without a `next`
    /// (`None`: render the "Logged out" page).
    logout_redirect_url: Option<String> = None, "AUTH_LOGOUT_REDIRECT_URL" => parse::optional, plain;
    /// `SESSION_COOKIE_NAME`.
    session_cookie_name: String = "sessionid".into(), "AUTH_SESSION_COOKIE_NAME" => parse::value, plain;
    /// `SESSION_COOKIE_AGE` in seconds (two weeks).
    session_cookie_age: u64 = 1_209_600, "AUTH_SESSION_COOKIE_AGE" => parse::value, plain;
    /// `SESSION_COOKIE_DOMAIN`.
    session_cookie_domain: Option<String> = None, "AUTH_SESSION_COOKIE_DOMAIN" => parse::optional, plain;
    /// `SESSION_COOKIE_PATH`.
    session_cookie_path: String = "/".into(), "AUTH_SESSION_COOKIE_PATH" => parse::value, plain;
    /// `SESSION_COOKIE_SECURE`: off by default (browsers may drop `Secure`
    /// cookies on `http://localhost`); turn it on behind HTTPS.
    session_cookie_secure: bool = false, "AUTH_SESSION_COOKIE_SECURE" => parse::flag, plain;
    /// `SESSION_COOKIE_HTTPONLY`.
    session_cookie_httponly: bool = true, "AUTH_SESSION_COOKIE_HTTPONLY" => parse::flag, plain;
    /// `SESSION_COOKIE_SAMESITE`.
    session_cookie_samesite: SameSite = SameSite::Lax, "AUTH_SESSION_COOKIE_SAMESITE" => parse::value, plain;
    /// `SESSION_SAVE_EVERY_REQUEST`.
    session_save_every_request: bool = false, "AUTH_SESSION_SAVE_EVERY_REQUEST" => parse::flag, plain;
    /// `SESSION_EXPIRE_AT_BROWSER_CLOSE`: session cookies without Max-Age.
    session_expire_at_browser_close: bool = false, "AUTH_SESSION_EXPIRE_AT_BROWSER_CLOSE" => parse::flag, plain;
    /// How often expired session rows are deleted (default hourly; `None`,
    /// or 0 in the environment, disables the background task;
    /// `clearsessions` does it by hand).
    session_cleanup_interval: Option<Duration> = Some(Duration::from_secs(3600)), "AUTH_SESSION_CLEANUP_INTERVAL" => parse::seconds_or_off, plain;
    /// Prefix of session keys in Redis (when sessions are in Redis).
    session_redis_key_prefix: String = "auth:session:".into(), "AUTH_SESSION_REDIS_KEY_PREFIX" => parse::value, plain;
    /// How many Redis replicas must acknowledge each session write before
    /// the response (`WAIT`, for at most a tenth of
    /// `AUTH_DATABASE_TIMEOUT`), so that a login or a logout survives its
    /// primary's failure. `None` (unset, or `auto`): 1 on a Redis Cluster
    /// or behind Sentinel, 0 on one server. Fewer in time is logged at
    /// `warn`, the write stands, and that server is not waited on for the
    /// next 10 s.
    session_redis_replicas: Option<u32> = None, "AUTH_SESSION_REDIS_REPLICAS" => parse::auto_or_count, plain;
    /// How often a session's "last seen" time is written, so a busy page
    /// does not write its session on every request. `None` (unset, the
    /// default): 60 s, or a tenth of the idle timeout when that is
    /// shorter (see [`Settings::activity_resolution`]). A value set here
    /// is used as it is; the system checks refuse one above half the idle
    /// timeout (`auth.E008`), which would end busy sessions.
    session_activity_resolution: Option<Duration> = None, "AUTH_SESSION_ACTIVITY_RESOLUTION" => parse::optional_seconds, plain;
    /// A logged-in session unused for this long is ended on its next
    /// request, and the login page says so (OWASP ASVS 7.3.1). `None`, or
    /// 0 in the environment (the default): no idle timeout, as Django.
    session_idle_timeout: Option<Duration> = None, "AUTH_SESSION_IDLE_TIMEOUT" => parse::seconds_or_off, plain;
    /// A logged-in session this long after its login is ended on its next
    /// request, however active (OWASP ASVS 7.3.2). `None`, or 0 in the
    /// environment (the default): no absolute timeout, as Django.
    session_absolute_timeout: Option<Duration> = None, "AUTH_SESSION_ABSOLUTE_TIMEOUT" => parse::seconds_or_off, plain;
    /// Whether a login makes a lasting cookie: `always` (Django's
    /// behaviour, the default), `ask` (a "Remember me" checkbox named
    /// `remember` on the login form) or `never`. See [`RememberMe`].
    session_remember: RememberMe = RememberMe::Always, "AUTH_SESSION_REMEMBER" => parse::value, plain;
    /// The most sessions one user may have at once (`None`, or 0 in the
    /// environment, the default: no limit); see `session_max_policy`.
    session_max_per_user: Option<usize> = None, "AUTH_SESSION_MAX_PER_USER" => parse::count_or_none, plain;
    /// What a login past `session_max_per_user` does: `end_oldest` (the
    /// default) or `refuse`.
    session_max_policy: MaxSessionsPolicy = MaxSessionsPolicy::EndOldest, "AUTH_SESSION_MAX_POLICY" => parse::value, plain;
    /// How long a login or a re-authentication lets a user through
    /// `#[reauth_required]` and the session list's "end" actions before
    /// asking for the password again (300 s, django-allauth's default).
    reauthentication_timeout: Duration = Duration::from_secs(300), "AUTH_REAUTHENTICATION_TIMEOUT" => parse::seconds, plain;
    /// `CSRF_COOKIE_NAME`.
    csrf_cookie_name: String = "csrftoken".into(), "AUTH_CSRF_COOKIE_NAME" => parse::value, plain;
    /// `CSRF_COOKIE_AGE` in seconds (a year).
    csrf_cookie_age: u64 = 31_449_600, "AUTH_CSRF_COOKIE_AGE" => parse::value, plain;
    /// `CSRF_COOKIE_SECURE`.
    csrf_cookie_secure: bool = false, "AUTH_CSRF_COOKIE_SECURE" => parse::flag, plain;
    /// `CSRF_COOKIE_HTTPONLY`.
    csrf_cookie_httponly: bool = false, "AUTH_CSRF_COOKIE_HTTPONLY" => parse::flag, plain;
    /// `CSRF_COOKIE_SAMESITE`.
    csrf_cookie_samesite: SameSite = SameSite::Lax, "AUTH_CSRF_COOKIE_SAMESITE" => parse::value, plain;
    /// `ALLOWED_HOSTS`: the hosts this site serves (`example.com`,
    /// `.example.com` for it and its subdomains, `*` for any); a request
    /// for another host gets 400 before any handler runs. Empty (the
    /// default) serves any host: set it in production, where same-origin
    /// checks rely on the `Host` header. Comma-separated in the
    /// environment.
    allowed_hosts: Vec<String> = Vec::new(), "AUTH_ALLOWED_HOSTS" => parse::list, plain;
    /// `CSRF_TRUSTED_ORIGINS`: extra origins (`https://app.example`) whose
    /// unsafe requests are accepted.
    csrf_trusted_origins: Vec<String> = Vec::new(), "AUTH_CSRF_TRUSTED_ORIGINS" => parse::list, plain;
    /// `SECURE_PROXY_SSL_HEADER`: behind a TLS-terminating proxy, the header
    /// and value that mark a request as HTTPS, e.g.
    /// `("X-Forwarded-Proto", "https")`; in the environment
    /// `X-Forwarded-Proto:https`. Set only when the proxy always sets or
    /// strips that header.
    secure_proxy_ssl_header: Option<(String, String)> = None, "AUTH_SECURE_PROXY_SSL_HEADER" => parse::header_and_value, plain;
    /// `SECURE_CONTENT_TYPE_NOSNIFF`: `X-Content-Type-Options: nosniff` on
    /// every response.
    secure_content_type_nosniff: bool = true, "AUTH_SECURE_CONTENT_TYPE_NOSNIFF" => parse::flag, plain;
    /// `X_FRAME_OPTIONS`: the `X-Frame-Options` of every HTML response
    /// (`DENY`; `None` sends none).
    x_frame_options: Option<String> = Some("DENY".into()), "AUTH_X_FRAME_OPTIONS" => parse::optional, plain;
    /// `SECURE_REFERRER_POLICY`: the `Referrer-Policy` of every response
    /// (`same-origin`; `None` sends none).
    secure_referrer_policy: Option<String> = Some("same-origin".into()), "AUTH_SECURE_REFERRER_POLICY" => parse::optional, plain;
    /// `SECURE_CROSS_ORIGIN_OPENER_POLICY`: the `Cross-Origin-Opener-Policy`
    /// of every response (`same-origin`; `None` sends none).
    secure_cross_origin_opener_policy: Option<String> = Some("same-origin".into()), "AUTH_SECURE_CROSS_ORIGIN_OPENER_POLICY" => parse::optional, plain;
    /// Failed logins for one username *from one client address* (an IPv6
    /// address counts by its /64) within `login_failure_window`, after
    /// which that address's attempts for that username are refused (429)
    /// without checking the password (0: no limit). Guessing from one
    /// place stops here, and the owner logging in from elsewhere is not
    /// locked out.
    login_failure_limit: u32 = 10, "AUTH_LOGIN_FAILURE_LIMIT" => parse::value, plain;
    /// Failed logins for one username from all addresses together within
    /// the window, after which every attempt for it is refused (0: no
    /// limit): the bound on guessing spread over many addresses.
    login_failure_limit_per_user: u32 = 100, "AUTH_LOGIN_FAILURE_LIMIT_PER_USER" => parse::value, plain;
    /// Failed logins from one client address (all usernames) within the
    /// window, after which its attempts are refused (0: no limit): the
    /// bound on one address trying many accounts.
    login_failure_limit_per_ip: u32 = 100, "AUTH_LOGIN_FAILURE_LIMIT_PER_IP" => parse::value, plain;
    /// The window failed logins are counted in; a lockout ends by itself
    /// when it passes.
    login_failure_window: Duration = Duration::from_secs(900), "AUTH_LOGIN_FAILURE_WINDOW" => parse::positive_seconds, plain;
    /// Behind a reverse proxy, the header naming the client's address
    /// (`X-Forwarded-For`). Every line of it counts, joined in order; the
    /// client is the entry `trusted_proxy_count` from the right. Unset,
    /// the client is the socket peer (serve with
    /// `into_make_service_with_connect_info`).
    trusted_proxy_header: Option<String> = None, "AUTH_TRUSTED_PROXY_HEADER" => parse::optional, plain;
    /// How many proxies you run in front of the app, each appending the
    /// address it saw to `trusted_proxy_header` (Rails' and werkzeug's
    /// `ProxyFix` rule): the client is that many entries from the right
    /// (default 1, the right-most). Entries further left were written by
    /// the client and are never trusted.
    trusted_proxy_count: usize = 1, "AUTH_TRUSTED_PROXY_COUNT" => parse::at_least_one, plain;
    /// The name of the login throttle's device cookie (OWASP's device
    /// cookies): a successful login gives the browser one, signed for its
    /// username, and that browser's later attempts for that username count
    /// against it alone (`login_failure_limit`), not the username's own
    /// limits, so guessing from elsewhere cannot lock its owner out.
    device_cookie_name: String = "authdevice".into(), "AUTH_DEVICE_COOKIE_NAME" => parse::value, plain;
    /// How long a device cookie is good for (a year); `None`, or 0 in the
    /// environment, turns device cookies off.
    device_cookie_age: Option<Duration> = Some(Duration::from_secs(365 * 86_400)), "AUTH_DEVICE_COOKIE_AGE" => parse::seconds_or_off, plain;
    /// Argon2 memory cost in KiB (OWASP: 19456).
    password_hasher_memory_kib: u32 = 19_456, "AUTH_PASSWORD_HASHER_MEMORY_KIB" => parse::value, plain;
    /// Argon2 iterations (OWASP: 2).
    password_hasher_iterations: u32 = 2, "AUTH_PASSWORD_HASHER_ITERATIONS" => parse::value, plain;
    /// Argon2 lanes (OWASP: 1).
    password_hasher_parallelism: u32 = 1, "AUTH_PASSWORD_HASHER_PARALLELISM" => parse::value, plain;
    /// How many password hashes may run at once (0: one per core). Each
    /// holds the memory cost while it runs.
    password_hash_concurrency: usize = 0, "AUTH_PASSWORD_HASH_CONCURRENCY" => parse::value, plain;
    /// How many more may wait for a turn; past that, logins get a `503`
    /// with `Retry-After` without hashing, and are not counted as failed
    /// logins (default: 32 per core, about a second of work at the default
    /// cost).
    password_hash_queue: usize = 32 * available_cores(), "AUTH_PASSWORD_HASH_QUEUE" => parse::value, plain;
    /// `DATA_UPLOAD_MAX_MEMORY_SIZE`: largest form body in bytes (2.5 MB).
    data_upload_max_memory_size: usize = 2_621_440, "AUTH_DATA_UPLOAD_MAX_MEMORY_SIZE" => parse::value, plain;
    /// `DATA_UPLOAD_MAX_NUMBER_FIELDS`: most form fields (1000).
    data_upload_max_number_fields: usize = 1000, "AUTH_DATA_UPLOAD_MAX_NUMBER_FIELDS" => parse::value, plain;
    /// How long a database or session-store call may take before the request
    /// fails with 503 (seconds, at least 1).
    database_timeout: Duration = Duration::from_secs(5), "AUTH_DATABASE_TIMEOUT" => parse::positive_seconds, plain;
    /// `AUTH_CACHE` (`on`, the default, or `off`): keep sessions and users
    /// in memory, coherent with the database. Writes through this process
    /// are seen by the next request; writes from anywhere else (other
    /// instances, the CLI, SQL) within `cache_max_staleness`, through
    /// change notifications (PostgreSQL `LISTEN`, a polled change log on
    /// SQLite and MySQL, Redis invalidations), whose channel is proven
    /// alive by a heartbeat. Off: every request reads the store.
    cache: bool = true, "AUTH_CACHE" => parse::flag, plain;
    /// The most sessions, and the most users, kept (10,000 each); the
    /// least recently used go first.
    cache_max_entries: usize = 10_000, "AUTH_CACHE_MAX_ENTRIES" => parse::value, plain;
    /// How late a change made elsewhere may be seen (1 s; seconds with a
    /// fraction, at least 20 ms). The change log is polled, and the
    /// notification channel's heartbeat sent, twice per this period.
    cache_max_staleness: Duration = Duration::from_secs(1), "AUTH_CACHE_MAX_STALENESS" => parse::staleness, plain;
    #[cfg(feature = "audit")]
    /// `AUTH_EVENT_LOG` (`on`, the default, or `off`): write every auth
    /// event (logins, failures, lockouts, logouts, password changes and
    /// resets, ended sessions) to the `auth_event` table, the audit log.
    event_log: bool = true, "AUTH_EVENT_LOG" => parse::flag, plain;
    #[cfg(feature = "audit")]
    /// How many days audit-log events are kept (90); older ones are
    /// pruned with expired sessions and by `clearevents`.
    event_retention_days: u32 = 90, "AUTH_EVENT_RETENTION_DAYS" => parse::value, plain;
    #[cfg(feature = "prometheus")]
    /// The bearer token `Auth::metrics_router` asks for (feature
    /// `prometheus`); unset, the route is a 404.
    metrics_token: Option<String> = None, "AUTH_METRICS_TOKEN" => parse::optional, secret;
    /// How long, after SIGTERM or Ctrl-C, the requests in flight may take
    /// to finish (and each buffered write to be made), in seconds (30).
    shutdown_timeout: Duration = Duration::from_secs(30), "AUTH_SHUTDOWN_TIMEOUT" => parse::seconds, plain;
    #[cfg(feature = "mfa")]
    /// How long the second step of a two-factor login may take after the
    /// password, in seconds (300); past it, the password again.
    mfa_login_timeout: Duration = Duration::from_secs(300), "AUTH_MFA_LOGIN_TIMEOUT" => parse::positive_seconds, plain;
    #[cfg(feature = "mfa")]
    /// Who must have a second factor: `none` (the default), `staff`
    /// (staff and superusers), `superusers`, or `groups` (the members of
    /// `mfa_required_groups`). Such a user without one is sent, after the
    /// password, to set up TOTP, and is not logged in until it is on.
    mfa_required: MfaRequired = MfaRequired::None, "AUTH_MFA_REQUIRED" => parse::value, plain;
    #[cfg(feature = "mfa")]
    /// The groups whose members must have a second factor with
    /// `mfa_required = groups` (comma-separated names).
    mfa_required_groups: Vec<String> = Vec::new(), "AUTH_MFA_REQUIRED_GROUPS" => parse::list, plain;
    #[cfg(feature = "mfa")]
    /// Wrong answers at the second step (codes, passkeys) for one user
    /// within `login_failure_window`, after which that step is refused
    /// (429) until the window ends (5; 0: no limit). The second factor's
    /// own count: a correct password does not reset it, a right answer
    /// does. The user is mailed when it is reached (`notify_mfa`).
    mfa_failure_limit: u32 = 5, "AUTH_MFA_FAILURE_LIMIT" => parse::value, plain;
    #[cfg(feature = "mfa")]
    /// Wrong answers at the second step for one user within a day, after
    /// which that step is refused for the rest of the day (20; 0: no
    /// limit): the longer back-off behind `mfa_failure_limit`.
    mfa_failure_limit_per_day: u32 = 20, "AUTH_MFA_FAILURE_LIMIT_PER_DAY" => parse::value, plain;
    #[cfg(feature = "mfa")]
    /// How many 30-second steps before and after the current one a TOTP
    /// code may come from (1: a clock a step off, or a code typed as it
    /// changes, still works; django-allauth's default is 0). At most 10.
    mfa_totp_tolerance: u8 = 1, "AUTH_MFA_TOTP_TOLERANCE" => parse::totp_tolerance, plain;
    #[cfg(feature = "passkeys")]
    /// Whether the login page offers "Sign in with a passkey" (a passkey
    /// alone, verified by the authenticator, logs in) when a
    /// `PasskeysView` is declared (on by default).
    mfa_passkey_login: bool = true, "AUTH_MFA_PASSKEY_LOGIN" => parse::flag, plain;
    #[cfg(feature = "passkeys")]
    /// The site passkeys are bound to (`https://example.com`, or
    /// `http://localhost:PORT` in development), when it is not
    /// `site_url`: the relying party id is its host, and pages must run at
    /// that origin.
    mfa_passkey_origin: Option<String> = None, "AUTH_MFA_PASSKEY_ORIGIN" => parse::optional, plain;
    #[cfg(feature = "mfa")]
    /// The issuer name authenticator apps show next to a TOTP code (unset:
    /// the site's host).
    mfa_totp_issuer: Option<String> = None, "AUTH_MFA_TOTP_ISSUER" => parse::optional, plain;
    #[cfg(feature = "pwned")]
    /// A local list of breached passwords' SHA-1 hashes (Have I Been
    /// Pwned's format: `HASH:COUNT` lines, sorted): when set, new
    /// passwords found in it are refused
    /// ([`PwnedPasswordValidator`](crate::password::PwnedPasswordValidator)),
    /// after the other validators. The app does not start if it cannot be
    /// read.
    pwned_passwords_file: Option<PathBuf> = None, "AUTH_PWNED_PASSWORDS_FILE" => parse::optional_path, plain;
    #[cfg(feature = "pwned-online")]
    /// A breached-password range service (Have I Been Pwned's is
    /// `https://api.pwnedpasswords.com/range/`; feature `pwned-online`):
    /// when set, new passwords are checked with the k-anonymity protocol
    /// (only the first 5 hex digits of their SHA-1 are sent). Unset by
    /// default: the app makes no outbound request unless asked to.
    pwned_passwords_url: Option<String> = None, "AUTH_PWNED_PASSWORDS_URL" => parse::optional, plain;
    #[cfg(feature = "pwned-online")]
    /// How long a request to the range service may take (2 s).
    pwned_timeout: Duration = Duration::from_secs(2), "AUTH_PWNED_TIMEOUT" => parse::pwned_timeout, plain;
    #[cfg(feature = "pwned-online")]
    /// How long a range's answer is reused, in seconds (a day; 0 turns
    /// the cache off).
    pwned_cache_ttl: Duration = Duration::from_secs(86_400), "AUTH_PWNED_CACHE_TTL" => parse::seconds, plain;
    #[cfg(feature = "pwned")]
    /// What happens when the list cannot be asked: `open` (the default)
    /// lets the password through with a warning, `closed` refuses it.
    pwned_fail: PwnedFail = PwnedFail::Open, "AUTH_PWNED_FAIL" => parse::value, plain;
    #[cfg(feature = "notify")]
    /// Mail the user when their password changes (by the change form, a
    /// reset, or the API) (off by default).
    notify_password_change: bool = false, "AUTH_NOTIFY_PASSWORD_CHANGE" => parse::flag, plain;
    #[cfg(feature = "notify")]
    /// Mail the old address when a user's email address changes (off by
    /// default).
    notify_email_change: bool = false, "AUTH_NOTIFY_EMAIL_CHANGE" => parse::flag, plain;
    #[cfg(feature = "notify")]
    /// Mail the user when they log in from a device (user agent and
    /// address) not seen logging in to their account in 90 days; needs
    /// the audit log (`event_log`) (off by default).
    notify_new_device: bool = false, "AUTH_NOTIFY_NEW_DEVICE" => parse::flag, plain;
    #[cfg(feature = "notify")]
    /// Mail the user when a second factor is added or removed, their
    /// recovery codes are renewed, or wrong answers at the second step
    /// reach `mfa_failure_limit` ("someone has your password"), at most
    /// five such messages a day (OWASP ASVS 6.3.7; on by default).
    notify_mfa: bool = true, "AUTH_NOTIFY_MFA" => parse::flag, plain;
    /// `PASSWORD_RESET_TIMEOUT`: how long a password-reset link works
    /// (three days).
    password_reset_timeout: Duration = Duration::from_secs(259_200), "AUTH_PASSWORD_RESET_TIMEOUT" => parse::seconds, plain;
    /// How many password-reset messages one user may receive per
    /// `login_failure_window` at the request of one client address (3);
    /// further requests are answered as usual and send nothing.
    password_reset_email_limit: u32 = 3, "AUTH_PASSWORD_RESET_EMAIL_LIMIT" => parse::value, plain;
    /// How many password-reset messages one user may receive per window
    /// from all client addresses together (10): the bound on mail an
    /// attacker spread over many addresses can send to one user.
    password_reset_email_limit_per_user: u32 = 10, "AUTH_PASSWORD_RESET_EMAIL_LIMIT_PER_USER" => parse::value, plain;
    /// The site's own URL (`https://example.com`). When set, links in
    /// email (password reset) always point there, whatever `Host` the
    /// request carried: set it in production. Unset, links use the
    /// request's host when `allowed_hosts` guards it, else only for
    /// `localhost` or a loopback address.
    site_url: Option<String> = None, "AUTH_SITE_URL" => parse::optional, plain;
    /// `EMAIL_BACKEND`: `console` (default), `file`, `smtp` or `memory`.
    email_backend: EmailBackendKind = EmailBackendKind::Console, "AUTH_EMAIL_BACKEND" => parse::value, plain;
    /// `EMAIL_FILE_PATH`: the directory of the `file` backend.
    email_file_path: Option<PathBuf> = None, "AUTH_EMAIL_FILE_PATH" => parse::optional_path, plain;
    /// `EMAIL_HOST` (`localhost`).
    email_host: String = "localhost".into(), "AUTH_EMAIL_HOST" => parse::value, plain;
    /// `EMAIL_PORT` (25).
    email_port: u16 = 25, "AUTH_EMAIL_PORT" => parse::value, plain;
    /// `EMAIL_HOST_USER`: the SMTP login (empty: none).
    email_host_user: String = String::new(), "AUTH_EMAIL_HOST_USER" => parse::value, plain;
    /// `EMAIL_HOST_PASSWORD`.
    email_host_password: String = String::new(), "AUTH_EMAIL_HOST_PASSWORD" => parse::value, secret;
    /// `EMAIL_USE_TLS`: STARTTLS after connecting.
    email_use_tls: bool = false, "AUTH_EMAIL_USE_TLS" => parse::flag, plain;
    /// `EMAIL_USE_SSL`: TLS from the first byte (port 465).
    email_use_ssl: bool = false, "AUTH_EMAIL_USE_SSL" => parse::flag, plain;
    /// `EMAIL_TIMEOUT`: how long an SMTP exchange may take (Django: none;
    /// here 30 seconds, so a hung server cannot hold a sending slot).
    email_timeout: Duration = Duration::from_secs(30), "AUTH_EMAIL_TIMEOUT" => parse::email_timeout, plain;
    /// `DEFAULT_FROM_EMAIL` (`webmaster@localhost`).
    default_from_email: String = "webmaster@localhost".into(), "AUTH_DEFAULT_FROM_EMAIL" => parse::value, plain;
}

impl Settings {
    /// The defaults, overridden by every variable of
    /// [`Settings::VARIABLES`] set in the environment (Django's name
    /// prefixed with `AUTH_`). Lists are comma-separated; booleans are
    /// `true/false/1/0/yes/no/on/off`; durations are seconds.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Django's `LOGIN_URL` default.
pub(crate) const DEFAULT_LOGIN_URL: &str = "/accounts/login/";
/// Django's `LOGIN_REDIRECT_URL` default.
pub(crate) const DEFAULT_LOGIN_REDIRECT_URL: &str = "/accounts/profile/";

impl Settings {
    #[cfg(feature = "audit")]
    /// How long audit-log events are kept (`event_retention_days`).
    pub fn event_retention(&self) -> Duration {
        Duration::from_secs(u64::from(self.event_retention_days) * 86_400)
    }

    /// Where a login without `next` goes: `login_redirect_url`, else
    /// Django's `/accounts/profile/`.
    pub fn login_redirect_url(&self) -> &str {
        self.login_redirect_url
            .as_deref()
            .unwrap_or(DEFAULT_LOGIN_REDIRECT_URL)
    }
}

/// A database or Redis URL as logs and `Debug` may show it: the password
/// (`scheme://user:password@host`, or a `password=` query parameter)
/// replaced by `<redacted>`.
pub(crate) fn redact_url(url: &str) -> String {
    let mut shown = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                    let hidden = if userinfo.contains(':') {
                        ":<redacted>"
                    } else {
                        ""
                    };
                    format!("{scheme}://{user}{hidden}@{host}{tail}")
                }
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    if let Some((base, query)) = shown.clone().split_once('?') {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                    format!("{key}=<redacted>")
                }
                _ => pair.to_owned(),
            })
            .collect();
        shown = format!("{base}?{}", params.join("&"));
    }
    shown
}

/// The number of cores this process may use.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_djangos() {
        let s = Settings::default();
        assert_eq!(s.session_cookie_name, "sessionid");
        assert_eq!(s.session_cookie_age, 1_209_600);
        assert!(s.session_cookie_httponly && !s.session_cookie_secure);
        assert_eq!(s.session_cookie_samesite, SameSite::Lax);
        assert_eq!(s.login_redirect_url(), "/accounts/profile/");
        assert_eq!(s.csrf_cookie_name, "csrftoken");
    }

    #[test]
    fn env_overrides() {
        let s = from(&[
            ("AUTH_SESSION_COOKIE_AGE", "3600"),
            ("AUTH_SESSION_COOKIE_SECURE", "true"),
            ("AUTH_SESSION_COOKIE_SAMESITE", "strict"),
            (
                "AUTH_CSRF_TRUSTED_ORIGINS",
                "https://a.example, https://b.example",
            ),
            ("AUTH_LOGIN_URL", "/login/"),
        ])
        .unwrap();
        assert_eq!(s.session_cookie_age, 3600);
        assert!(s.session_cookie_secure);
        assert_eq!(s.session_cookie_samesite, SameSite::Strict);
        assert_eq!(
            s.csrf_trusted_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(s.login_url.as_deref(), Some("/login/"));
        let s = from(&[("AUTH_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")]).unwrap();
        assert_eq!(
            s.secure_proxy_ssl_header,
            Some(("X-Forwarded-Proto".into(), "https".into()))
        );
        assert!(from(&[("AUTH_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")]).is_err());
    }

    #[test]
    fn debug_output_hides_every_secret() {
        let settings = Settings {
            secret_key: Some("the-current-secret-key".into()),
            secret_key_fallbacks: vec!["an-older-secret-key".into()],
            email_host_password: "the-smtp-password".into(),
            ..Default::default()
        };
        let shown = format!("{settings:?}");
        for secret in [
            "the-current-secret-key",
            "an-older-secret-key",
            "the-smtp-password",
        ] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
        assert!(shown.contains("secret_key: \"<redacted>\""), "{shown}");
        assert!(
            shown.contains("session_cookie_name: \"sessionid\""),
            "{shown}"
        );
        assert!(format!("{:?}", Settings::default()).contains("email_host_password: \"<unset>\""));
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.example:5432/app?sslmode=require"),
            "postgres://app:<redacted>@db.example:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_url("redis://:hunter2@cache:6379/0"),
            "redis://:<redacted>@cache:6379/0"
        );
        assert_eq!(
            redact_url("mysql://root@127.0.0.1/test"),
            "mysql://root@127.0.0.1/test"
        );
        assert_eq!(
            redact_url("sqlite://auth.db?mode=rwc"),
            "sqlite://auth.db?mode=rwc"
        );
        assert_eq!(
            redact_url("postgres://db/app?user=app&password=s3cret"),
            "postgres://db/app?user=app&password=<redacted>"
        );
        assert_eq!(
            redact_url("postgres://u:p@ss@host/db"),
            "postgres://u:<redacted>@host/db"
        );
    }

    #[test]
    fn every_variable_is_read() {
        // Each variable of the table reaches its field: a value that does
        // not parse names it.
        for (variable, field) in Settings::VARIABLES {
            assert!(
                variable.starts_with("AUTH_") || ["DATABASE_URL", "REDIS_URL"].contains(variable),
                "{variable}"
            );
            let err = from(&[(variable, "\u{1}not a value\u{1}")]);
            if let Err(err) = err {
                assert!(err.to_string().contains(variable), "{err}");
            } else {
                // Free text: the value lands as given.
                let settings = from(&[(variable, "x")]).unwrap();
                assert!(format!("{settings:?}").contains(field), "{field}");
            }
        }
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = from(&[("AUTH_SESSION_COOKIE_AGE", "two weeks")]).unwrap_err();
        assert!(err.to_string().contains("AUTH_SESSION_COOKIE_AGE"), "{err}");
        assert!(from(&[("AUTH_SESSION_COOKIE_SECURE", "maybe")]).is_err());
    }
}
