//! The tower wiring (Django's `MIDDLEWARE` list for auth): [`AuthLayer`],
//! from [`Auth::layer`], runs sessions, then the CSRF check, then puts the
//! per-request auth state in the request, and adds the CSRF cookie and the
//! cache headers to the response.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, Request, StatusCode, header};
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions::{
    SessionManagerLayer,
    cookie::{Cookie, SameSite as CookieSameSite},
};

use crate::{
    Auth, AuthUser, Settings,
    app::Core,
    csrf,
    http::body,
    http::host,
    http::html::error_page,
    http::security,
    session::fault::{StoreFault, watch},
    session::request::RequestAuth,
    session::store::DynStore,
    settings::SameSite,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<U: AuthUser> Auth<U> {
    /// The layer that gives every route it wraps sessions (stored in this
    /// database, or Redis), CSRF protection and the current user.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(self.core.clone())
    }
}

fn cookie_same_site(same_site: SameSite) -> CookieSameSite {
    match same_site {
        SameSite::Lax => CookieSameSite::Lax,
        SameSite::Strict => CookieSameSite::Strict,
        SameSite::None => CookieSameSite::None,
    }
}

/// Sessions, CSRF protection and the current user, for every route it
/// wraps. Made by [`Auth::layer`].
#[derive(Clone)]
pub struct AuthLayer {
    core: Arc<Core>,
    sessions: SessionManagerLayer<DynStore>,
}

impl std::fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer").finish_non_exhaustive()
    }
}

impl AuthLayer {
    fn new(core: Arc<Core>) -> Self {
        let s = &core.settings;
        let expiry = if s.session_expire_at_browser_close {
            tower_sessions::Expiry::OnSessionEnd
        } else {
            let age = i64::try_from(s.session_cookie_age).unwrap_or(i64::MAX);
            tower_sessions::Expiry::OnInactivity(time::Duration::seconds(age))
        };
        let mut sessions = SessionManagerLayer::new(core.sessions.clone())
            .with_name(s.session_cookie_name.clone())
            .with_http_only(s.session_cookie_httponly)
            .with_same_site(cookie_same_site(s.session_cookie_samesite))
            .with_secure(s.session_cookie_secure)
            .with_path(s.session_cookie_path.clone())
            .with_always_save(s.session_save_every_request)
            .with_expiry(expiry);
        if let Some(domain) = &s.session_cookie_domain {
            sessions = sessions.with_domain(domain.clone());
        }
        AuthLayer { core, sessions }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = FaultService<<SessionManagerLayer<DynStore> as Layer<AuthService<S>>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        let auth = AuthService {
            inner,
            core: self.core.clone(),
        };
        FaultService {
            inner: self.sessions.layer(auth),
            core: self.core.clone(),
        }
    }
}

/// The outermost service of [`AuthLayer`]: refuses hosts not in
/// `AUTH_ALLOWED_HOSTS` with a 400, turns a failed session save (a
/// bare 500 from tower-sessions) into a clear page (503 when the store is
/// down, 400 when the session was deleted while in use), reads what a
/// refused request left of its body before answering, and adds the
/// security headers to every response.
#[derive(Clone)]
pub struct FaultService<S> {
    inner: S,
    core: Arc<Core>,
}

impl<S> std::fmt::Debug for FaultService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultService").finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for FaultService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let core = self.core.clone();
        Box::pin(async move {
            let (mut req, leftover) = body::track(req);
            let request_host = host::request_host(&req);
            let allowed = !host::has_several_hosts(&req)
                && host::is_allowed(request_host.as_deref(), &core.settings.allowed_hosts);
            let mut response = if allowed {
                // Parsed once: the auth service reads it too.
                req.extensions_mut().insert(RequestHost(request_host));
                let (response, fault) = watch(inner.call(req)).await;
                explain_fault(response?, fault)
            } else {
                disallowed_host(&req)
            };
            if let Some(leftover) = leftover
                && !Box::pin(leftover.drain(core.settings.database_timeout)).await
            {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            security::add_headers(&mut response, &core.security_headers);
            Ok(response)
        })
    }
}

/// The request's host, as the outer service parsed it.
#[derive(Clone)]
struct RequestHost(Option<String>);

/// Django's `DisallowedHost` (a host not allowed, or two `Host` headers):
/// a 400, logged, before anything else runs.
fn disallowed_host(req: &Request<Body>) -> Response {
    let host: Vec<String> = req
        .headers()
        .get_all(header::HOST)
        .iter()
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .collect();
    tracing::warn!(
        host = ?host,
        "refused a request for a host not in AUTH_ALLOWED_HOSTS (or with several Host headers)"
    );
    error_page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "This site does not serve that host.",
    )
}

/// The page for a failed session save: tower-sessions answers a bare 500.
fn explain_fault(response: Response, fault: Option<StoreFault>) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    match fault {
        Some(StoreFault::Unavailable) => {
            tracing::error!("the session store is unavailable");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The site cannot reach its session store right now. Please try again in a moment.",
            )
        }
        Some(StoreFault::Interrupted) => error_page(
            StatusCode::BAD_REQUEST,
            "Session interrupted",
            "Your session was ended by another request (for example a logout in another tab). \
             Please log in again.",
        ),
        None => response,
    }
}

/// The inner service of [`AuthLayer`]: CSRF checks and per-request auth
/// state.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    core: Arc<Core>,
}

impl<S> std::fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let core = self.core.clone();
        Box::pin(async move {
            let Some(session) = req.extensions().get::<tower_sessions::Session>().cloned() else {
                return Ok(crate::Error::Config("session layer missing".into()).into_response());
            };
            let settings = &core.settings;
            let csrf_cookie = read_cookie(req.headers(), &settings.csrf_cookie_name);
            let host = match req.extensions_mut().remove::<RequestHost>() {
                Some(RequestHost(host)) => host,
                None => host::request_host(&req),
            };
            let scheme = request_scheme(&req, settings);
            let uri = req.uri().clone();
            let peer = req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip());
            let client_ip = crate::http::client::client_ip(
                req.headers(),
                peer,
                settings.trusted_proxy_header.as_deref(),
                settings.trusted_proxy_count,
            );
            let request = Arc::new(RequestAuth::new(
                core.clone(),
                session,
                csrf_cookie,
                (host, scheme),
                uri,
                client_ip,
            ));
            req.extensions_mut().insert(request.clone());

            if csrf::token::is_unsafe(req.method()) {
                // Boxed: the check's state stays out of every safe request's
                // future (which is moved into a box per request).
                match Box::pin(csrf::middleware::check(req, &request, settings)).await {
                    Ok(checked) => req = checked,
                    Err(response) => return Ok(finish(response, &request)),
                }
            }
            let response = crate::session::request::scope(request.clone(), inner.call(req)).await?;
            Ok(finish(response, &request))
        })
    }
}

/// Adds the CSRF cookie and cache headers to a response.
fn finish(mut response: Response, request: &RequestAuth) -> Response {
    let settings = &request.core.settings;
    let headers = response.headers_mut();
    // Room for these and the security headers, grown once.
    headers.reserve(8);
    if let Some(secret) = request.csrf_cookie_to_send() {
        let cookie = Cookie::build((settings.csrf_cookie_name.clone(), secret))
            .path("/")
            .max_age(time::Duration::seconds(
                i64::try_from(settings.csrf_cookie_age).unwrap_or(i64::MAX),
            ))
            .same_site(cookie_same_site(settings.csrf_cookie_samesite))
            .secure(settings.csrf_cookie_secure)
            .http_only(settings.csrf_cookie_httponly)
            .build();
        if let Ok(value) = HeaderValue::try_from(cookie.to_string()) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    if let Some(authenticated) = request.user_state() {
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
        if authenticated && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
        }
    }
    response
}

/// The request's scheme when it is known: from the URI (absolute-form
/// requests), or `https`/`http` from `SECURE_PROXY_SSL_HEADER` when set.
fn request_scheme(req: &Request<Body>, settings: &Settings) -> Option<&'static str> {
    match req.uri().scheme_str() {
        Some("https") => return Some("https"),
        Some("http") => return Some("http"),
        _ => {}
    }
    let (name, expected) = settings.secure_proxy_ssl_header.as_ref()?;
    let secure = req
        .headers()
        .get(name.as_str())
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case(expected));
    Some(if secure { "https" } else { "http" })
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn read_cookie(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value_trimmed().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; csrftoken=abc; b=2"),
        );
        assert_eq!(read_cookie(&headers, "csrftoken").as_deref(), Some("abc"));
        assert_eq!(read_cookie(&headers, "missing"), None);
    }
}
