//! The two-factor views: the login's second step (`authenticate.rs`), the
//! factors' page (`index.rs`), TOTP on and off (`totp.rs`) and the
//! recovery codes (`recovery_codes.rs`); and here, what `LoginView` asks
//! after a correct password.

mod authenticate;
mod index;
#[cfg(feature = "passkeys")]
mod passkeys;
mod recovery_codes;
mod totp;

#[cfg(feature = "passkeys")]
pub(crate) use passkeys::PasskeyLogin;
#[cfg(feature = "passkeys")]
pub use passkeys::PasskeysView;

/// The two-factor views (feature `mfa`): a link of the chained table of views (see `lib.rs`), handed
/// to `$callback!` after `$prefix`.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_mfa {
    ($callback:path { $($prefix:tt)* }) => {
        $callback! {
            $($prefix)*

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
            MfaAuthenticateView module(mfa) [GET, HEAD, POST] {
                /// The form template.
                template_name: text = "mfa/authenticate.html",
            }

            /// The logged-in user's second factors: whether TOTP is on,
            /// how many recovery codes are left, and links to change them.
            MfaIndexView module(mfa) [GET, HEAD] needs_login {
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
            /// recent authentication (declare a
            /// [`ReauthenticateView`](crate::views::ReauthenticateView)).
            TotpActivateView module(mfa) [GET, HEAD, POST] needs_login {
                /// The template (`secret`, `qr_code`, `form`).
                template_name: text = "mfa/totp_activate.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// Turns TOTP off (POST; GET asks to confirm), with the
            /// recovery codes when no other factor is left, and ends the
            /// user's other sessions. Needs a recent authentication.
            TotpDeactivateView module(mfa) [GET, HEAD, POST] needs_login {
                /// The confirmation template.
                template_name: text = "mfa/totp_deactivate.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }

            /// The recovery codes: right after they were made, the codes
            /// themselves in a list (`id="recovery-codes"`), shown once;
            /// otherwise how many are left. A POST makes a new set
            /// (the old one stops working), shows it, and ends the user's
            /// other sessions. Needs a recent authentication.
            RecoveryCodesView module(mfa) [GET, HEAD, POST] needs_login {
                /// The template (`codes`, `left`, `total`).
                template_name: text = "mfa/recovery_codes.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }
        }
    };
}

crate::__auth_views_mfa!(crate::views::table::define_views {});

use axum::{body::Body, response::Response};
use http::Request;

pub(super) use crate::http::redirect::with_next;
pub(super) use crate::mfa::pending::{CONTINUE_KEY, NEW_CODES_KEY};
use crate::{guards::reauth_required, login::Session};

/// The re-authentication redirect, when this request's login is not
/// recent enough for a change to the factors.
fn needs_reauth<'a>(
    session: &'a Session,
    req: &Request<Body>,
) -> impl Future<Output = Option<Response>> + Send + 'a {
    let method = req.method().clone();
    let referer = req.headers().get(http::header::REFERER).cloned();
    async move { reauth_required::check(&session.request, None, &method, referer.as_ref()).await }
}
