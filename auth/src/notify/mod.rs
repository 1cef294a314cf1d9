//! Security emails (feature `notify`, as Devise's and GitHub's), sent by a
//! sink of the events ([`Mailer`]): a message to the user when their
//! password changes (`AUTH_NOTIFY_PASSWORD_CHANGE`), when they log in from
//! a device not seen in 90 days (`AUTH_NOTIFY_NEW_DEVICE`, read from the
//! audit log: feature `audit` too), and when their second factor changes
//! or keeps failing (`AUTH_NOTIFY_MFA`, on by default, at most five a day);
//! and to the old address when their email address changes
//! (`AUTH_NOTIFY_EMAIL_CHANGE`, [`email_changed`]). Each is prepared and
//! sent after the response, in the mail's bounded background slots, with
//! the templates `registration/<kind>_subject.txt` and
//! `registration/<kind>_email.txt` (overridable).

use std::sync::{Arc, OnceLock, Weak};

use crate::events::{Event, EventKind, Sink};
use crate::{
    apps::{EmailWatch, FeatureApp, Shared},
    login::device::device,
    mail::EmailMessage,
    views::when,
};

/// How far back a device counts as known.
#[cfg(feature = "audit")]
pub(crate) const KNOWN_DEVICE_WINDOW: std::time::Duration =
    std::time::Duration::from_secs(90 * 86_400);

/// Security mail as the builder installs it: its messages' templates (the
/// [`Mailer`] is a sink of the events, added by the builder).
pub(crate) const APP: FeatureApp = FeatureApp {
    templates: TEMPLATES,
    email_watch: Some(EmailWatch {
        wanted: |settings| settings.notify_email_change,
        changed: email_changed,
    }),
    build: Some(|building| building.events.add_sink(Mailer::default())),
    started: Some(|shared| {
        if let Some(mailer) = shared.events.sink::<Mailer>() {
            mailer.bind(shared);
        }
    }),
    ..FeatureApp::NOTHING
};

/// The templates these messages use, to register as built-ins.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "registration/password_changed_subject.txt",
        include_str!("../../templates/registration/password_changed_subject.txt"),
    ),
    (
        "registration/password_changed_email.txt",
        include_str!("../../templates/registration/password_changed_email.txt"),
    ),
    (
        "registration/new_device_subject.txt",
        include_str!("../../templates/registration/new_device_subject.txt"),
    ),
    (
        "registration/new_device_email.txt",
        include_str!("../../templates/registration/new_device_email.txt"),
    ),
    (
        "registration/email_changed_subject.txt",
        include_str!("../../templates/registration/email_changed_subject.txt"),
    ),
    (
        "registration/email_changed_email.txt",
        include_str!("../../templates/registration/email_changed_email.txt"),
    ),
    (
        "registration/mfa_changed_subject.txt",
        include_str!("../../templates/registration/mfa_changed_subject.txt"),
    ),
    (
        "registration/mfa_changed_email.txt",
        include_str!("../../templates/registration/mfa_changed_email.txt"),
    ),
    (
        "registration/mfa_failing_subject.txt",
        include_str!("../../templates/registration/mfa_failing_subject.txt"),
    ),
    (
        "registration/mfa_failing_email.txt",
        include_str!("../../templates/registration/mfa_failing_email.txt"),
    ),
];

/// The sink that sends the security mail events call for. It reaches the
/// app (its mail, users, templates) through a handle bound once the app
/// is built.
#[derive(Clone, Default)]
pub(crate) struct Mailer(Arc<OnceLock<Weak<Shared>>>);

impl Mailer {
    /// Binds the sink to the app it sends for.
    pub(crate) fn bind(&self, shared: &Arc<Shared>) {
        let _ = self.0.set(Arc::downgrade(shared));
    }
}

impl Sink for Mailer {
    fn take(&self, event: &Arc<Event>) {
        if let Some(shared) = self.0.get().and_then(Weak::upgrade) {
            after(&shared, event);
        }
    }
}

/// What the mail about a user's second factor says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MfaNotice {
    Added,
    Removed,
    CodesRenewed,
    Failing,
}

/// What `event` calls for: a kind of message, if its setting is on.
fn wanted(shared: &Shared, event: &Event) -> Option<Message> {
    let settings = &shared.settings;
    let mfa = |notice| settings.notify_mfa.then_some(Message::Mfa(notice));
    match event.kind {
        EventKind::PasswordChanged | EventKind::PasswordResetCompleted => settings
            .notify_password_change
            .then_some(Message::PasswordChanged),
        #[cfg(feature = "audit")]
        EventKind::UserLoggedIn => {
            (settings.notify_new_device && settings.event_log).then_some(Message::NewDevice)
        }
        EventKind::MfaEnabled if event.backend == "recovery_codes" => mfa(MfaNotice::CodesRenewed),
        EventKind::MfaEnabled => mfa(MfaNotice::Added),
        EventKind::MfaDisabled => mfa(MfaNotice::Removed),
        EventKind::MfaLockedOut => mfa(MfaNotice::Failing),
        _ => None,
    }
}

/// A kind of security message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Message {
    PasswordChanged,
    #[cfg(feature = "audit")]
    NewDevice,
    Mfa(MfaNotice),
}

/// The messages `event` calls for, sent in the background.
fn after(shared: &Arc<Shared>, event: &Arc<Event>) {
    let Some(message) = wanted(shared, event) else {
        return;
    };
    if event.user_id.is_none() {
        return;
    }
    let Some(slot) = shared.mail.slot() else {
        tracing::warn!(
            kind = event.kind.as_str(),
            "security email not sent: the mail is busy"
        );
        return;
    };
    let (shared, event) = (shared.clone(), event.clone());
    tokio::spawn(async move {
        if let Err(err) = notify(&shared, &event, message).await {
            tracing::error!(error = %err, kind = event.kind.as_str(), "security email not sent");
        }
        drop(slot);
    });
}

async fn notify(
    shared: &Arc<Shared>,
    event: &Event,
    message: Message,
) -> crate::kernel::error::Result<()> {
    let Some(user_id) = event.user_id else {
        return Ok(());
    };
    if let Message::Mfa(_) = message {
        // At most five about one user's second factor a day, whatever
        // happens to the account.
        let counters = mail_counters(user_id);
        if shared.throttle.count(&counters).await?.is_err() {
            tracing::warn!(
                user_id,
                "security email not sent: five about this factor today"
            );
            return Ok(());
        }
    }
    let Some(user) = shared.users.get_fresh(user_id).await? else {
        return Ok(());
    };
    let base = user.base();
    // The address when it happened: it may have changed since.
    let to = event.email.clone().unwrap_or_else(|| base.email.clone());
    if to.is_empty() {
        return Ok(());
    }
    let (kind, change) = match message {
        Message::PasswordChanged => ("password_changed", ""),
        #[cfg(feature = "audit")]
        Message::NewDevice => {
            if !is_new_device(shared, event, base.date_joined).await? {
                return Ok(());
            }
            ("new_device", "")
        }
        Message::Mfa(MfaNotice::Added) => ("mfa_changed", "added"),
        Message::Mfa(MfaNotice::Removed) => ("mfa_changed", "removed"),
        Message::Mfa(MfaNotice::CodesRenewed) => ("mfa_changed", "codes"),
        Message::Mfa(MfaNotice::Failing) => ("mfa_failing", ""),
    };
    let context = minijinja::context! {
        username => base.username.clone(),
        change,
        factor => factor_name(&event.backend),
        at => when(event.at),
        client_ip => event.client_ip.map(|ip| ip.to_string()),
        device => (!event.user_agent.is_empty()).then(|| device(&event.user_agent)),
    };
    send(shared, kind, context, to).await
}

/// A factor's kind as a person reads it.
fn factor_name(kind: &str) -> &str {
    match kind {
        "totp" => "an authenticator app",
        "webauthn" => "a passkey",
        "recovery_codes" => "recovery codes",
        "all" => "every second factor",
        other => other,
    }
}

/// Whether `event`'s login comes from a user agent and address that did
/// not log in to the account in the last 90 days; `false` for the
/// account's first login (nothing to compare with): no earlier login in
/// the log, and an account young enough for the log to have seen one.
#[cfg(feature = "audit")]
async fn is_new_device(
    shared: &Shared,
    event: &Event,
    joined: time::OffsetDateTime,
) -> crate::kernel::error::Result<bool> {
    let Some(writer) = shared.events.sink::<crate::audit::Writer>() else {
        return Ok(false);
    };
    writer.flush().await;
    let (any, same) = crate::audit::earlier_logins(&shared.db, event, KNOWN_DEVICE_WINDOW).await?;
    let first_login = any == 0 && joined > event.at - KNOWN_DEVICE_WINDOW;
    Ok(same == 0 && !first_login)
}

/// Mails the old address of user `username` that it changed to `new_email`.
fn email_changed(shared: &Arc<Shared>, username: &str, old: &str, new_email: &str) {
    if !shared.settings.notify_email_change || old.is_empty() {
        return;
    }
    let Some(slot) = shared.mail.slot() else {
        tracing::warn!("security email not sent: the mail is busy");
        return;
    };
    let context = minijinja::context! {
        username => username,
        new_email => new_email,
        at => when(shared.clock.now()),
    };
    let (shared, to) = (shared.clone(), old.to_owned());
    tokio::spawn(async move {
        if let Err(err) = send(&shared, "email_changed", context, to).await {
            tracing::error!(error = %err, "security email not sent");
        }
        drop(slot);
    });
}

async fn send(
    shared: &Shared,
    kind: &str,
    context: minijinja::Value,
    to: String,
) -> crate::kernel::error::Result<()> {
    let templates = &shared.templates;
    let subject = templates.render(&format!("registration/{kind}_subject.txt"), context.clone())?;
    let body = templates.render(&format!("registration/{kind}_email.txt"), context)?;
    let message = EmailMessage {
        subject: subject
            .lines()
            .collect::<Vec<_>>()
            .join(" ")
            .trim()
            .to_owned(),
        body: body.trim_start_matches('\n').to_owned(),
        from_email: shared.settings.default_from_email.clone(),
        to: vec![to],
    };
    shared.mail.send(&message).await
}

/// The security mail about user `user_id`'s second factor: at most a few
/// per day, whatever happens to the account.
fn mail_counters(user_id: i64) -> Vec<crate::throttle::Counter> {
    vec![
        crate::throttle::Counter::new("mail-mfa-user", user_id.to_string(), 5)
            .window(std::time::Duration::from_secs(86_400)),
    ]
}
