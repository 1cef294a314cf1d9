//! How long a logged-in session lives (OWASP ASVS 7.3): the idle and
//! absolute timeouts, "remember me", and the cap on sessions per user.
//! Django has only the cookie's age; each of these is off by default, so
//! an app that sets none behaves as Django.

use std::time::Duration;

use tower_sessions::session::Record;

use crate::{
    session::metadata::{SessionMetadata, Times},
    settings::{MaxSessionsPolicy, RememberMe, Settings},
};

/// What a request does with its logged-in session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Past a timeout: end it.
    Expired,
    /// Alive, and its "last seen" is older than the activity resolution:
    /// write the new time.
    Touch,
    /// Alive, nothing to write.
    Fresh,
}

/// The timeouts a request checks its session against, in seconds, worked
/// out once from the settings (not on every logged-in request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lifetime {
    /// `session_idle_timeout`.
    idle: Option<i64>,
    /// The idle lifetime of a browser-session login.
    browser_idle: i64,
    /// `session_absolute_timeout`.
    absolute: Option<i64>,
    /// How often "last seen" is written
    /// ([`Settings::activity_resolution`]).
    resolution: i64,
}

impl Lifetime {
    pub(crate) fn of(settings: &Settings) -> Self {
        Lifetime {
            idle: settings.session_idle_timeout.map(seconds),
            browser_idle: seconds(settings.browser_lifetime()),
            absolute: settings.session_absolute_timeout.map(seconds),
            resolution: seconds(settings.activity_resolution()),
        }
    }
}

/// The verdict on a session with `times` at `now` (Unix seconds).
pub(crate) fn verdict(lifetime: &Lifetime, times: Times, now: i64) -> Verdict {
    let idle = if times.browser {
        Some(lifetime.browser_idle)
    } else {
        lifetime.idle
    };
    let past = |since: i64, limit: Option<i64>| {
        limit.is_some_and(|limit| now.saturating_sub(since) > limit)
    };
    if past(times.seen, idle) || past(times.created, lifetime.absolute) {
        Verdict::Expired
    } else if now.saturating_sub(times.seen) >= lifetime.resolution {
        Verdict::Touch
    } else {
        Verdict::Fresh
    }
}

/// Whether a login makes a browser-session cookie, given whether the user
/// ticked "remember me" (`None`: the form had no such box).
pub(crate) fn browser_session(settings: &Settings, remember: Option<bool>) -> bool {
    match settings.session_remember {
        RememberMe::Always => false,
        RememberMe::Never => true,
        RememberMe::Ask => !remember.unwrap_or(false),
    }
}

/// Whether `settings` cap sessions per user and what to do at the cap.
pub(crate) fn cap(settings: &Settings) -> Option<(usize, MaxSessionsPolicy)> {
    settings
        .session_max_per_user
        .map(|max| (max, settings.session_max_policy))
}

/// Of a user's other sessions, the ones a new login must end to stay
/// within `max`, least recently active first; empty when there is room.
pub(crate) fn over_cap(mut others: Vec<Record>, max: usize) -> Vec<Record> {
    // The new login takes one place.
    let excess = (others.len() + 1).saturating_sub(max);
    if excess == 0 {
        return Vec::new();
    }
    others.sort_by_key(|record| {
        SessionMetadata::times_in(&record.data)
            .map_or((i64::MIN, i64::MIN), |t| (t.seen, t.created))
    });
    others.truncate(excess);
    others
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(created: i64, seen: i64) -> Times {
        Times {
            created,
            seen,
            authed: created,
            browser: false,
        }
    }

    #[test]
    fn without_timeouts_sessions_only_touch() {
        let settings = Settings::default();
        assert_eq!(
            verdict(&Lifetime::of(&settings), times(0, 0), 10),
            Verdict::Fresh
        );
        assert_eq!(
            verdict(&Lifetime::of(&settings), times(0, 0), 60),
            Verdict::Touch
        );
        assert_eq!(
            verdict(&Lifetime::of(&settings), times(0, 0), 10_000_000),
            Verdict::Touch
        );
    }

    #[test]
    fn idle_and_absolute_timeouts_end_sessions() {
        let settings = Settings {
            session_idle_timeout: Some(Duration::from_secs(1800)),
            session_absolute_timeout: Some(Duration::from_secs(8 * 3600)),
            ..Settings::default()
        };
        assert_eq!(
            verdict(&Lifetime::of(&settings), times(0, 0), 1800),
            Verdict::Touch
        );
        assert_eq!(
            verdict(&Lifetime::of(&settings), times(0, 0), 1801),
            Verdict::Expired
        );
        // Active every minute: alive until the absolute timeout.
        assert_eq!(
            verdict(&Lifetime::of(&settings), times(0, 8 * 3600 - 60), 8 * 3600),
            Verdict::Touch
        );
        assert_eq!(
            verdict(&Lifetime::of(&settings), times(0, 8 * 3600), 8 * 3600 + 1),
            Verdict::Expired
        );
    }

    #[test]
    fn browser_sessions_live_twelve_idle_hours_without_an_idle_timeout() {
        let settings = Settings::default();
        let browser = Times {
            browser: true,
            ..times(0, 0)
        };
        assert_eq!(
            verdict(&Lifetime::of(&settings), browser, 12 * 3600),
            Verdict::Touch
        );
        assert_eq!(
            verdict(&Lifetime::of(&settings), browser, 12 * 3600 + 1),
            Verdict::Expired
        );
    }

    #[test]
    fn remember_me_follows_the_setting() {
        let mut settings = Settings::default();
        assert!(!browser_session(&settings, None));
        assert!(!browser_session(&settings, Some(false)));
        settings.session_remember = RememberMe::Never;
        assert!(browser_session(&settings, Some(true)));
        settings.session_remember = RememberMe::Ask;
        assert!(browser_session(&settings, None));
        assert!(browser_session(&settings, Some(false)));
        assert!(!browser_session(&settings, Some(true)));
    }

    #[test]
    fn the_least_recently_active_sessions_make_room() {
        let record = |seen: i64| {
            let metadata = SessionMetadata {
                created: 0,
                seen,
                authed: 0,
                ..SessionMetadata::default()
            };
            Record {
                id: tower_sessions::session::Id::default(),
                data: [(
                    crate::session::metadata::METADATA_KEY.to_owned(),
                    serde_json::to_value(metadata).unwrap(),
                )]
                .into(),
                expiry_date: time::OffsetDateTime::now_utc(),
            }
        };
        let others = vec![record(30), record(10), record(20)];
        assert!(over_cap(others.clone(), 4).is_empty());
        let ended: Vec<i64> = over_cap(others.clone(), 3)
            .iter()
            .map(|r| SessionMetadata::times_in(&r.data).unwrap().seen)
            .collect();
        assert_eq!(ended, [10]);
        assert_eq!(over_cap(others, 1).len(), 3);
    }
}
