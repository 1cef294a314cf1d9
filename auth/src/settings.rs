//! Settings with Django's names and defaults.
//!
//! Build them in code (`Settings { login_url: "/login/".into(), ..Default::default() }`)
//! or read them from the environment with [`Settings::from_env`], where each
//! setting is the Django name prefixed with `AUTH_`, for example
//! `AUTH_SESSION_COOKIE_AGE=3600` or `AUTH_CSRF_TRUSTED_ORIGINS=https://a.example,https://b.example`.

use std::{path::PathBuf, str::FromStr, time::Duration};

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

/// A setting's value is not one of the accepted words.
#[derive(Debug, thiserror::Error)]
#[error("expected {expected}, got `{got}`")]
pub struct UnknownValue {
    expected: &'static str,
    got: String,
}

/// Every setting, with Django's default.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `SECRET_KEY`: signs session auth hashes. When `None`, a development key
    /// is generated and persisted in [`Settings::secret_key_file`] with a
    /// warning. Set it in production.
    pub secret_key: Option<String>,
    /// `SECRET_KEY_FALLBACKS`: older keys still accepted, for rotation.
    pub secret_key_fallbacks: Vec<String>,
    /// Where a generated development secret key is kept (default
    /// `.auth-secret-key` in the working directory; keep it out of version
    /// control).
    pub secret_key_file: PathBuf,
    /// `LOGIN_URL`: where `#[login_required]` without `login_url` (and a
    /// handler argument of the user model) sends anonymous users. `None`:
    /// the login route declared with `auth_urls!`, else Django's
    /// `/accounts/login/` (see [`Settings::login_url`]).
    pub login_url: Option<String>,
    /// `LOGIN_REDIRECT_URL`: where a login goes without a `next`. `None`:
    /// Django's `/accounts/profile/`, with a warning at start (set it, even
    /// to that, to silence it).
    pub login_redirect_url: Option<String>,
    /// `LOGOUT_REDIRECT_URL`: where a logout goes without a `next`
    /// (`None`: render the "Logged out" page).
    pub logout_redirect_url: Option<String>,
    /// `SESSION_COOKIE_NAME`.
    pub session_cookie_name: String,
    /// `SESSION_COOKIE_AGE` in seconds (two weeks).
    pub session_cookie_age: u64,
    /// `SESSION_COOKIE_DOMAIN`.
    pub session_cookie_domain: Option<String>,
    /// `SESSION_COOKIE_PATH`.
    pub session_cookie_path: String,
    /// `SESSION_COOKIE_SECURE`: off by default (browsers may drop `Secure`
    /// cookies on `http://localhost`); turn it on behind HTTPS.
    pub session_cookie_secure: bool,
    /// `SESSION_COOKIE_HTTPONLY`.
    pub session_cookie_httponly: bool,
    /// `SESSION_COOKIE_SAMESITE`.
    pub session_cookie_samesite: SameSite,
    /// `SESSION_SAVE_EVERY_REQUEST`.
    pub session_save_every_request: bool,
    /// `SESSION_EXPIRE_AT_BROWSER_CLOSE`: session cookies without Max-Age.
    pub session_expire_at_browser_close: bool,
    /// How often expired session rows are deleted (default hourly; `None`
    /// disables the background task; `clearsessions` does it by hand).
    pub session_cleanup_interval: Option<Duration>,
    /// Prefix of session keys in Redis (when sessions are in Redis).
    pub session_redis_key_prefix: String,
    /// `CSRF_COOKIE_NAME`.
    pub csrf_cookie_name: String,
    /// `CSRF_COOKIE_AGE` in seconds (a year).
    pub csrf_cookie_age: u64,
    /// `CSRF_COOKIE_SECURE`.
    pub csrf_cookie_secure: bool,
    /// `CSRF_COOKIE_HTTPONLY`.
    pub csrf_cookie_httponly: bool,
    /// `CSRF_COOKIE_SAMESITE`.
    pub csrf_cookie_samesite: SameSite,
    /// `ALLOWED_HOSTS`: the hosts this site serves (`example.com`,
    /// `.example.com` for it and its subdomains, `*` for any); a request
    /// for another host gets 400 before any handler runs. Empty (the
    /// default) serves any host: set it in production, where password-reset
    /// links and same-origin checks rely on the `Host` header.
    pub allowed_hosts: Vec<String>,
    /// `CSRF_TRUSTED_ORIGINS`: extra origins (`https://app.example`) whose
    /// unsafe requests are accepted.
    pub csrf_trusted_origins: Vec<String>,
    /// `SECURE_PROXY_SSL_HEADER`: behind a TLS-terminating proxy, the header
    /// and value that mark a request as HTTPS, e.g.
    /// `("X-Forwarded-Proto", "https")`; env `AUTH_SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto:https`.
    /// Set only when the proxy always sets or strips that header.
    pub secure_proxy_ssl_header: Option<(String, String)>,
    /// `SECURE_CONTENT_TYPE_NOSNIFF`: `X-Content-Type-Options: nosniff` on
    /// every response.
    pub secure_content_type_nosniff: bool,
    /// `X_FRAME_OPTIONS`: the `X-Frame-Options` of every HTML response
    /// (`DENY`; `None` sends none).
    pub x_frame_options: Option<String>,
    /// `SECURE_REFERRER_POLICY`: the `Referrer-Policy` of every response
    /// (`same-origin`; `None` sends none).
    pub secure_referrer_policy: Option<String>,
    /// `SECURE_CROSS_ORIGIN_OPENER_POLICY`: the `Cross-Origin-Opener-Policy`
    /// of every response (`same-origin`; `None` sends none).
    pub secure_cross_origin_opener_policy: Option<String>,
    /// Failed logins for one username within `login_failure_window` after
    /// which further attempts are refused (429) without checking the
    /// password (0: no limit).
    pub login_failure_limit: u32,
    /// Failed logins from one client address within the window after which
    /// its attempts are refused (0: no limit).
    pub login_failure_limit_per_ip: u32,
    /// The window failed logins are counted in; a lockout ends by itself
    /// when it passes.
    pub login_failure_window: Duration,
    /// Behind a reverse proxy, the header naming the client's address
    /// (`X-Forwarded-For`; the rightmost entry counts). Unset, the client
    /// is the socket peer (serve with `into_make_service_with_connect_info`).
    pub trusted_proxy_header: Option<String>,
    /// Argon2 memory cost in KiB (OWASP: 19456).
    pub password_hasher_memory_kib: u32,
    /// Argon2 iterations (OWASP: 2).
    pub password_hasher_iterations: u32,
    /// Argon2 lanes (OWASP: 1).
    pub password_hasher_parallelism: u32,
    /// How many password hashes may run at once (0: one per core). Each
    /// holds the memory cost while it runs.
    pub password_hash_concurrency: usize,
    /// How many more may wait for a turn; past that, logins get a `503`
    /// with `Retry-After` without hashing, and are not counted as failed
    /// logins (default: 32 per core, about a second of work at the default
    /// cost).
    pub password_hash_queue: usize,
    /// `DATA_UPLOAD_MAX_MEMORY_SIZE`: largest form body in bytes (2.5 MB).
    pub data_upload_max_memory_size: usize,
    /// `DATA_UPLOAD_MAX_NUMBER_FIELDS`: most form fields (1000).
    pub data_upload_max_number_fields: usize,
    /// How long a database or session-store call may take before the request
    /// fails with 503.
    pub database_timeout: Duration,
    /// `AUTH_CACHE` (`on`, the default, or `off`): keep sessions and users
    /// in memory, coherent with the database. Writes through this process
    /// are seen by the next request; writes from anywhere else (other
    /// instances, the CLI, SQL) within `cache_max_staleness`, through
    /// change notifications (PostgreSQL `LISTEN`, a polled change log on
    /// SQLite and MySQL, Redis invalidations). Off: every request reads
    /// the store.
    pub cache: bool,
    /// `AUTH_CACHE_MAX_ENTRIES`: the most sessions, and the most users, kept
    /// (10,000 each); the least recently used go first.
    pub cache_max_entries: usize,
    /// `AUTH_CACHE_MAX_STALENESS`: how late a change made elsewhere may be
    /// seen (1 s). The change log is polled twice per this period.
    pub cache_max_staleness: Duration,
    /// `PASSWORD_RESET_TIMEOUT`: how long a password-reset link works
    /// (three days).
    pub password_reset_timeout: Duration,
    /// How many password-reset messages one address may receive per
    /// `login_failure_window` (3); further requests are answered as usual
    /// and send nothing.
    pub password_reset_email_limit: u32,
    /// The site's own URL (`https://example.com`), for links in email when
    /// `allowed_hosts` does not guard the `Host` header. With neither, reset
    /// links are only sent for requests to `localhost` or a loopback
    /// address.
    pub site_url: Option<String>,
    /// `EMAIL_BACKEND`: `console` (default), `file`, `smtp` or `memory`.
    pub email_backend: EmailBackendKind,
    /// `EMAIL_FILE_PATH`: the directory of the `file` backend.
    pub email_file_path: Option<PathBuf>,
    /// `EMAIL_HOST` (`localhost`).
    pub email_host: String,
    /// `EMAIL_PORT` (25).
    pub email_port: u16,
    /// `EMAIL_HOST_USER`: the SMTP login (empty: none).
    pub email_host_user: String,
    /// `EMAIL_HOST_PASSWORD`.
    pub email_host_password: String,
    /// `EMAIL_USE_TLS`: STARTTLS after connecting.
    pub email_use_tls: bool,
    /// `EMAIL_USE_SSL`: TLS from the first byte (port 465).
    pub email_use_ssl: bool,
    /// `EMAIL_TIMEOUT`: how long an SMTP exchange may take (Django: none;
    /// here 30 seconds, so a hung server cannot hold a sending slot).
    pub email_timeout: Duration,
    /// `DEFAULT_FROM_EMAIL` (`webmaster@localhost`).
    pub default_from_email: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secret_key: None,
            secret_key_fallbacks: Vec::new(),
            secret_key_file: PathBuf::from(".auth-secret-key"),
            login_url: None,
            login_redirect_url: None,
            logout_redirect_url: None,
            session_cookie_name: "sessionid".into(),
            session_cookie_age: 1_209_600,
            session_cookie_domain: None,
            session_cookie_path: "/".into(),
            session_cookie_secure: false,
            session_cookie_httponly: true,
            session_cookie_samesite: SameSite::Lax,
            session_save_every_request: false,
            session_expire_at_browser_close: false,
            session_cleanup_interval: Some(Duration::from_secs(3600)),
            session_redis_key_prefix: "auth:session:".into(),
            csrf_cookie_name: "csrftoken".into(),
            csrf_cookie_age: 31_449_600,
            csrf_cookie_secure: false,
            csrf_cookie_httponly: false,
            csrf_cookie_samesite: SameSite::Lax,
            allowed_hosts: Vec::new(),
            csrf_trusted_origins: Vec::new(),
            secure_proxy_ssl_header: None,
            secure_content_type_nosniff: true,
            x_frame_options: Some("DENY".into()),
            secure_referrer_policy: Some("same-origin".into()),
            secure_cross_origin_opener_policy: Some("same-origin".into()),
            login_failure_limit: 10,
            login_failure_limit_per_ip: 100,
            login_failure_window: Duration::from_secs(900),
            trusted_proxy_header: None,
            password_hasher_memory_kib: 19_456,
            password_hasher_iterations: 2,
            password_hasher_parallelism: 1,
            password_hash_concurrency: 0,
            password_hash_queue: 32 * available_cores(),
            data_upload_max_memory_size: 2_621_440,
            data_upload_max_number_fields: 1000,
            database_timeout: Duration::from_secs(5),
            cache: true,
            cache_max_entries: 10_000,
            cache_max_staleness: Duration::from_secs(1),
            password_reset_timeout: Duration::from_secs(259_200),
            password_reset_email_limit: 3,
            site_url: None,
            email_backend: EmailBackendKind::Console,
            email_file_path: None,
            email_host: "localhost".into(),
            email_port: 25,
            email_host_user: String::new(),
            email_host_password: String::new(),
            email_use_tls: false,
            email_use_ssl: false,
            email_timeout: Duration::from_secs(30),
            default_from_email: "webmaster@localhost".into(),
        }
    }
}

/// A setting in the environment that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct SettingsError {
    name: String,
    value: String,
    reason: String,
}

impl Settings {
    /// The defaults, overridden by every `AUTH_<DJANGO_NAME>` variable set in
    /// the environment. Lists are comma-separated; booleans are
    /// `true/false/1/0/yes/no/on/off`; durations are seconds.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Settings::from_env`], reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut s = Settings::default();
        let env = Env { lookup: &lookup };
        env.opt_string("SECRET_KEY", &mut s.secret_key);
        env.list("SECRET_KEY_FALLBACKS", &mut s.secret_key_fallbacks);
        env.parse("SECRET_KEY_FILE", &mut s.secret_key_file)?;
        env.opt_string("LOGIN_URL", &mut s.login_url);
        env.opt_string("LOGIN_REDIRECT_URL", &mut s.login_redirect_url);
        env.opt_string("LOGOUT_REDIRECT_URL", &mut s.logout_redirect_url);
        env.parse("SESSION_COOKIE_NAME", &mut s.session_cookie_name)?;
        env.parse("SESSION_COOKIE_AGE", &mut s.session_cookie_age)?;
        env.opt_string("SESSION_COOKIE_DOMAIN", &mut s.session_cookie_domain);
        env.parse("SESSION_COOKIE_PATH", &mut s.session_cookie_path)?;
        env.bool("SESSION_COOKIE_SECURE", &mut s.session_cookie_secure)?;
        env.bool("SESSION_COOKIE_HTTPONLY", &mut s.session_cookie_httponly)?;
        env.parse("SESSION_COOKIE_SAMESITE", &mut s.session_cookie_samesite)?;
        env.bool(
            "SESSION_SAVE_EVERY_REQUEST",
            &mut s.session_save_every_request,
        )?;
        env.bool(
            "SESSION_EXPIRE_AT_BROWSER_CLOSE",
            &mut s.session_expire_at_browser_close,
        )?;
        if let Some(secs) = env.get_parsed::<u64>("SESSION_CLEANUP_INTERVAL")? {
            s.session_cleanup_interval = (secs > 0).then(|| Duration::from_secs(secs));
        }
        env.parse("SESSION_REDIS_KEY_PREFIX", &mut s.session_redis_key_prefix)?;
        env.parse("CSRF_COOKIE_NAME", &mut s.csrf_cookie_name)?;
        env.parse("CSRF_COOKIE_AGE", &mut s.csrf_cookie_age)?;
        env.bool("CSRF_COOKIE_SECURE", &mut s.csrf_cookie_secure)?;
        env.bool("CSRF_COOKIE_HTTPONLY", &mut s.csrf_cookie_httponly)?;
        env.parse("CSRF_COOKIE_SAMESITE", &mut s.csrf_cookie_samesite)?;
        env.list("ALLOWED_HOSTS", &mut s.allowed_hosts);
        env.list("CSRF_TRUSTED_ORIGINS", &mut s.csrf_trusted_origins);
        if let Some((full, value)) = env.raw("SECURE_PROXY_SSL_HEADER") {
            let Some((name, expected)) = value.split_once(':') else {
                return Err(SettingsError {
                    name: full,
                    value,
                    reason: "expected HEADER:VALUE, such as X-Forwarded-Proto:https".into(),
                });
            };
            s.secure_proxy_ssl_header = Some((name.trim().to_owned(), expected.trim().to_owned()));
        }
        env.bool(
            "SECURE_CONTENT_TYPE_NOSNIFF",
            &mut s.secure_content_type_nosniff,
        )?;
        env.opt_string("X_FRAME_OPTIONS", &mut s.x_frame_options);
        env.opt_string("SECURE_REFERRER_POLICY", &mut s.secure_referrer_policy);
        env.opt_string(
            "SECURE_CROSS_ORIGIN_OPENER_POLICY",
            &mut s.secure_cross_origin_opener_policy,
        );
        env.parse("LOGIN_FAILURE_LIMIT", &mut s.login_failure_limit)?;
        env.parse(
            "LOGIN_FAILURE_LIMIT_PER_IP",
            &mut s.login_failure_limit_per_ip,
        )?;
        if let Some(secs) = env.get_parsed::<u64>("LOGIN_FAILURE_WINDOW")? {
            s.login_failure_window = Duration::from_secs(secs.max(1));
        }
        env.opt_string("TRUSTED_PROXY_HEADER", &mut s.trusted_proxy_header);
        env.parse(
            "PASSWORD_HASHER_MEMORY_KIB",
            &mut s.password_hasher_memory_kib,
        )?;
        env.parse(
            "PASSWORD_HASHER_ITERATIONS",
            &mut s.password_hasher_iterations,
        )?;
        env.parse(
            "PASSWORD_HASHER_PARALLELISM",
            &mut s.password_hasher_parallelism,
        )?;
        env.parse(
            "PASSWORD_HASH_CONCURRENCY",
            &mut s.password_hash_concurrency,
        )?;
        env.parse("PASSWORD_HASH_QUEUE", &mut s.password_hash_queue)?;
        env.parse(
            "DATA_UPLOAD_MAX_MEMORY_SIZE",
            &mut s.data_upload_max_memory_size,
        )?;
        env.parse(
            "DATA_UPLOAD_MAX_NUMBER_FIELDS",
            &mut s.data_upload_max_number_fields,
        )?;
        if let Some(secs) = env.get_parsed::<u64>("PASSWORD_RESET_TIMEOUT")? {
            s.password_reset_timeout = Duration::from_secs(secs);
        }
        env.parse(
            "PASSWORD_RESET_EMAIL_LIMIT",
            &mut s.password_reset_email_limit,
        )?;
        env.opt_string("SITE_URL", &mut s.site_url);
        env.parse("EMAIL_BACKEND", &mut s.email_backend)?;
        if let Some((_, value)) = env.raw("EMAIL_FILE_PATH") {
            s.email_file_path = Some(PathBuf::from(value)).filter(|p| !p.as_os_str().is_empty());
        }
        env.parse("EMAIL_HOST", &mut s.email_host)?;
        env.parse("EMAIL_PORT", &mut s.email_port)?;
        env.parse("EMAIL_HOST_USER", &mut s.email_host_user)?;
        env.parse("EMAIL_HOST_PASSWORD", &mut s.email_host_password)?;
        env.bool("EMAIL_USE_TLS", &mut s.email_use_tls)?;
        env.bool("EMAIL_USE_SSL", &mut s.email_use_ssl)?;
        if let Some(secs) = env.get_parsed::<f64>("EMAIL_TIMEOUT")? {
            s.email_timeout =
                Duration::try_from_secs_f64(secs.max(0.1)).unwrap_or(Duration::from_secs(30));
        }
        env.parse("DEFAULT_FROM_EMAIL", &mut s.default_from_email)?;
        env.bool("CACHE", &mut s.cache)?;
        env.parse("CACHE_MAX_ENTRIES", &mut s.cache_max_entries)?;
        if let Some(secs) = env.get_parsed::<f64>("CACHE_MAX_STALENESS")? {
            s.cache_max_staleness =
                Duration::try_from_secs_f64(secs.max(0.02)).unwrap_or(Duration::from_secs(1));
        }
        if let Some(secs) = env.get_parsed::<u64>("DATABASE_TIMEOUT")? {
            s.database_timeout = Duration::from_secs(secs.max(1));
        }
        Ok(s)
    }

    /// The password hasher these settings describe.
    pub fn hasher(&self) -> Result<crate::password::Hasher, crate::password::InvalidParams> {
        Ok(crate::password::Hasher::new(
            self.password_hasher_memory_kib,
            self.password_hasher_iterations,
            self.password_hasher_parallelism,
        )?
        .with_bounds(self.password_hash_concurrency, self.password_hash_queue))
    }
}

/// Django's `LOGIN_URL` default.
pub const DEFAULT_LOGIN_URL: &str = "/accounts/login/";
/// Django's `LOGIN_REDIRECT_URL` default.
pub const DEFAULT_LOGIN_REDIRECT_URL: &str = "/accounts/profile/";

impl Settings {
    /// The login URL in effect: `login_url` if set, else the path of the
    /// `LoginView` declared with `auth_urls!` (once its `router()` is
    /// built), else Django's `/accounts/login/`.
    pub fn login_url(&self) -> &str {
        self.login_url
            .as_deref()
            .or_else(|| crate::urls::declared_view("LoginView"))
            .unwrap_or(DEFAULT_LOGIN_URL)
    }

    /// Where a login without `next` goes: `login_redirect_url`, else
    /// Django's `/accounts/profile/`.
    pub fn login_redirect_url(&self) -> &str {
        self.login_redirect_url
            .as_deref()
            .unwrap_or(DEFAULT_LOGIN_REDIRECT_URL)
    }

    /// What to tell the developer when the server starts on `bind`: a
    /// `login_redirect_url` left at Django's default (a 404 unless the app
    /// serves it); and, on a non-loopback address (Django's `check
    /// --deploy`, in short), `AUTH_ALLOWED_HOSTS` unset and cookies without
    /// `Secure`. [`cli::run`](crate::cli::run) logs them.
    pub fn startup_warnings(&self, bind: std::net::SocketAddr) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.login_redirect_url.is_none() {
            warnings.push(format!(
                "AUTH_LOGIN_REDIRECT_URL is not set: after a login without `next`, users go to \
                 Django's default {DEFAULT_LOGIN_REDIRECT_URL}; set it to a page the app serves \
                 (setting it to {DEFAULT_LOGIN_REDIRECT_URL} silences this)"
            ));
        }
        if bind.ip().is_loopback() {
            return warnings;
        }
        if self.allowed_hosts.is_empty() {
            warnings.push(format!(
                "serving on {bind} with AUTH_ALLOWED_HOSTS unset: every Host header is \
                 accepted; set it to the site's host names, such as AUTH_ALLOWED_HOSTS=example.com"
            ));
        }
        if !self.session_cookie_secure || !self.csrf_cookie_secure {
            warnings.push(format!(
                "serving on {bind} with AUTH_SESSION_COOKIE_SECURE or AUTH_CSRF_COOKIE_SECURE \
                 off: behind HTTPS, set both to true"
            ));
        }
        warnings
    }
}

/// The number of cores this process may use.
fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Env<'_> {
    fn raw(&self, name: &str) -> Option<(String, String)> {
        let full = format!("AUTH_{name}");
        (self.lookup)(&full).map(|v| (full, v))
    }

    fn get_parsed<T: FromStr>(&self, name: &str) -> Result<Option<T>, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        let Some((full, value)) = self.raw(name) else {
            return Ok(None);
        };
        value
            .trim()
            .parse()
            .map(Some)
            .map_err(|e: T::Err| SettingsError {
                name: full,
                value,
                reason: e.to_string(),
            })
    }

    fn parse<T: FromStr>(&self, name: &str, slot: &mut T) -> Result<(), SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        if let Some(v) = self.get_parsed(name)? {
            *slot = v;
        }
        Ok(())
    }

    fn bool(&self, name: &str, slot: &mut bool) -> Result<(), SettingsError> {
        let Some((full, value)) = self.raw(name) else {
            return Ok(());
        };
        *slot = match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => {
                return Err(SettingsError {
                    name: full,
                    value,
                    reason: "expected true or false".into(),
                });
            }
        };
        Ok(())
    }

    fn opt_string(&self, name: &str, slot: &mut Option<String>) {
        if let Some((_, value)) = self.raw(name) {
            *slot = Some(value).filter(|v| !v.is_empty());
        }
    }

    fn list(&self, name: &str, slot: &mut Vec<String>) {
        if let Some((_, value)) = self.raw(name) {
            *slot = value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
        }
    }
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
        assert_eq!(s.login_url(), "/accounts/login/");
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
        assert_eq!(s.login_url(), "/login/");
        let s = from(&[("AUTH_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https")]).unwrap();
        assert_eq!(
            s.secure_proxy_ssl_header,
            Some(("X-Forwarded-Proto".into(), "https".into()))
        );
        assert!(from(&[("AUTH_SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto")]).is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = from(&[("AUTH_SESSION_COOKIE_AGE", "two weeks")]).unwrap_err();
        assert!(err.to_string().contains("AUTH_SESSION_COOKIE_AGE"), "{err}");
        assert!(from(&[("AUTH_SESSION_COOKIE_SECURE", "maybe")]).is_err());
    }
}
