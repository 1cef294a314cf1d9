//! What the router-level guards share ([`LoginRequiredLayer`],
//! [`PermissionRequiredLayer`], [`UserPassesTestLayer`]): a layer is a
//! [`Guard`] that looks at the request's auth state and either lets it
//! through or answers it (a login redirect, a 403).
//!
//! [`LoginRequiredLayer`]: crate::LoginRequiredLayer
//! [`PermissionRequiredLayer`]: crate::PermissionRequiredLayer
//! [`UserPassesTestLayer`]: crate::UserPassesTestLayer

use std::{
    convert::Infallible,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{body::Body, response::Response};
use http::Request;
use tower_service::Service;

use crate::{kernel::future::BoxFuture, login::request::RequestAuth};

/// What a guard sees of the request besides its auth state.
pub(crate) struct Head {
    pub(crate) path: String,
    pub(crate) method: http::Method,
    pub(crate) referer: Option<http::HeaderValue>,
}

/// A check run before the wrapped routes.
pub(crate) trait Guard: Clone + Send + Sync + 'static {
    /// `None` to let the request through, or the answer instead.
    fn check(
        &self,
        request: Arc<RequestAuth>,
        head: Head,
    ) -> impl Future<Output = Option<Response>> + Send;
}

/// The service of a guard layer.
#[derive(Clone, Debug)]
pub struct GuardService<S, G> {
    pub(crate) inner: S,
    pub(crate) guard: G,
}

impl<S, G> Service<Request<Body>> for GuardService<S, G>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
    G: Guard,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let mut inner = crate::http::take_ready(&mut self.inner);
        let guard = self.guard.clone();
        Box::pin(async move {
            let request = match RequestAuth::from_extensions(req.extensions()) {
                Ok(request) => request,
                Err(response) => return Ok(response),
            };
            let head = Head {
                path: req.uri().path().to_owned(),
                method: req.method().clone(),
                referer: req.headers().get(http::header::REFERER).cloned(),
            };
            match guard.check(request, head).await {
                Some(answer) => Ok(answer),
                None => inner.call(req).await,
            }
        })
    }
}
