//! Auth events (Django's `user_logged_in`, `user_logged_out` and
//! `user_login_failed` signals, and this library's own): every
//! authentication decision becomes an [`Event`], emitted through one door
//! (`Events::emit`): traced, counted, handed to the hooks the app
//! registered ([`AuthBuilder::on_event`](crate::AuthBuilder::on_event),
//! `hooks.rs`) and to the sinks the feature apps plug in: the audit log
//! (`auth::audit`, the `auth_event` table, feature `audit`;
//! `AUTH_EVENT_LOG=off` turns it off) and the security mail (`notify/`,
//! feature `notify`).
//!
//! None delays the request: hooks run in tasks of their own with a time
//! limit, the log is written in batches by a background task, mail is sent
//! after the response.

pub(crate) mod hooks;
pub(crate) mod trace;

use std::{net::IpAddr, sync::Arc};

use time::OffsetDateTime;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A user logged in (Django's `user_logged_in`).
    UserLoggedIn,
    /// A session logged out (Django's `user_logged_out`).
    UserLoggedOut,
    /// Credentials were refused (Django's `user_login_failed`).
    UserLoginFailed,
    /// An attempt was refused by the login throttle, without a password
    /// check.
    LoginLockedOut,
    /// A user's password was changed (the change form, or the API).
    PasswordChanged,
    /// A password-reset message went to a user.
    PasswordResetRequested,
    /// A password was set from a reset link.
    PasswordResetCompleted,
    /// A session was ended by something other than its own logout (see
    /// [`Event::ended_by`]).
    SessionEnded,
    /// A second factor was turned on (its name in [`Event::backend`]:
    /// `totp`, `recovery_codes`).
    MfaEnabled,
    /// A second factor was turned off (`all` after `mfa reset`).
    MfaDisabled,
    /// A wrong code at the second step of a login.
    MfaFailed,
    /// Wrong answers at the second step of a user's login reached its
    /// limit, or ended a pending login: someone who has the password keeps
    /// failing the second factor.
    MfaLockedOut,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 12] = [
        EventKind::UserLoggedIn,
        EventKind::UserLoggedOut,
        EventKind::UserLoginFailed,
        EventKind::LoginLockedOut,
        EventKind::PasswordChanged,
        EventKind::PasswordResetRequested,
        EventKind::PasswordResetCompleted,
        EventKind::SessionEnded,
        EventKind::MfaEnabled,
        EventKind::MfaDisabled,
        EventKind::MfaFailed,
        EventKind::MfaLockedOut,
    ];

    /// The stored name (`user_logged_in`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::UserLoggedIn => "user_logged_in",
            EventKind::UserLoggedOut => "user_logged_out",
            EventKind::UserLoginFailed => "user_login_failed",
            EventKind::LoginLockedOut => "login_locked_out",
            EventKind::PasswordChanged => "password_changed",
            EventKind::PasswordResetRequested => "password_reset_requested",
            EventKind::PasswordResetCompleted => "password_reset_completed",
            EventKind::SessionEnded => "session_ended",
            EventKind::MfaEnabled => "mfa_enabled",
            EventKind::MfaDisabled => "mfa_disabled",
            EventKind::MfaFailed => "mfa_failed",
            EventKind::MfaLockedOut => "mfa_locked_out",
        }
    }

    /// The kind stored as `name`.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }

    /// `success`, `failure` or `refused`.
    pub fn outcome(self) -> &'static str {
        match self {
            EventKind::UserLoginFailed | EventKind::MfaFailed => "failure",
            EventKind::LoginLockedOut | EventKind::MfaLockedOut => "refused",
            _ => "success",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who or what ended a session ([`EventKind::SessionEnded`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndedBy {
    /// The user, from another session (the session list).
    User,
    /// An administrator (`auth.sessions().end_all_for`, `endsessions`,
    /// deactivating or deleting the user).
    Admin,
    /// The idle or absolute timeout.
    Timeout,
    /// A password change (the session's auth hash no longer matched).
    PasswordChange,
    /// A new login past `AUTH_SESSION_MAX_PER_USER`.
    SessionLimit,
}

impl EndedBy {
    /// The stored name (`user`, `admin`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EndedBy::User => "user",
            EndedBy::Admin => "admin",
            EndedBy::Timeout => "timeout",
            EndedBy::PasswordChange => "password_change",
            EndedBy::SessionLimit => "session_limit",
        }
    }
}

/// One auth event, as hooks receive it and the audit log stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// When (the app's clock).
    pub at: OffsetDateTime,
    /// The user, when known.
    pub user_id: Option<i64>,
    /// The user's username; for a failed login, the username as typed
    /// (the password is never part of an event).
    pub username: String,
    /// The client's address, when known.
    pub client_ip: Option<IpAddr>,
    /// The client's `User-Agent` (at most 512 bytes), when known.
    pub user_agent: String,
    /// The authentication backend, for logins.
    pub backend: String,
    /// The first 8 characters of the session's handle (as
    /// `auth::sessions::UserSession::key` shows it, feature
    /// `user-sessions`), for ended sessions.
    pub session: String,
    /// What ended the session, for [`EventKind::SessionEnded`].
    pub ended_by: Option<EndedBy>,
    /// The user's email address when the event happened, for the
    /// security email it may call for (not logged).
    pub(crate) email: Option<String>,
}

impl Event {
    /// An event of `kind` at `at`, every other field empty.
    pub(crate) fn new(kind: EventKind, at: OffsetDateTime) -> Self {
        Event {
            kind,
            at,
            user_id: None,
            username: String::new(),
            client_ip: None,
            user_agent: String::new(),
            backend: String::new(),
            session: String::new(),
            ended_by: None,
            email: None,
        }
    }

    /// This event with the user's email address at the time.
    pub(crate) fn email(mut self, email: &str) -> Self {
        self.email = Some(email.to_owned());
        self
    }

    /// This event about user `id` named `username`.
    pub(crate) fn user(mut self, id: i64, username: &str) -> Self {
        self.user_id = Some(id);
        self.username = username.to_owned();
        self
    }
}

/// Counts `event` through the `metrics` facade (a no-op until the app
/// installs a recorder, as `Auth::metrics_router` does).
fn count(event: &Event) {
    let kind = event.kind.as_str();
    metrics::counter!("auth_events_total", "kind" => kind).increment(1);
    match event.kind {
        EventKind::UserLoggedIn | EventKind::UserLoginFailed | EventKind::LoginLockedOut => {
            metrics::counter!("auth_logins_total", "outcome" => event.kind.outcome()).increment(1);
        }
        EventKind::PasswordResetRequested => {
            metrics::counter!("auth_password_resets_total", "stage" => "requested").increment(1);
        }
        EventKind::PasswordResetCompleted => {
            metrics::counter!("auth_password_resets_total", "stage" => "completed").increment(1);
        }
        EventKind::SessionEnded => {
            let by = event.ended_by.map_or("unknown", EndedBy::as_str);
            metrics::counter!("auth_sessions_ended_total", "by" => by).increment(1);
        }
        _ => {}
    }
}

/// Where events go beyond the app's hooks: what a feature app plugs into
/// [`Events`] (the audit log, the security mail). A sink takes each event
/// as it is emitted and must not wait on anything.
pub(crate) trait Sink: std::any::Any + Send + Sync {
    /// Takes `event`.
    fn take(&self, event: &Arc<Event>);

    /// Finishes with what it has taken so far (the audit log writes its
    /// queue), before a shutdown or a read.
    fn flush(&self) -> crate::kernel::future::BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// Where events go: the app's hooks and the sinks.
pub(crate) struct Events {
    hooks: hooks::Hooks,
    sinks: Vec<Box<dyn Sink>>,
}

impl Events {
    pub(crate) fn new(hooks: hooks::Hooks) -> Self {
        Events {
            hooks,
            sinks: Vec::new(),
        }
    }

    /// Adds `sink`.
    #[cfg_attr(not(any(feature = "audit", feature = "notify")), allow(dead_code))]
    pub(crate) fn add_sink(&mut self, sink: impl Sink + 'static) {
        self.sinks.push(Box::new(sink));
    }

    /// Emits `event`: traced, counted, handed to the hooks and each sink;
    /// never waits for any of them.
    pub(crate) fn emit(&self, event: Event) -> Arc<Event> {
        trace::record(&event);
        count(&event);
        let event = Arc::new(event);
        self.hooks.run(&event);
        for sink in &self.sinks {
            sink.take(&event);
        }
        event
    }

    /// The sink of type `T`, when one was added (the audit log's writer,
    /// which its readers flush first).
    #[cfg_attr(not(feature = "audit"), allow(dead_code))]
    pub(crate) fn sink<T: Sink>(&self) -> Option<&T> {
        self.sinks
            .iter()
            .find_map(|sink| (sink.as_ref() as &dyn std::any::Any).downcast_ref::<T>())
    }

    /// Flushes every sink.
    pub(crate) async fn flush(&self) {
        for sink in &self.sinks {
            sink.flush().await;
        }
    }
}
