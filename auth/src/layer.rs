//! The tower layers: [`AuthLayer`] (sessions, CSRF and the current user, from
//! [`Auth::layer`](crate::Auth::layer)) and [`LoginRequiredLayer`].

use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use async_trait::async_trait;
use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, Request, StatusCode, header};
use tower_layer::Layer;
use tower_service::Service;
use tower_sessions::{
    SessionManagerLayer, SessionStore,
    cookie::{Cookie, SameSite as CookieSameSite},
    session::{Id, Record},
    session_store,
};

use crate::{
    Settings, csrf,
    error::error_page,
    session::{RequestAuth, StoreFault, request::Shared, watch},
    settings::SameSite,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Any session store, behind one type so the layer's type does not depend
/// on the backend.
#[derive(Clone, Debug)]
pub struct DynStore(pub Arc<dyn SessionStore>);

#[async_trait]
impl SessionStore for DynStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
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
/// wraps. Made by [`Auth::layer`](crate::Auth::layer).
#[derive(Clone)]
pub struct AuthLayer {
    shared: Arc<Shared>,
    sessions: SessionManagerLayer<DynStore>,
}

impl std::fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer").finish_non_exhaustive()
    }
}

impl AuthLayer {
    pub(crate) fn new(shared: Arc<Shared>, store: DynStore) -> Self {
        let s = &shared.settings;
        let expiry = if s.session_expire_at_browser_close {
            tower_sessions::Expiry::OnSessionEnd
        } else {
            let age = i64::try_from(s.session_cookie_age).unwrap_or(i64::MAX);
            tower_sessions::Expiry::OnInactivity(time::Duration::seconds(age))
        };
        let mut sessions = SessionManagerLayer::new(store)
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
        AuthLayer { shared, sessions }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = FaultService<<SessionManagerLayer<DynStore> as Layer<AuthService<S>>>::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        let auth = AuthService {
            inner,
            shared: self.shared.clone(),
        };
        FaultService {
            inner: self.sessions.layer(auth),
        }
    }
}

/// Turns a failed session save (a bare 500 from tower-sessions) into a
/// clear page: 503 when the store is down, 400 when the session was
/// deleted while in use.
#[derive(Clone, Debug)]
pub struct FaultService<S> {
    inner: S,
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
        Box::pin(async move {
            let (response, fault) = watch(inner.call(req)).await;
            let response = response?;
            if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
                return Ok(response);
            }
            Ok(match fault {
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
            })
        })
    }
}

/// The inner service of [`AuthLayer`]: CSRF checks and per-request auth
/// state.
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
        let shared = self.shared.clone();
        Box::pin(async move {
            let Some(session) = req.extensions().get::<tower_sessions::Session>().cloned() else {
                return Ok(crate::Error::Config("session layer missing".into()).into_response());
            };
            let settings = &shared.settings;
            let csrf_cookie = read_cookie(req.headers(), &settings.csrf_cookie_name);
            let host = request_host(&req);
            let scheme = request_scheme(&req, settings);
            let uri = req.uri().clone();
            let request = Arc::new(RequestAuth::new(
                shared.clone(),
                session,
                csrf_cookie,
                host,
                scheme,
                uri,
            ));
            req.extensions_mut().insert(request.clone());

            if csrf::is_unsafe(req.method()) {
                match check_csrf(req, &request, settings).await {
                    Ok(checked) => req = checked,
                    Err(response) => return Ok(finish(response, &request)),
                }
            }
            let response = inner.call(req).await?;
            Ok(finish(response, &request))
        })
    }
}

/// Adds the CSRF cookie and cache headers to a response.
fn finish(mut response: Response, request: &RequestAuth) -> Response {
    let settings = &request.shared.settings;
    let headers = response.headers_mut();
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
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// The request's host (with port), from `Host` or the URI; only if it
/// looks like a host.
fn request_host(req: &Request<Body>) -> Option<String> {
    let raw = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))?;
    let valid = !raw.is_empty()
        && raw.len() <= 255
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    valid.then(|| raw.to_ascii_lowercase())
}

/// Django's CSRF check for an unsafe request. Returns the request (with
/// its body buffered if it was read for the token) or the 403/400 page.
async fn check_csrf(
    req: Request<Body>,
    request: &RequestAuth,
    settings: &Settings,
) -> Result<Request<Body>, Response> {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        csrf::check_origin(
            origin,
            request.host.as_deref(),
            request.scheme,
            &settings.csrf_trusted_origins,
        )
        .map_err(forbidden)?;
    }
    let secret = request.csrf_secret();
    if secret.is_none() {
        return Err(forbidden(csrf::Rejection::NoCookie));
    }
    let header_token = req
        .headers()
        .get(csrf::CSRF_HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (req, form_token) = if is_urlencoded_form(&req) {
        let (parts, body) = req.into_parts();
        let bytes = read_form_body(body, settings).await?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == csrf::CSRF_FIELD_NAME)
            .map(|(_, v)| v.into_owned());
        (Request::from_parts(parts, Body::from(bytes)), token)
    } else {
        (req, None)
    };
    let token = form_token.filter(|t| !t.is_empty()).or(header_token);
    csrf::check_token(secret.as_deref(), token.as_deref()).map_err(forbidden)?;
    Ok(req)
}

/// Whether the request body is a urlencoded form.
pub(crate) fn is_urlencoded_form(req: &Request<Body>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads a form body within Django's limits (size and number of fields).
pub(crate) async fn read_form_body(
    body: Body,
    settings: &Settings,
) -> Result<axum::body::Bytes, Response> {
    let bytes = axum::body::to_bytes(body, settings.data_upload_max_memory_size)
        .await
        .map_err(|_| {
            error_page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "The request body is too large, or could not be read.",
            )
        })?;
    let fields = bytes
        .split(|b| *b == b'&')
        .filter(|f| !f.is_empty())
        .count();
    if fields > settings.data_upload_max_number_fields {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The form has too many fields.",
        ));
    }
    Ok(bytes)
}

fn forbidden(reason: csrf::Rejection) -> Response {
    tracing::warn!(%reason, "CSRF check failed");
    error_page(
        StatusCode::FORBIDDEN,
        "Forbidden (403)",
        &format!(
            "CSRF verification failed. Request aborted. {}",
            html_escape(&reason.to_string())
        ),
    )
}

pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// Requires a logged-in user for every route it wraps, except exempt paths
/// (Django 5.1's `LoginRequiredMiddleware`). The login URL is always exempt.
/// Put it inside the auth layer:
/// `router.layer(LoginRequiredLayer::new().exempt("/")).layer(auth.layer())`.
#[derive(Clone, Debug, Default)]
pub struct LoginRequiredLayer {
    exact: Vec<String>,
    prefixes: Vec<String>,
    login_url: Option<String>,
}

impl LoginRequiredLayer {
    /// Every route needs a login.
    pub fn new() -> Self {
        Self::default()
    }

    /// `path` is public.
    pub fn exempt(mut self, path: impl Into<String>) -> Self {
        self.exact.push(path.into());
        self
    }

    /// Every path starting with `prefix` is public.
    pub fn exempt_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefixes.push(prefix.into());
        self
    }

    /// Redirect to this login URL instead of `settings.login_url`.
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }
}

impl<S> Layer<S> for LoginRequiredLayer {
    type Service = LoginRequiredService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LoginRequiredService {
            inner,
            config: Arc::new(self.clone()),
        }
    }
}

/// The service of [`LoginRequiredLayer`].
#[derive(Clone, Debug)]
pub struct LoginRequiredService<S> {
    inner: S,
    config: Arc<LoginRequiredLayer>,
}

impl<S> Service<Request<Body>> for LoginRequiredService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let config = self.config.clone();
        Box::pin(async move {
            let Some(request) = req.extensions().get::<Arc<RequestAuth>>().cloned() else {
                return Ok(crate::Error::Config(
                    "LoginRequiredLayer must be inside the auth layer".into(),
                )
                .into_response());
            };
            let path = req.uri().path();
            let login_url = config
                .login_url
                .as_deref()
                .unwrap_or(&request.shared.settings.login_url);
            let login_path = login_url.split(['?', '#']).next().unwrap_or(login_url);
            let exempt = path == login_path
                || config.exact.iter().any(|p| p == path)
                || config.prefixes.iter().any(|p| path.starts_with(p.as_str()));
            if !exempt {
                match request.user().await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        return Ok(request
                            .login_redirect(Some(login_url), Some(crate::REDIRECT_FIELD_NAME)));
                    }
                    Err(err) => return Ok(err.into_response()),
                }
            }
            inner.call(req).await
        })
    }
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
