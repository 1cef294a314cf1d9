//! The built-in views `auth_urls!` knows, and the options each takes.

use syn::Ident;

/// A built-in view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ViewKind {
    Login,
    Logout,
    PasswordChange,
    PasswordChangeDone,
}

/// The type of an option's value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionKind {
    Str,
    Bool,
}

impl ViewKind {
    pub(crate) const ALL: [ViewKind; 4] = [
        ViewKind::Login,
        ViewKind::Logout,
        ViewKind::PasswordChange,
        ViewKind::PasswordChangeDone,
    ];

    /// The view written as `ident`, if it is one.
    pub(crate) fn from_ident(ident: &Ident) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| ident == kind.name())
    }

    /// The type name in `auth::views`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ViewKind::Login => "LoginView",
            ViewKind::Logout => "LogoutView",
            ViewKind::PasswordChange => "PasswordChangeView",
            ViewKind::PasswordChangeDone => "PasswordChangeDoneView",
        }
    }

    /// The options it takes (Django's attributes of the same name).
    pub(crate) fn options(self) -> &'static [(&'static str, OptionKind)] {
        match self {
            ViewKind::Login => &[
                ("template_name", OptionKind::Str),
                ("next_page", OptionKind::Str),
                ("redirect_authenticated_user", OptionKind::Bool),
            ],
            ViewKind::Logout => &[
                ("template_name", OptionKind::Str),
                ("next_page", OptionKind::Str),
            ],
            ViewKind::PasswordChange => &[
                ("template_name", OptionKind::Str),
                ("success_url", OptionKind::Str),
            ],
            ViewKind::PasswordChangeDone => &[("template_name", OptionKind::Str)],
        }
    }

    /// Whether it sends anonymous users to the login page (and so needs to
    /// know where that is).
    pub(crate) fn needs_login(self) -> bool {
        matches!(
            self,
            ViewKind::PasswordChange | ViewKind::PasswordChangeDone
        )
    }

    /// The view it redirects to after success, when declared and not
    /// overridden with `success_url`.
    pub(crate) fn success_view(self) -> Option<ViewKind> {
        match self {
            ViewKind::PasswordChange => Some(ViewKind::PasswordChangeDone),
            _ => None,
        }
    }
}
