//! `SessionListView`: the sessions a user is logged in on, each with a
//! form that ends it (its options are in its link of the views' table,
//! below).

use axum::{body::Body, response::Response};
use http::{Method, Request, StatusCode};

use crate::{
    guards::reauth_required,
    http::{body::FormData, html::error_page},
    kernel::error::Result,
    login::Session,
    usersessions::{self as sessions, UserSession},
    views::{View, redirect, render, require_login, when},
};

/// The `action` of the "log out all other sessions" form.
const END_ALL_OTHER: &str = "end_all_other";

impl SessionListView {
    async fn respond(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        if let Err(redirect) = require_login(session, self.login_url.as_deref()).await? {
            return Ok(redirect);
        }
        if req.method() != Method::POST {
            return self.page(session).await;
        }
        let request = &session.request;
        let referer = req.headers().get(http::header::REFERER).cloned();
        if let Some(answer) =
            reauth_required::check(request, None, req.method(), referer.as_ref()).await
        {
            return Ok(answer);
        }
        let here = req.uri().path().to_owned();
        let data = match FormData::read(req, &request.shared.settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        if data.get("action") == Some(END_ALL_OTHER) {
            sessions::end_all_other(session).await?;
            return Ok(redirect(&here));
        }
        let Some(key) = data.get("session").filter(|key| !key.is_empty()) else {
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "Name the session to end.",
            ));
        };
        if !sessions::end(session, key).await? {
            return Ok(error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                "You have no such session.",
            ));
        }
        // Ending this very session logged it out: the list is gone too.
        let target = if request.user().await?.is_some() {
            here
        } else {
            request.shared.login_url().to_owned()
        };
        Ok(redirect(&target))
    }

    async fn page(&self, session: &Session) -> Result<Response> {
        let listed = sessions::list(session).await?;
        let others = listed.iter().filter(|s| !s.current).count();
        let listed: Vec<minijinja::Value> = listed.into_iter().map(session_value).collect();
        let context = minijinja::context! {
            title => "Your sessions",
            sessions => listed,
            other_sessions => others,
        };
        render(session, &self.template_name, context).await
    }
}

/// One session as the template sees it; times as `2026-12-03 14:55 UTC`.
fn session_value(session: UserSession) -> minijinja::Value {
    minijinja::context! {
        key => session.key,
        device => session.device,
        user_agent => session.user_agent,
        ip_address => session.ip_address,
        method => session.method,
        created => when(session.created),
        last_seen => when(session.last_seen),
        current => session.current,
    }
}

impl View for SessionListView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        self.respond(&session, req).await
    }
}

/// The session list (feature `user-sessions`): a link of the chained table of views (see `lib.rs`), handed
/// to `$callback!` after `$prefix`.
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_user_sessions {
    ($callback:path { $($prefix:tt)* }) => {
        $callback! {
            $($prefix)*

            /// The sessions the logged-in user is logged in on, newest
            /// activity first (see [`sessions`](crate::sessions)): device,
            /// address, login time, last seen, "this session". A POST
            /// with `session` (a listed handle) ends that session; one with
            /// `action=end_all_other` ends every other one. Both need a
            /// recent authentication (`AUTH_REAUTHENTICATION_TIMEOUT`;
            /// declare a
            /// [`ReauthenticateView`](crate::views::ReauthenticateView));
            /// a handle that is not one
            /// of the user's sessions is a 404.
            SessionListView module(sessions) [GET, HEAD, POST] needs_login {
                /// The template (`sessions`, `title`).
                template_name: text = "auth/sessions.html",
                /// Where anonymous users are sent (default: the app's login
                /// URL).
                login_url: optional_text = None (filled),
            }
        }
    };
}

crate::__auth_views_user_sessions!(crate::views::table::define_views {});

/// The session list's template, to register as a built-in.
pub(crate) const TEMPLATES: &[(&str, &str)] = &[(
    "auth/sessions.html",
    include_str!("../../templates/auth/sessions.html"),
)];
