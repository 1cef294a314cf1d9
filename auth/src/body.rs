//! Reading form bodies within Django's limits (`DATA_UPLOAD_MAX_MEMORY_SIZE`,
//! `DATA_UPLOAD_MAX_NUMBER_FIELDS`): used by the CSRF check and the views.

use axum::{body::Body, response::Response};
use http::{HeaderMap, StatusCode, header};

use crate::{Settings, html::error_page};

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
