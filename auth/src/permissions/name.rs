//! A permission's name: [`Permission`], what [`permissions!`](crate::permissions!)
//! declares, and [`PermissionName`], anything that names one
//! (`"app_label.codename"`).

use std::{borrow::Cow, fmt};

/// A permission, as [`permissions!`](crate::permissions!) declares it: the
/// name a compiler can check. Anything that names a permission also takes
/// `"app_label.codename"` (see [`PermissionName`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission {
    app_label: &'static str,
    codename: &'static str,
    name: &'static str,
}

impl Permission {
    /// A permission `app_label.codename`, described by `name` ("Can view
    /// reports").
    pub const fn new(app_label: &'static str, codename: &'static str, name: &'static str) -> Self {
        Permission {
            app_label,
            codename,
            name,
        }
    }

    /// The app label (`accounts`).
    pub fn app_label(&self) -> &'static str {
        self.app_label
    }

    /// The codename (`view_report`).
    pub fn codename(&self) -> &'static str {
        self.codename
    }

    /// The description (`Can view reports`).
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.app_label, self.codename)
    }
}

/// What names a permission: a [`Permission`] constant, or the string
/// `"app_label.codename"` (Django's form).
#[diagnostic::on_unimplemented(
    message = "a permission is named by \"app_label.codename\" or a constant declared with `auth::permissions!`",
    label = "this is a `{Self}`"
)]
pub trait PermissionName {
    /// `app_label.codename`.
    fn permission_name(&self) -> Cow<'_, str>;
}

impl PermissionName for Permission {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PermissionName for &Permission {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PermissionName for str {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PermissionName for &str {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PermissionName for String {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

/// Splits `app_label.codename`; `None` for another shape.
pub(crate) fn split_name(name: &str) -> Option<(&str, &str)> {
    let (app, codename) = name.split_once('.')?;
    (!app.is_empty() && !codename.is_empty() && !codename.contains('.')).then_some((app, codename))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_app_and_codename() {
        assert_eq!(
            split_name("accounts.view_report"),
            Some(("accounts", "view_report"))
        );
        for bad in ["", "accounts", ".view", "accounts.", "a.b.c"] {
            assert_eq!(split_name(bad), None, "{bad:?}");
        }
    }
}
