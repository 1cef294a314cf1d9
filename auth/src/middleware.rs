//! The tower wiring (Django's `MIDDLEWARE` list for auth): [`AuthLayer`],
//! from [`Auth::layer`], runs for every request, in order, the host check
//! (`http::host`), the session (`session::cookie`), the request's auth
//! state, the CSRF check (`csrf`), the handler, the app's own 403 or 404
//! page (`templates::errors`), then the session's save and cookie, the
//! CSRF cookie, the cache headers and the security
//! headers. Each step is its concept's; this file only wires them.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use axum::{body::Body, response::Response};
use http::{HeaderValue, Request, StatusCode, header};
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    app::Auth,
    apps::Shared,
    csrf,
    http::origin::Origin,
    http::{body, client, cookies, host, security, take_ready},
    kernel::future::BoxFuture,
    login::request::RequestAuth,
    settings::Settings,
    templates,
    user::AuthUser,
};

impl<U: AuthUser> Auth<U> {
    /// The layer that gives every route it wraps sessions (stored in this
    /// database, or Redis), CSRF protection and the current user. Add it
    /// after the routes it covers: axum applies a layer to the routes
    /// added before it.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer {
            shared: self.shared.clone(),
        }
    }
}

/// Sessions, CSRF protection and the current user, for every route it
/// wraps. Made by [`Auth::layer`].
#[derive(Clone)]
pub struct AuthLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`AuthLayer`], for code that names its stack's types
/// (tower-sessions' `SessionManager`): the inner service with sessions,
/// CSRF protection and the current user in front.
///
/// ```
/// use tower_layer::Layer;
///
/// #[derive(Clone, Debug, auth::AuthUser)]
/// pub struct User {
///     #[auth(base)]
///     pub base: auth::AbstractUser,
/// }
///
/// fn wrap(auth: &auth::Auth<User>, app: axum::Router) -> auth::AuthService<axum::Router> {
///     auth.layer().layer(app)
/// }
/// # fn main() {}
/// ```
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for AuthService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let shared = self.shared.clone();
        let (req, leftover) = body::track(req);
        let request_host = match host::check(&req, &shared.settings.allowed_hosts) {
            Ok(request_host) => request_host,
            Err(refused) => {
                return Box::pin(async move { Ok(finish(&shared, refused, leftover).await) });
            }
        };
        let (req, request, had_cookie) = begin(&shared, req, request_host);
        if csrf::token::is_unsafe(req.method()) {
            let mut inner = take_ready(&mut self.inner);
            Box::pin(async move {
                let checked =
                    csrf::middleware::check(req, &request.csrf, &request.origin, &shared.settings)
                        .await;
                let response = match checked {
                    Ok(checked) => inner.call(checked).await?,
                    Err(refused) => refused,
                };
                let response = complete(&shared, &request, had_cookie, response).await;
                Ok(finish(&shared, response, leftover).await)
            })
        } else {
            // Nothing before the handler waits on a safe request: the
            // service `poll_ready` readied is called now, with no clone of
            // it moved into the future.
            let handled = self.inner.call(req);
            Box::pin(async move {
                let response = complete(&shared, &request, had_cookie, handled.await?).await;
                Ok(finish(&shared, response, leftover).await)
            })
        }
    }
}

/// A request for an allowed host, before its handler: its session and
/// auth state, in its extensions. Returns them, and whether the request
/// came with a session cookie.
fn begin(
    shared: &Arc<Shared>,
    mut req: Request<Body>,
    request_host: Option<String>,
) -> (Request<Body>, Arc<RequestAuth>, bool) {
    let settings = &shared.settings;
    let sessions = &shared.sessions;
    let [session_cookie, csrf_cookie] = cookies::find(
        req.headers(),
        [&sessions.cookie.name, &settings.csrf_cookie_name],
    );
    let had_cookie = session_cookie.is_some();
    let session = sessions.cookie.open(session_cookie, sessions.store.clone());
    let unsafe_method = csrf::token::is_unsafe(req.method());
    let origin = Origin {
        host: request_host,
        scheme: request_scheme(&req, settings),
        uri: req.uri().clone(),
        client_ip: client::client_ip(
            req.headers(),
            req.extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
            settings.trusted_proxy_header.as_deref(),
            settings.trusted_proxy_count,
        ),
        // Read for what can log in (a form's POST), not for every page.
        user_agent: unsafe_method
            .then(|| req.headers().get(header::USER_AGENT).cloned())
            .flatten(),
        device: unsafe_method
            .then(|| {
                let [device] = cookies::find(req.headers(), [&settings.device_cookie_name]);
                device.map(str::to_owned)
            })
            .flatten(),
    };
    if origin.client_ip.is_none() {
        shared.observed.no_address(settings);
    }
    let request = Arc::new(RequestAuth::new(
        shared.clone(),
        session.clone(),
        csrf::state::CsrfState::from_cookie(csrf_cookie),
        origin,
    ));
    req.extensions_mut().insert(request.clone());
    req.extensions_mut().insert(session);
    (req, request, had_cookie)
}

/// The handler's response, made what the request's auth state requires:
/// the app's own 403 or 404 page, the session saved and its cookie, the
/// CSRF cookie, and the cache headers.
async fn complete(
    shared: &Arc<Shared>,
    request: &Arc<RequestAuth>,
    had_cookie: bool,
    mut response: Response,
) -> Response {
    if matches!(
        response.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ) {
        response = Box::pin(templates::errors::apply(request, response)).await;
    }
    let user_state = request.user_state();
    // Room for every header added from here on, and for the
    // `Content-Length` axum adds after the layer, while the map holds only
    // the handler's: grown at most once and early (cheap), and not at all
    // when the response stays within a map's first block of six.
    let adding = usize::from(request.session.is_modified())
        + usize::from(request.csrf.sends_cookie())
        + usize::from(user_state.is_some())
        + usize::from(user_state == Some(true))
        + shared.security_headers.count(response.headers())
        + 1;
    response.headers_mut().reserve(adding);
    shared
        .sessions
        .cookie
        .commit(&request.session, had_cookie, &mut response)
        .await;
    let headers = response.headers_mut();
    csrf::cookie::commit(&request.csrf, &shared.settings, headers);
    if let Some(device) = request.device_cookie() {
        device_cookie(shared, device, headers);
    }
    if let Some(authenticated) = user_state {
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
        if authenticated && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
        }
    }
    response
}

/// Appends the `Set-Cookie` of the login throttle's device cookie.
fn device_cookie(shared: &Shared, value: &str, headers: &mut http::HeaderMap) {
    let settings = &shared.settings;
    let age = shared.devices.age().unwrap_or_default();
    let age = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
    let cookie = cookie::Cookie::build((settings.device_cookie_name.as_str(), value))
        .path("/")
        .max_age(time::Duration::seconds(age))
        .same_site(cookie::SameSite::Lax)
        .secure(settings.session_cookie_secure)
        .http_only(true)
        .build();
    if let Ok(value) = HeaderValue::try_from(cookie.to_string()) {
        headers.append(header::SET_COOKIE, value);
    }
}

/// What every response gets, refused or served: the unread body drained
/// (or the connection closed), and the security headers.
async fn finish(
    shared: &Shared,
    mut response: Response,
    leftover: Option<body::Leftover>,
) -> Response {
    if let Some(leftover) = leftover
        && !Box::pin(leftover.drain(shared.settings.database_timeout)).await
    {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    security::add_headers(&mut response, &shared.security_headers);
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
