//! The check the auth layer runs on every unsafe request (Django's
//! `CsrfViewMiddleware.process_view`): origin (or referer), cookie, token.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
};

use axum::{
    body::{Body, Bytes},
    response::Response,
};
use futures_util::Stream;
use http::{HeaderMap, Request, StatusCode, header};
use http_body::Body as _;

use super::{
    origin::{check_origin, check_referer},
    state::CsrfState,
    token::{self, CSRF_FIELD_NAME, CSRF_HEADER_NAME, Rejection},
};
use crate::{
    http::body::{is_urlencoded_form, read_form_body},
    http::html::error_page,
    http::origin::Origin,
    settings::Settings,
};

/// Django's CSRF check for an unsafe request. Returns the request (with the
/// part of its body read for the token put back in front) or the 403/400
/// page.
pub(crate) async fn check(
    req: Request<Body>,
    csrf: &CsrfState,
    origin: &Origin,
    settings: &Settings,
) -> Result<Request<Body>, Response> {
    check_source(req.headers(), origin, settings).map_err(forbidden)?;
    let secret = csrf.secret();
    if secret.is_none() {
        return Err(forbidden(Rejection::NoCookie));
    }
    let header_token = req
        .headers()
        .get(CSRF_HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (req, form_token) = if is_urlencoded_form(req.headers()) {
        let (parts, body) = req.into_parts();
        let bytes = read_form_body(body, settings).await?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF_FIELD_NAME)
            .map(|(_, v)| v.into_owned());
        (Request::from_parts(parts, Body::from(bytes)), token)
    } else if let Some(boundary) = multipart_boundary(req.headers()) {
        let (parts, body) = req.into_parts();
        let (token, body) = multipart_token(body, boundary, settings).await;
        (Request::from_parts(parts, body), token)
    } else {
        (req, None)
    };
    let token = form_token.filter(|t| !t.is_empty()).or(header_token);
    token::check_token(secret.as_deref(), token.as_deref()).map_err(forbidden)?;
    Ok(req)
}

/// Where the request comes from: `Origin`, else (secure requests) `Referer`.
fn check_source(
    headers: &HeaderMap,
    source: &Origin,
    settings: &Settings,
) -> Result<(), Rejection> {
    let header = |name| headers.get(name).map(|v| v.to_str().unwrap_or("null"));
    let trusted = &settings.csrf_trusted_origins;
    let host = source.host.as_deref();
    match header(header::ORIGIN) {
        Some(origin) => check_origin(origin, host, source.scheme, trusted),
        None if source.secure() => check_referer(header(header::REFERER), host, trusted),
        None => Ok(()),
    }
}

/// The boundary of a `multipart/form-data` body.
fn multipart_boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    multer::parse_boundary(content_type).ok()
}

/// Finds `csrfmiddlewaretoken` in a multipart body, reading at most
/// `DATA_UPLOAD_MAX_MEMORY_SIZE` bytes of it (Django's limit for what is
/// not a file). Returns the token and the whole body again: what was read,
/// then the rest, so an upload larger than the limit still reaches the
/// handler when its token comes first, as `{{ csrf_input }}` puts it.
async fn multipart_token(
    body: Body,
    boundary: String,
    settings: &Settings,
) -> (Option<String>, Body) {
    let limit = settings.data_upload_max_memory_size;
    let tee = Tee::new(body, limit);
    let (read, rest) = (tee.read.clone(), tee.rest.clone());
    let mut multipart = multer::Multipart::new(tee, boundary);
    let mut token = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(CSRF_FIELD_NAME) {
            token = field.text().await.ok();
            break;
        }
        // Skip the field's content (read into the prefix, within the limit).
        let mut field = field;
        while let Ok(Some(_)) = field.chunk().await {}
    }
    drop(multipart);
    let mut read: Vec<Bytes> = std::mem::take(&mut *lock(&read));
    let (overflow, rest) = lock(&rest).take().unwrap_or_default();
    read.extend(overflow);
    let prefix = futures_util::stream::iter(read.into_iter().map(Ok::<_, axum::Error>));
    let body = Body::from_stream(futures_util::StreamExt::chain(
        prefix,
        rest.into_data_stream(),
    ));
    (token, body)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The body as a stream for multer that keeps what it yields (up to a
/// limit, then it ends) and, when dropped, hands back the unread rest: the
/// part of a chunk past the limit, and the body.
struct Tee {
    body: Option<Body>,
    limit: usize,
    seen: usize,
    overflow: Option<Bytes>,
    read: Arc<Mutex<Vec<Bytes>>>,
    rest: Arc<Mutex<Option<Unread>>>,
}

/// What a [`Tee`] did not yield: the end of a chunk past the limit, and the
/// body.
type Unread = (Option<Bytes>, Body);

impl Tee {
    fn new(body: Body, limit: usize) -> Self {
        Tee {
            body: Some(body),
            limit,
            seen: 0,
            overflow: None,
            read: Arc::default(),
            rest: Arc::default(),
        }
    }
}

impl Stream for Tee {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.seen >= this.limit {
            return Poll::Ready(None);
        }
        let Some(body) = this.body.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            match Pin::new(&mut *body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(Err(err))),
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(mut data) = frame.into_data() else {
                        continue; // trailers
                    };
                    let room = this.limit - this.seen;
                    if data.len() > room {
                        this.overflow = Some(data.split_off(room));
                    }
                    this.seen += data.len();
                    lock(&this.read).push(data.clone());
                    return Poll::Ready(Some(Ok(data)));
                }
            }
        }
    }
}

impl Drop for Tee {
    fn drop(&mut self) {
        if let Some(body) = self.body.take() {
            *lock(&self.rest) = Some((self.overflow.take(), body));
        }
    }
}

/// Django's `CSRF_FAILURE_VIEW` page: 403 with the reason.
fn forbidden(reason: Rejection) -> Response {
    crate::events::trace::decision("csrf", "denied", &reason.to_string());
    error_page(
        StatusCode::FORBIDDEN,
        "Forbidden (403)",
        &format!("CSRF verification failed. Request aborted. {reason}"),
    )
}
