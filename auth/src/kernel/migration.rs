//! What `migrate` did: the tables it created and the permissions it
//! added, so the command can say so, or that there was nothing to do.

use std::fmt;

/// The result of [`Auth::migrate`](crate::Auth::migrate).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Migration {
    /// The tables created, in name order.
    pub created_tables: Vec<String>,
    /// How many permissions were inserted.
    pub added_permissions: u64,
}

impl Migration {
    /// Whether nothing was created or added.
    pub fn is_empty(&self) -> bool {
        self.created_tables.is_empty() && self.added_permissions == 0
    }

    /// This migration followed by `later`.
    pub(crate) fn then(mut self, later: Migration) -> Migration {
        self.created_tables.extend(later.created_tables);
        self.created_tables.sort();
        self.created_tables.dedup();
        self.added_permissions += later.added_permissions;
        self
    }
}

/// "Created tables a, b. Added 6 permissions." or "No migrations to
/// apply." (Django's words for nothing to do).
impl fmt::Display for Migration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(
                f,
                "No migrations to apply: every table and permission exists."
            );
        }
        let mut said = Vec::new();
        if !self.created_tables.is_empty() {
            said.push(format!(
                "Created tables: {}.",
                self.created_tables.join(", ")
            ));
        }
        match self.added_permissions {
            0 => {}
            1 => said.push("Added 1 permission.".to_owned()),
            n => said.push(format!("Added {n} permissions.")),
        }
        write!(f, "{}", said.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_it_did_or_that_nothing_was_needed() {
        assert_eq!(
            Migration::default().to_string(),
            "No migrations to apply: every table and permission exists."
        );
        let first = Migration {
            created_tables: vec!["b".into(), "a".into()],
            added_permissions: 0,
        };
        let second = Migration {
            created_tables: vec![],
            added_permissions: 1,
        };
        assert_eq!(
            first.then(second).to_string(),
            "Created tables: a, b. Added 1 permission."
        );
    }
}
