//! The built-in views `auth_urls!` knows, and the options each takes.

use syn::Ident;

/// A built-in view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ViewKind {
    Login,
    Logout,
    PasswordChange,
    PasswordChangeDone,
    PasswordReset,
    PasswordResetDone,
    PasswordResetConfirm,
    PasswordResetComplete,
}

/// The type of an option's value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionKind {
    Str,
    Bool,
}

impl ViewKind {
    pub(crate) const ALL: [ViewKind; 8] = [
        ViewKind::Login,
        ViewKind::Logout,
        ViewKind::PasswordChange,
        ViewKind::PasswordChangeDone,
        ViewKind::PasswordReset,
        ViewKind::PasswordResetDone,
        ViewKind::PasswordResetConfirm,
        ViewKind::PasswordResetComplete,
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
            ViewKind::PasswordReset => "PasswordResetView",
            ViewKind::PasswordResetDone => "PasswordResetDoneView",
            ViewKind::PasswordResetConfirm => "PasswordResetConfirmView",
            ViewKind::PasswordResetComplete => "PasswordResetCompleteView",
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
            ViewKind::PasswordReset => &[
                ("template_name", OptionKind::Str),
                ("email_template_name", OptionKind::Str),
                ("subject_template_name", OptionKind::Str),
                ("success_url", OptionKind::Str),
                ("from_email", OptionKind::Str),
            ],
            ViewKind::PasswordResetConfirm => &[
                ("template_name", OptionKind::Str),
                ("success_url", OptionKind::Str),
                ("post_reset_login", OptionKind::Bool),
            ],
            ViewKind::PasswordChangeDone
            | ViewKind::PasswordResetDone
            | ViewKind::PasswordResetComplete => &[("template_name", OptionKind::Str)],
        }
    }

    /// The path parameters it needs (`<uidb64>`, `<token>`); no other view
    /// takes any.
    pub(crate) fn parameters(self) -> &'static [&'static str] {
        match self {
            ViewKind::PasswordResetConfirm => &["uidb64", "token"],
            _ => &[],
        }
    }

    /// The view whose route it must know (the reset form links to the
    /// confirm view).
    pub(crate) fn links_to(self) -> Option<ViewKind> {
        match self {
            ViewKind::PasswordReset => Some(ViewKind::PasswordResetConfirm),
            _ => None,
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
            ViewKind::PasswordReset => Some(ViewKind::PasswordResetDone),
            ViewKind::PasswordResetConfirm => Some(ViewKind::PasswordResetComplete),
            _ => None,
        }
    }
}
