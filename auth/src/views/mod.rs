//! The built-in views, behaving as Django's: [`LoginView`],
//! [`LogoutView`], [`PasswordChangeView`], [`PasswordChangeDoneView`].
//!
//! Each is configured with builder methods named after Django's attributes
//! (`template_name`, `next_page`, `success_url`, …) and mounted with
//! `into_route()`, usually through `auth_urls!`. Form field names are
//! Django's, so existing templates port over. Every page sends
//! `Cache-Control: no-store`-style headers and `X-Frame-Options: DENY`.

mod form;
mod login;
mod logout;
mod password;

use std::sync::Arc;

use axum::{
    body::Body,
    response::{IntoResponse, Response},
    routing::{MethodRouter, any},
};
use http::{HeaderValue, Method, Request, StatusCode, header};

pub use form::FormField;
pub use login::{INVALID_LOGIN, LoginView};
pub use logout::LogoutView;
pub use password::{
    PASSWORD_INCORRECT, PASSWORD_MISMATCH, PasswordChangeDoneView, PasswordChangeView,
};

use crate::{Error, Result, session::RequestAuth, templates::Templates};

/// The form field that carries the page to return to.
const NEXT: &str = crate::REDIRECT_FIELD_NAME;

/// The auth state of a request, or the 500 that says the layer is missing.
#[allow(clippy::result_large_err, reason = "axum rejections are responses")]
fn request_auth(req: &Request<Body>) -> std::result::Result<Arc<RequestAuth>, Response> {
    req.extensions()
        .get::<Arc<RequestAuth>>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!(
                "an auth view is mounted without the auth layer: add `.layer(auth.layer())`"
            );
            Error::Config("the auth layer is not installed".into()).into_response()
        })
}

/// The value of query parameter `name`, if present.
fn query_param(req: &Request<Body>, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .last()
}

/// The submitted fields of a urlencoded form body (Django's `request.POST`):
/// empty for other content types, last value wins for repeated fields.
#[derive(Debug, Default)]
struct FormData {
    fields: Vec<(String, String)>,
}

impl FormData {
    async fn read(
        req: Request<Body>,
        request: &RequestAuth,
    ) -> std::result::Result<Self, Response> {
        if !crate::layer::is_urlencoded_form(&req) {
            return Ok(FormData::default());
        }
        let bytes = crate::layer::read_form_body(req.into_body(), &request.shared.settings).await?;
        Ok(FormData {
            fields: form_urlencoded::parse(&bytes).into_owned().collect(),
        })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Renders `template` for this request with `context`.
async fn render(
    request: &Arc<RequestAuth>,
    template: &str,
    context: minijinja::Value,
) -> Result<Response> {
    let templates = Templates::for_request(request.clone()).await?;
    let html = templates.render_string(template, context)?;
    Ok(never_cache(axum::response::Html(html).into_response()))
}

/// Django's `never_cache`, plus `X-Frame-Options: DENY`.
fn never_cache(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=0, no-cache, no-store, must-revalidate, private"),
    );
    if let Ok(now) = HeaderValue::try_from(http_date(crate::DateTime::now_utc())) {
        headers.insert(header::EXPIRES, now);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

fn http_date(when: crate::DateTime) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    when.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// `303 See Other` to `location`, never cached.
fn redirect(location: &str) -> Response {
    never_cache(crate::session::request::see_other(location))
}

/// 405 with the allowed methods.
fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = crate::error::error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This page does not accept that request method.",
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// The safe `next` of a request: from the form first, then the query.
fn safe_next(
    request: &RequestAuth,
    form: Option<&FormData>,
    req_query: Option<String>,
) -> Option<String> {
    let candidate = form
        .and_then(|f| f.get(NEXT).map(str::to_owned))
        .filter(|v| !v.is_empty())
        .or(req_query)?;
    request.is_safe_redirect(&candidate).then_some(candidate)
}

/// A built-in view: the methods it answers and what it does.
trait View: Send + Sync + 'static {
    /// The `Allow` header of its 405 answers.
    const ALLOW: &'static str;

    /// Whether it answers `method` (others get 405).
    fn allows(method: &Method) -> bool;

    /// Answers one request.
    fn run(
        &self,
        request: Arc<RequestAuth>,
        req: Request<Body>,
    ) -> impl Future<Output = Result<Response>> + Send;
}

/// The axum route of a view: method check, auth state, errors as pages.
fn route<V: View, S: Clone + Send + Sync + 'static>(view: V) -> MethodRouter<S> {
    let view = Arc::new(view);
    any(move |req: Request<Body>| {
        let view = view.clone();
        async move {
            if !V::allows(req.method()) {
                return method_not_allowed(V::ALLOW);
            }
            let request = match request_auth(&req) {
                Ok(request) => request,
                Err(response) => return response,
            };
            view.run(request, req)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
    })
}
