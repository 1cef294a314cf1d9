//! The built-in views, declared once: for each, its docs, the methods it
//! answers, what `auth_urls!` must know of it (the login page it needs,
//! the view it goes to after success, the view it links to, its path
//! parameters) and its options (Django's view attributes), each with its
//! type, default and docs.
//!
//! Two readers take this table: [`define_views!`] below makes each view's
//! struct, `Default`, builder methods and route; `auth_urls!` (through
//! `auth::__private::views!`) checks the views and options an app writes
//! against it, so both always agree.
//!
//! Option types: `text` (`Cow<'static, str>`), `optional_text`
//! (`Option<Cow<'static, str>>`) and `flag` (`bool`). An option marked
//! `(filled)` is set by `auth_urls!` from the other declared routes and
//! cannot be written there.

/// The table, handed to `$callback!` (with `$args` first).
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views {
    ($callback:path $(, $($args:tt)*)?) => {
        $callback! {
            $($($args)*)?

            /// Shows the login form (GET) and logs the user in (POST),
            /// through [`auth::authenticate`](crate::authenticate) and
            /// [`auth::stage_login`](crate::stage_login): a user with a
            /// second factor (or who must set one up) goes to that step.
            ///
            /// A successful POST redirects (303) to the safe `next` (form
            /// first, then query string), else `next_page`, else
            /// `settings.login_redirect_url`. Invalid credentials re-render
            /// the form with 200 and [`INVALID_LOGIN`](crate::views::INVALID_LOGIN);
            /// too many failures for the username or the client re-render
            /// it with 429 and "Too many failed login attempts. Try again
            /// later.", without checking the password. PUT is treated as
            /// POST, as Django's `FormView` does.
            LoginView [GET, HEAD, POST, PUT] {
                /// The template to render.
                template_name: text = "registration/login.html",
                /// Where to go after login when there is no safe `next`.
                next_page: optional_text = None,
                /// Send users who are already logged in straight to the
                /// success URL.
                redirect_authenticated_user: flag = false,
            }

            /// Logs out on POST (Django's `LogoutView`, POST only since
            /// Django 5.0), then redirects (303) to the safe `next`, else
            /// `next_page`, else `settings.logout_redirect_url`; without
            /// any of them it renders the "Logged out" page. GET is 405,
            /// so a cross-site image cannot log anyone out; OPTIONS lists
            /// the methods.
            LogoutView [POST, OPTIONS] {
                /// The "Logged out" template.
                template_name: text = "registration/logged_out.html",
                /// Where to go after logout when there is no safe `next`.
                next_page: optional_text = None,
            }

            /// Lets a logged-in user change their password: `old_password`,
            /// `new_password1`, `new_password2`, checked with Django's
            /// messages and the password validators. On success this
            /// session stays logged in (with a new id), every other session
            /// of the user ends, and the response redirects (303) to
            /// `success_url`.
            PasswordChangeView [GET, HEAD, POST] needs_login success(PasswordChangeDoneView) {
                /// The form template.
                template_name: text = "registration/password_change_form.html",
                /// Where to go after a successful change.
                success_url: text = "/password_change/done/",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// The "password changed" page, for logged-in users.
            PasswordChangeDoneView [GET, HEAD] needs_login {
                /// The template.
                template_name: text = "registration/password_change_done.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// Asks for a password-reset link: a form with `email`; a valid
            /// POST redirects (303) to `success_url` whatever the address,
            /// and a message goes to every active user with that address and
            /// a usable password.
            PasswordResetView [GET, HEAD, POST] success(PasswordResetDoneView) links_to(PasswordResetConfirmView) {
                /// The form template.
                template_name: text = "registration/password_reset_form.html",
                /// The message body's template (`protocol`, `domain`,
                /// `site_name`, `uid`, `token`, `reset_path`, `user`, `email`).
                email_template_name: text = "registration/password_reset_email.html",
                /// The subject's template (its lines are joined into one).
                subject_template_name: text = "registration/password_reset_subject.txt",
                /// Where a valid request goes.
                success_url: text = "/password_reset/done/",
                /// The sender (default `settings.default_from_email`).
                from_email: optional_text = None,
                /// The route of the confirm view, with `<uidb64>` and
                /// `<token>` segments.
                confirm_url: text = "/reset/<uidb64>/<token>/" (filled),
            }

            /// The "check your email" page.
            PasswordResetDoneView [GET, HEAD] {
                /// The template.
                template_name: text = "registration/password_reset_done.html",
            }

            /// Sets a new password from a reset link. Mount it on a path
            /// with `<uidb64>` and `<token>` segments (`auth_urls!` turns
            /// them into route parameters): `/reset/<uidb64>/<token>/`.
            PasswordResetConfirmView [GET, HEAD, POST] success(PasswordResetCompleteView) parameters(uidb64, token) {
                /// The template (`validlink`, `form`, `title`).
                template_name: text = "registration/password_reset_confirm.html",
                /// Where a successful reset goes.
                success_url: text = "/reset/done/",
                /// Log the user in after a successful reset (through the
                /// login's stages: a user with a second factor is sent to
                /// it instead).
                post_reset_login: flag = false,
            }

            /// The "your password is set" page.
            PasswordResetCompleteView [GET, HEAD] {
                /// The template (`login_url`, `title`).
                template_name: text = "registration/password_reset_complete.html",
            }

            /// The sessions the logged-in user is logged in on, newest
            /// activity first (see [`sessions`](crate::sessions)): device,
            /// address, login time, last seen, "this session". A POST
            /// with `session` (a listed handle) ends that session; one with
            /// `action=end_all_other` ends every other one. Both need a
            /// recent authentication (`AUTH_REAUTHENTICATION_TIMEOUT`;
            /// declare a [`ReauthenticateView`]); a handle that is not one
            /// of the user's sessions is a 404.
            SessionListView [GET, HEAD, POST] needs_login {
                /// The template (`sessions`, `title`).
                template_name: text = "auth/sessions.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// Asks the logged-in user for their password again (a
            /// `password` field, and `next`), then returns to the safe
            /// `next`, else `settings.login_redirect_url`. Failures count
            /// against the login throttle; past it, a 429.
            ReauthenticateView [GET, HEAD, POST] needs_login {
                /// The form template.
                template_name: text = "auth/reauthenticate.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// The second step of a two-factor login: after a correct
            /// password, `LoginView` sends a user with a second factor
            /// here, with the session in a pending state that every guard
            /// sees as anonymous (`AUTH_MFA_LOGIN_TIMEOUT`, 300 s). A
            /// `code` field takes a TOTP code or a recovery code; a right
            /// one completes the login (as [`login`](crate::login)) and
            /// redirects (303) to the safe `next`, else
            /// `settings.login_redirect_url`. Wrong codes count against
            /// the login throttle (past it, a 429); without a pending
            /// login, the page redirects to the login page.
            MfaAuthenticateView [GET, HEAD, POST] {
                /// The form template.
                template_name: text = "mfa/authenticate.html",
            }

            /// The logged-in user's second factors: whether TOTP is on,
            /// how many recovery codes are left, and links to change them.
            MfaIndexView [GET, HEAD] needs_login {
                /// The template (`totp_active`, `recovery_codes_left`,
                /// `recovery_codes_total`, the views' paths).
                template_name: text = "mfa/index.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// Turns TOTP on: GET shows a new secret as a QR code (inline
            /// SVG) and as text (`id="totp-secret"`), and a `code` field;
            /// a POST with the secret's current code activates it, ends
            /// the user's other sessions and, the first time, shows the
            /// new recovery codes (303 to [`RecoveryCodesView`]). Needs a
            /// recent authentication (declare a [`ReauthenticateView`]).
            TotpActivateView [GET, HEAD, POST] needs_login {
                /// The template (`secret`, `qr_code`, `form`).
                template_name: text = "mfa/totp_activate.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// Turns TOTP off (POST; GET asks to confirm), with the
            /// recovery codes when no other factor is left, and ends the
            /// user's other sessions. Needs a recent authentication.
            TotpDeactivateView [GET, HEAD, POST] needs_login {
                /// The confirmation template.
                template_name: text = "mfa/totp_deactivate.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// The user's passkeys (WebAuthn): a list with each one's
            /// name, when it was added and last used, and forms to rename
            /// (`action=rename`, `passkey`, `name`) and remove
            /// (`action=remove`, `passkey`) it; "Add a passkey" asks the
            /// browser for a new one (`action=add`, `credential`, `name`).
            /// The relying party is `AUTH_SITE_URL` (the app does not
            /// start without it when this view is declared). Every change
            /// needs a recent authentication and ends the user's other
            /// sessions; the first passkey also makes recovery codes.
            PasskeysView [GET, HEAD, POST] needs_login {
                /// The template (`passkeys`, `form`).
                template_name: text = "mfa/passkeys.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// The recovery codes: right after they were made, the codes
            /// themselves in a list (`id="recovery-codes"`), shown once;
            /// otherwise how many are left. A POST makes a new set
            /// (the old one stops working), shows it, and ends the user's
            /// other sessions. Needs a recent authentication.
            RecoveryCodesView [GET, HEAD, POST] needs_login {
                /// The template (`codes`, `left`, `total`).
                template_name: text = "mfa/recovery_codes.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }
        }
    };
}

/// Makes each view of the table: the struct, `Default` (Django's
/// defaults), `new`, one builder method per option, `into_route`, and the
/// methods it answers.
macro_rules! define_views {
    ($(
        $(#[doc = $doc:literal])*
        $view:ident [$($method:ident),*]
            $(needs_login)?
            $(success($success:ident))?
            $(links_to($link:ident))?
            $(parameters($($parameter:ident),*))?
        {$(
            $(#[doc = $option_doc:literal])*
            $option:ident: $kind:ident = $default:tt $(($filled:ident))?,
        )*}
    )*) => {$(
        $(#[doc = $doc])*
        #[derive(Clone, Debug)]
        pub struct $view {
            $(pub(super) $option: define_views!(@type $kind),)*
        }

        impl Default for $view {
            fn default() -> Self {
                $view {
                    $($option: define_views!(@value $kind, $default),)*
                }
            }
        }

        impl $view {
            /// With Django's defaults.
            pub fn new() -> Self {
                Self::default()
            }

            $(
                $(#[doc = $option_doc])*
                pub fn $option(mut self, value: define_views!(@argument $kind)) -> Self {
                    self.$option = define_views!(@value $kind, value);
                    self
                }
            )*

            /// The route (`auth_urls!` mounts it): the methods above,
            /// others answered with 405.
            pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> axum::routing::MethodRouter<S> {
                super::route(self)
            }
        }

        impl super::Methods for $view {
            const METHODS: &'static [http::Method] = &[$(http::Method::$method),*];
        }
    )*};
    (@type text) => { std::borrow::Cow<'static, str> };
    (@type optional_text) => { Option<std::borrow::Cow<'static, str>> };
    (@type flag) => { bool };
    (@argument text) => { impl Into<std::borrow::Cow<'static, str>> };
    (@argument optional_text) => { impl Into<std::borrow::Cow<'static, str>> };
    (@argument flag) => { bool };
    (@value text, $value:tt) => { $value.into() };
    (@value optional_text, None) => { None };
    (@value optional_text, $value:tt) => { Some($value.into()) };
    (@value flag, $value:tt) => { $value };
}

crate::__auth_views!(define_views);
