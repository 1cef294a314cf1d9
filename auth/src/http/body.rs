//! Reading request bodies: forms within Django's limits
//! (`DATA_UPLOAD_MAX_MEMORY_SIZE`, `DATA_UPLOAD_MAX_NUMBER_FIELDS`), used by
//! the CSRF check and the views; and draining what a refused request left
//! unread.

use std::{
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    body::{Body, Bytes},
    response::Response,
};
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;

use crate::{http::html::error_page, settings::Settings};

/// Whether the request body is a urlencoded form.
pub(crate) fn is_urlencoded_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            mime.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads a form body within Django's limits (size and number of fields);
/// a 400 page beyond them.
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

/// The submitted fields of a urlencoded form body (Django's `request.POST`):
/// empty for other content types; the last value wins for a repeated field.
#[derive(Debug, Default)]
pub(crate) struct FormData {
    fields: Vec<(String, String)>,
}

impl FormData {
    /// Reads the body of `req` if it is a urlencoded form.
    pub(crate) async fn read(
        req: http::Request<Body>,
        settings: &Settings,
    ) -> Result<Self, Response> {
        if !is_urlencoded_form(req.headers()) {
            return Ok(FormData::default());
        }
        let bytes = read_form_body(req.into_body(), settings).await?;
        Ok(FormData {
            fields: form_urlencoded::parse(&bytes).into_owned().collect(),
        })
    }

    /// The value of field `name`, if sent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Bytes of an unread body the layer reads and discards before answering.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// A request body that, dropped before its end (a request refused before
/// its body was read), hands itself back so the layer can read the rest
/// before answering: a client still sending then gets the answer instead
/// of a reset connection.
pub(crate) struct Tracked {
    inner: Body,
    finished: bool,
    leftover: Arc<Mutex<Option<Body>>>,
}

/// Where a [`Tracked`] body ends up when dropped unread.
pub(crate) struct Leftover(Arc<Mutex<Option<Body>>>);

/// Wraps the body of a request that has one (`Content-Length` above zero
/// or a `Transfer-Encoding`).
pub(crate) fn track(req: Request<Body>) -> (Request<Body>, Option<Leftover>) {
    let headers = req.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > 0);
    if !has_body {
        return (req, None);
    }
    let slot = Arc::new(Mutex::new(None));
    let (parts, inner) = req.into_parts();
    let tracked = Tracked {
        inner,
        finished: false,
        leftover: slot.clone(),
    };
    (
        Request::from_parts(parts, Body::new(tracked)),
        Some(Leftover(slot)),
    )
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.finished = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !self.finished && !http_body::Body::is_end_stream(&self.inner) {
            let rest = std::mem::take(&mut self.inner);
            *self.leftover.lock().unwrap_or_else(|p| p.into_inner()) = Some(rest);
        }
    }
}

impl Leftover {
    /// Reads and discards what the request did not read, up to
    /// [`DRAIN_LIMIT`] bytes or `timeout`; `false` when some is left (the
    /// connection should then close).
    pub(crate) async fn drain(self, timeout: Duration) -> bool {
        let rest = self.0.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(mut body) = rest else {
            return true;
        };
        let read = async {
            let mut seen = 0usize;
            while let Some(frame) = body.frame().await {
                let Ok(frame) = frame else { return false };
                seen += frame.data_ref().map_or(0, Bytes::len);
                if seen > DRAIN_LIMIT {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(timeout, read).await.unwrap_or(false)
    }
}
