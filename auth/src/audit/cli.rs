//! The audit-log commands: `events [USERNAME] [--since DURATION] [--kind
//! KIND] [--json]` (newest first, one line each, or JSON lines) and
//! `clearevents` (events past `AUTH_EVENT_RETENTION_DAYS`).

use std::io::Write;

use clap::{ArgMatches, CommandFactory, Parser};

use super::EventFilter;
use crate::{
    app::Auth,
    cli::support::{CommandError, FeatureCommand, parsed, utc},
    events::{Event, EventKind},
    user::AuthUser,
};

/// The app's commands.
pub(crate) fn commands<U: AuthUser>() -> Vec<FeatureCommand<U>> {
    vec![
        FeatureCommand {
            command: Events::command,
            run: |auth, args, out| Box::pin(list(auth, args, out)),
        },
        FeatureCommand {
            command: Clearevents::command,
            run: |auth, _, out| Box::pin(clear(auth, out)),
        },
    ]
}

/// Show the audit log, newest first: logins, failures, lockouts,
/// logouts, password changes and resets, ended sessions.
#[derive(Debug, Parser)]
#[command(name = "events")]
struct Events {
    /// Only this user's events (the username as stored or typed).
    username: Option<String>,
    /// Only the last DURATION (`7d`, `24h`, `30m`, `45s`).
    #[arg(long, value_name = "DURATION")]
    since: Option<String>,
    /// Only this kind (`user_login_failed`, …; repeatable).
    #[arg(long = "kind", value_name = "KIND")]
    kinds: Vec<String>,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// Delete audit-log events older than `AUTH_EVENT_RETENTION_DAYS`.
#[derive(Debug, Parser)]
#[command(name = "clearevents")]
struct Clearevents {}

/// `90d`, `24h`, `30m`, `45s` or a number of seconds.
fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => (&text[..at], unit),
        _ => (text, 's'),
    };
    let amount: i64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 7d, 24h, 30m or 45s"))?;
    let seconds = match unit {
        'd' => 86_400,
        'h' => 3_600,
        'm' => 60,
        's' => 1,
        _ => return Err(format!("`{text}`: the unit is d, h, m or s")),
    };
    Ok(time::Duration::seconds(amount.saturating_mul(seconds)))
}

/// `events`: the audit log, newest first.
async fn list<U: AuthUser>(
    auth: &Auth<U>,
    args: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let Events {
        username,
        since,
        kinds,
        json,
    } = parsed(args)?;
    let since = since
        .map(|text| parse_duration(&text).map_err(CommandError::Usage))
        .transpose()?
        .map(|age| time::OffsetDateTime::now_utc() - age);
    let kinds = kinds
        .iter()
        .map(|name| {
            EventKind::parse(name).ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                CommandError::Usage(format!(
                    "unknown event kind `{name}`; expected one of {}",
                    known.join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let filter = EventFilter {
        username,
        since,
        kinds,
        limit: Some(1000),
    };
    for event in auth.events().list(&filter).await? {
        if json {
            writeln!(out, "{}", as_json(&event))?;
        } else {
            writeln!(out, "{}", line(&event))?;
        }
    }
    Ok(())
}

/// `clearevents`.
async fn clear<U: AuthUser>(auth: &Auth<U>, out: &mut dyn Write) -> Result<(), CommandError> {
    let deleted = auth.clear_old_events().await?;
    writeln!(out, "Deleted {deleted} old event(s).")?;
    Ok(())
}

fn timestamp(event: &Event) -> String {
    utc(event.at)
}

/// `2026-12-03T15:00:00Z  user_login_failed  alice  192.0.2.1  failure`.
fn line(event: &Event) -> String {
    let mut fields = vec![
        timestamp(event),
        event.kind.as_str().to_owned(),
        if event.username.is_empty() {
            event
                .user_id
                .map_or_else(|| "-".to_owned(), |id| format!("#{id}"))
        } else {
            event.username.clone()
        },
        event
            .client_ip
            .map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
        event.kind.outcome().to_owned(),
    ];
    if let Some(by) = event.ended_by {
        fields.push(format!("by {}", by.as_str()));
    }
    if !event.session.is_empty() {
        fields.push(format!("session {}", event.session));
    }
    if !event.backend.is_empty() {
        fields.push(format!("via {}", event.backend));
    }
    fields.join("  ")
}

fn as_json(event: &Event) -> serde_json::Value {
    serde_json::json!({
        "at": timestamp(event),
        "kind": event.kind.as_str(),
        "user_id": event.user_id,
        "username": event.username,
        "client_ip": event.client_ip.map(|ip| ip.to_string()),
        "user_agent": event.user_agent,
        "backend": event.backend,
        "outcome": event.kind.outcome(),
        "session": event.session,
        "ended_by": event.ended_by.map(|by| by.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("7d"), Ok(time::Duration::days(7)));
        assert_eq!(parse_duration("24h"), Ok(time::Duration::hours(24)));
        assert_eq!(parse_duration("30m"), Ok(time::Duration::minutes(30)));
        assert_eq!(parse_duration("45"), Ok(time::Duration::seconds(45)));
        assert!(parse_duration("7w").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("").is_err());
    }
}
