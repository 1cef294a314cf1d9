//! Security emails (as Devise's and GitHub's): a message to the user when
//! their password changes (`AUTH_NOTIFY_PASSWORD_CHANGE`), to the old
//! address when their email address changes (`AUTH_NOTIFY_EMAIL_CHANGE`),
//! when they log in from a device not seen in 90 days
//! (`AUTH_NOTIFY_NEW_DEVICE`, read from the audit log), and when their
//! second factor changes or keeps failing (`AUTH_NOTIFY_MFA`, on by
//! default, at most five a day).
//! Each is prepared and sent after the response, in the mail's bounded
//! background slots, with the templates `registration/<kind>_subject.txt`
//! and `registration/<kind>_email.txt` (overridable).

use std::{sync::Arc, time::Duration};

use super::{Event, EventKind};
use crate::{app::shared::Shared, mail::EmailMessage, session::device::device};

/// How far back a device counts as known.
pub(crate) const KNOWN_DEVICE_WINDOW: Duration = Duration::from_secs(90 * 86_400);

/// Reports `event` to the hooks and the audit log, and sends the security
/// email it calls for, if any.
pub(crate) fn emit(shared: &Arc<Shared>, event: Event) {
    let event = shared.events.emit(event);
    after(shared, &event);
}

/// The messages `event` calls for, sent in the background.
fn after(shared: &Arc<Shared>, event: &Arc<Event>) {
    let settings = &shared.settings;
    let wanted = match event.kind {
        EventKind::PasswordChanged | EventKind::PasswordResetCompleted => {
            settings.notify_password_change
        }
        EventKind::UserLoggedIn => settings.notify_new_device && settings.event_log,
        _ => false,
    };
    if !wanted || event.user_id.is_none() {
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
        if let Err(err) = notify(&shared, &event).await {
            tracing::error!(error = %err, kind = event.kind.as_str(), "security email not sent");
        }
        drop(slot);
    });
}

async fn notify(shared: &Arc<Shared>, event: &Event) -> crate::Result<()> {
    let Some(user_id) = event.user_id else {
        return Ok(());
    };
    let Some(user) = shared.users.get_fresh(user_id).await? else {
        return Ok(());
    };
    let base = user.base();
    // The address when it happened: it may have changed since.
    let to = event.email.clone().unwrap_or_else(|| base.email.clone());
    if to.is_empty() {
        return Ok(());
    }
    let kind = match event.kind {
        EventKind::UserLoggedIn => {
            if !is_new_device(shared, event, base.date_joined).await? {
                return Ok(());
            }
            "new_device"
        }
        _ => "password_changed",
    };
    let context = minijinja::context! {
        username => base.username.clone(),
        at => when(event.at),
        client_ip => event.client_ip.map(|ip| ip.to_string()),
        device => (!event.user_agent.is_empty()).then(|| device(&event.user_agent)),
    };
    send(shared, kind, context, to).await
}

/// Whether `event`'s login comes from a user agent and address that did
/// not log in to the account in the last 90 days; `false` for the
/// account's first login (nothing to compare with): no earlier login in
/// the log, and an account young enough for the log to have seen one.
async fn is_new_device(
    shared: &Shared,
    event: &Event,
    joined: time::OffsetDateTime,
) -> crate::Result<bool> {
    let Some(writer) = shared.events.log() else {
        return Ok(false);
    };
    writer.flush().await;
    let (any, same) = super::log::earlier_logins(&shared.db, event, KNOWN_DEVICE_WINDOW).await?;
    let first_login = any == 0 && joined > event.at - KNOWN_DEVICE_WINDOW;
    Ok(same == 0 && !first_login)
}

/// What happened to a user's second factor, as the security mail says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MfaNotice {
    /// A factor was added.
    Added,
    /// A factor was removed.
    Removed,
    /// The recovery codes were renewed.
    CodesRenewed,
    /// Wrong answers at the second step reached the limit: someone has
    /// the password.
    Failing,
}

/// Mails user `user_id` about `notice` (their `factor`, when one is
/// named), with `event`'s time, address and device, unless
/// `AUTH_NOTIFY_MFA` is off or they had five such messages today.
pub(crate) fn mfa(
    shared: &Arc<Shared>,
    user_id: i64,
    notice: MfaNotice,
    factor: &str,
    event: &Event,
) {
    if !shared.settings.notify_mfa {
        return;
    }
    let Some(slot) = shared.mail.slot() else {
        tracing::warn!("security email not sent: the mail is busy");
        return;
    };
    let (shared, factor) = (shared.clone(), factor.to_owned());
    let (at, client_ip, agent) = (event.at, event.client_ip, event.user_agent.clone());
    tokio::spawn(async move {
        let sent = async {
            let counters = crate::throttle::mfa_mail_counters(user_id);
            if shared.throttle.count(&counters).await?.is_err() {
                tracing::warn!(
                    user_id,
                    "security email not sent: five about this factor today"
                );
                return Ok(());
            }
            let Some(user) = shared.users.get_fresh(user_id).await? else {
                return Ok(());
            };
            let base = user.base();
            if base.email.is_empty() {
                return Ok(());
            }
            let (kind, change) = match notice {
                MfaNotice::Added => ("mfa_changed", "added"),
                MfaNotice::Removed => ("mfa_changed", "removed"),
                MfaNotice::CodesRenewed => ("mfa_changed", "codes"),
                MfaNotice::Failing => ("mfa_failing", ""),
            };
            let context = minijinja::context! {
                username => base.username.clone(),
                change,
                factor => factor_name(&factor),
                at => when(at),
                client_ip => client_ip.map(|ip| ip.to_string()),
                device => (!agent.is_empty()).then(|| device(&agent)),
            };
            send(&shared, kind, context, base.email.clone()).await
        };
        if let Err(err) = sent.await {
            tracing::error!(error = %err, "security email not sent");
        }
        drop(slot);
    });
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

/// Mails the old address of user `username` that it changed to `new_email`.
pub(crate) fn email_changed(shared: &Arc<Shared>, username: &str, old: &str, new_email: &str) {
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
) -> crate::Result<()> {
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

fn when(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}
