//! [`MfaAdmin`] (`auth.mfa()`): every user's factors, for administration
//! and the `mfa` commands.

use time::OffsetDateTime;

use super::{RECOVERY_CODES, RecoveryState, store};
use crate::{apps::Shared, events::EventKind, kernel::error::Result};

/// One factor of a user, for administration ([`MfaAdmin::status`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FactorStatus {
    /// `totp` or `recovery_codes`.
    pub kind: String,
    /// When it was added.
    pub created: OffsetDateTime,
    /// When it last let the user in.
    pub last_used: Option<OffsetDateTime>,
    /// For recovery codes: how many are left, of how many.
    pub codes_left: Option<(usize, usize)>,
}

/// Every user's second factors, for administration: from
/// [`Auth::mfa`](crate::Auth::mfa).
pub struct MfaAdmin<'a> {
    pub(crate) shared: &'a std::sync::Arc<Shared>,
}

impl MfaAdmin<'_> {
    /// The factors of user `user_id`, oldest first (`mfa status`).
    pub async fn status(&self, user_id: i64) -> Result<Vec<FactorStatus>> {
        let shared = self.shared;
        let rows = shared
            .db
            .run(store::list(shared.db.conn(), user_id))
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| FactorStatus {
                codes_left: (row.kind == RECOVERY_CODES)
                    .then(|| serde_json::from_str::<RecoveryState>(&row.data).ok())
                    .flatten()
                    .map(|state| (state.codes.len(), state.total)),
                kind: row.kind,
                created: row.created_at,
                last_used: row.last_used_at,
            })
            .collect())
    }

    /// Removes every factor of user `user_id` and ends every session of
    /// theirs (`mfa reset`: an administrator helping a user who lost their
    /// device); how many factors were removed.
    pub async fn reset(&self, user_id: i64) -> Result<u64> {
        let shared = self.shared;
        let removed = shared
            .db
            .run(store::delete(shared.db.conn(), user_id, None))
            .await?;
        crate::login::registry::end_all_for(shared, user_id, crate::events::EndedBy::Admin).await?;
        if removed > 0 {
            let event = crate::events::Event::new(EventKind::MfaDisabled, shared.clock.now());
            // The audit log finds events by username: name the user.
            let mut event = match shared.users.get(user_id).await? {
                Some(user) => event.user(user_id, &user.base().username),
                None => crate::events::Event {
                    user_id: Some(user_id),
                    ..event
                },
            };
            event.backend = "all".into();
            shared.events.emit(event);
        }
        Ok(removed)
    }
}

impl<U> crate::app::Auth<U> {
    /// Every user's second factors, for administration: their state, and
    /// a reset for a user who lost their device (see [`mfa`](crate::mfa);
    /// feature `mfa`).
    pub fn mfa(&self) -> MfaAdmin<'_> {
        MfaAdmin {
            shared: &self.shared,
        }
    }
}
