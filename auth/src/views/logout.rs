//! `LogoutView`: Django's `LogoutView` (POST only since Django 5.0).

use std::{borrow::Cow, sync::Arc};

use axum::{
    body::Body,
    response::{IntoResponse, Response},
    routing::MethodRouter,
};
use http::{Method, Request, StatusCode, header};

use super::{FormData, NEXT, View, query_param, redirect, render, route, safe_next};
use crate::{Result, session::request::RequestAuth};

/// Logs out on POST, then redirects (303) to the safe `next`, else
/// `next_page`, else `settings.logout_redirect_url`; without any of them
/// it renders the "Logged out" page. GET is 405, so a cross-site image
/// cannot log anyone out.
#[derive(Clone, Debug)]
pub struct LogoutView {
    template_name: Cow<'static, str>,
    next_page: Option<Cow<'static, str>>,
}

impl Default for LogoutView {
    fn default() -> Self {
        LogoutView {
            template_name: Cow::Borrowed("registration/logged_out.html"),
            next_page: None,
        }
    }
}

impl LogoutView {
    /// With Django's defaults (template `registration/logged_out.html`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The "Logged out" template.
    pub fn template_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.template_name = name.into();
        self
    }

    /// Where to go after logout when there is no safe `next`.
    pub fn next_page(mut self, url: impl Into<Cow<'static, str>>) -> Self {
        self.next_page = Some(url.into());
        self
    }

    /// The route: POST logs out, OPTIONS lists the methods, others are 405.
    pub fn into_route<S: Clone + Send + Sync + 'static>(self) -> MethodRouter<S> {
        route(self)
    }

    async fn post(&self, request: &Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        let query_next = query_param(&req, NEXT);
        let full_path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let path = req.uri().path().to_owned();
        let form = match FormData::read(req, &request.core.settings).await {
            Ok(form) => form,
            Err(response) => return Ok(response),
        };
        let next = safe_next(request, Some(&form), query_next);
        crate::session::logout_request(request).await?;
        let target = next
            .or_else(|| self.next_page.as_ref().map(|p| p.to_string()))
            .or_else(|| request.core.settings.logout_redirect_url.clone())
            .unwrap_or(path);
        if target == full_path {
            let context = minijinja::context! { title => "Logged out" };
            return render(request, &self.template_name, context).await;
        }
        Ok(redirect(&target))
    }
}

impl View for LogoutView {
    const METHODS: &'static [Method] = &[Method::POST, Method::OPTIONS];

    async fn run(&self, request: Arc<RequestAuth>, req: Request<Body>) -> Result<Response> {
        if req.method() == Method::OPTIONS {
            let mut response = StatusCode::OK.into_response();
            response
                .headers_mut()
                .insert(header::ALLOW, super::allow(Self::METHODS));
            return Ok(response);
        }
        self.post(&request, req).await
    }
}
