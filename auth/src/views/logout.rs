//! `LogoutView`: Django's `LogoutView` (its options are in `table.rs`).

use axum::{
    body::Body,
    response::{IntoResponse, Response},
};
use http::{Method, Request, StatusCode, header};

use super::{LogoutView, Methods, NEXT, View, query_param, redirect, render, safe_next};
use crate::{http::body::FormData, kernel::error::Result, login::Session};

impl LogoutView {
    async fn post(&self, session: &Session, req: Request<Body>) -> Result<Response> {
        let query_next = query_param(&req, NEXT);
        let full_path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let path = req.uri().path().to_owned();
        let settings = &session.request.shared.settings;
        let data = match FormData::read(req, settings).await {
            Ok(data) => data,
            Err(response) => return Ok(response),
        };
        let next = safe_next(session, Some(&data), query_next);
        crate::login::logout(session).await?;
        let target = next
            .or_else(|| self.next_page.as_ref().map(|p| p.to_string()))
            .or_else(|| settings.logout_redirect_url.clone())
            .unwrap_or(path);
        if target == full_path {
            let context = minijinja::context! { title => "Logged out" };
            return render(session, &self.template_name, context).await;
        }
        Ok(redirect(&target))
    }
}

impl View for LogoutView {
    async fn run(&self, session: Session, req: Request<Body>) -> Result<Response> {
        if req.method() == Method::OPTIONS {
            let mut response = StatusCode::OK.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, super::allow(Self::METHODS));
            return Ok(response);
        }
        self.post(&session, req).await
    }
}
