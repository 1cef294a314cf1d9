//! The `tracing` side of auth decisions, with one set of field names for
//! all of them, so that one filter (`RUST_LOG=auth::event=info`,
//! `auth::decision=debug`) or one query in a log store finds them:
//!
//! - every [`Event`] is logged once under target `auth::event`, at `warn`
//!   when it is a refusal or failure and `info` otherwise, with `kind`,
//!   `outcome`, `user_id`, `username`, `client`, `backend`, `session` and
//!   `ended_by`; the hooks it starts run inside a span (`auth_event`) with
//!   the same fields, so a hook's own logs carry them;
//! - every guard decision that answers instead of the view (a login
//!   redirect, a 403, a re-authentication redirect, a CSRF refusal) is
//!   logged under target `auth::decision` with `decision` and `outcome`.

use super::Event;

/// The span a hook of `event` runs in.
pub(crate) fn span(event: &Event) -> tracing::Span {
    tracing::info_span!(
        target: "auth::event",
        "auth_event",
        kind = event.kind.as_str(),
        outcome = event.kind.outcome(),
        user_id = event.user_id,
        username = %event.username,
        client = ?event.client_ip,
        backend = %event.backend,
        session = %event.session,
        ended_by = event.ended_by.map(super::EndedBy::as_str),
    )
}

/// Logs `event` once.
pub(crate) fn record(event: &Event) {
    macro_rules! log {
        ($level:expr) => {
            tracing::event!(
                target: "auth::event",
                $level,
                kind = event.kind.as_str(),
                outcome = event.kind.outcome(),
                user_id = event.user_id,
                username = %event.username,
                client = ?event.client_ip,
                backend = %event.backend,
                session = %event.session,
                ended_by = event.ended_by.map(super::EndedBy::as_str),
                "auth event"
            )
        };
    }
    if event.kind.outcome() == "success" {
        log!(tracing::Level::INFO);
    } else {
        log!(tracing::Level::WARN);
    }
}

/// A guard's decision: `decision` is the guard (`login_required`,
/// `permission_required`, `reauth_required`, `csrf`), `outcome` what it
/// answered (`redirect`, `denied`).
pub(crate) fn decision(decision: &'static str, outcome: &'static str, detail: &str) {
    // Anonymous redirects are most of a public site's traffic: debug.
    // A refusal is worth a look: warn.
    if outcome == "redirect" {
        tracing::debug!(target: "auth::decision", decision, outcome, detail, "auth decision");
    } else {
        tracing::warn!(target: "auth::decision", decision, outcome, detail, "auth decision");
    }
}
