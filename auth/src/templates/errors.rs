//! The app's own error pages, as Django's `403.html` and `404.html`: a
//! template of that name (registered, or in the templates directory)
//! replaces the built-in page of a refused permission, and axum's empty
//! 404 for a path no route serves. The template gets `request_path`,
//! `title`, `exception` (the message) and, as every template, `user`,
//! `perms` and the CSRF values.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use http_body::Body as _;

use super::Templates;
use crate::{http::html::ErrorPage, login::request::RequestAuth};

/// `response` rendered with the app's template for its status, when the
/// app has one; else unchanged.
pub(crate) async fn apply(request: &Arc<RequestAuth>, response: Response) -> Response {
    let status = response.status();
    let name = match status {
        StatusCode::FORBIDDEN => "403.html",
        StatusCode::NOT_FOUND => "404.html",
        _ => return response,
    };
    let page = match response.extensions().get::<ErrorPage>() {
        Some(page) => page.clone(),
        // axum's fallback for an unknown path: a 404 with no body.
        None if status == StatusCode::NOT_FOUND
            && response.body().size_hint().exact() == Some(0) =>
        {
            ErrorPage {
                title: "Not Found".into(),
                message: "The requested resource was not found on this server.".into(),
            }
        }
        None => return response,
    };
    if !request.shared.templates.has(name) {
        return response;
    }
    let context = minijinja::context! {
        request_path => request.origin.uri.path(),
        title => page.title,
        exception => page.message,
    };
    let rendered = async {
        let templates = Templates::for_request(request.clone()).await?;
        templates.render(name, context).await
    };
    match rendered.await {
        Ok(html) => {
            let mut replaced = (status, html).into_response();
            if let Some(cache) = response.headers().get(header::CACHE_CONTROL) {
                replaced
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, cache.clone());
            }
            replaced
        }
        Err(err) => {
            tracing::error!(error = %err, template = name, "cannot render the app's error page");
            response
        }
    }
}
