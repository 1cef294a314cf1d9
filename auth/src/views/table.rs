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
        $crate::__auth_views_core! { $crate::__auth_views_after_core { $callback, [$($($args)*)?], } }
    };
}

/// The core's views, handed to `$callback!` after `$prefix`: one link of
/// the chained table (see `lib.rs`), and what the runtime defines them
/// from.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_core {
    ($callback:path { $($prefix:tt)* }) => {
        $callback! {
            $($prefix)*

            /// Shows the login form (GET) and logs the user in (POST),
            /// through [`auth::authenticate`](crate::authenticate) and
            /// [`auth::stage_login`](crate::stage_login): a user with a
            /// second factor (or who must set one up) goes to that step.
            ///
            /// A successful POST redirects (303) to the safe `next` (form
            /// first, then query string), else `next_page`, else
            /// `settings.login_redirect_url`. Invalid credentials re-render
            /// the form with 200 and Django's "Please enter a correct
            /// username and password…";
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
        }
    };
}

/// Makes each view of a link of the table: the struct, `Default`
/// (Django's defaults), `new`, one builder method per option,
/// `into_route`, and the methods it answers. Each link's module invokes
/// it on its own views (`crate::__auth_views_core!(define_views {})`).
macro_rules! define_views {
    ($(
        $(#[doc = $doc:literal])*
        $view:ident $(module($module:ident))? [$($method:ident),*]
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
            $(pub(crate) $option: crate::views::table::define_views!(@type $kind),)*
        }

        impl Default for $view {
            fn default() -> Self {
                $view {
                    $($option: crate::views::table::define_views!(@value $kind, $default),)*
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
                pub fn $option(mut self, value: crate::views::table::define_views!(@argument $kind)) -> Self {
                    self.$option = crate::views::table::define_views!(@value $kind, value);
                    self
                }
            )*

            /// The route (`auth_urls!` mounts it): the methods above,
            /// others answered with 405.
            pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> axum::routing::MethodRouter<S> {
                crate::views::route(self)
            }
        }

        impl crate::views::Methods for $view {
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

pub(crate) use define_views;

crate::__auth_views_core!(define_views {});
