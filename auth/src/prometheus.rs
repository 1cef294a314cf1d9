//! The counters in Prometheus' text format: [`Auth::metrics_router`]
//! (feature `prometheus`). Everything this crate counts goes through the
//! `metrics` facade: logins by outcome, lockouts, password resets, ended
//! sessions, every event by kind, password-hash time and queue, and the
//! session and user caches' hits, misses and invalidations. The route
//! installs a Prometheus recorder as the process's `metrics` recorder (once;
//! an app that installed its own keeps it and reads the counters there).

use std::sync::{Arc, OnceLock, atomic::Ordering};

use axum::{
    Router,
    response::{IntoResponse, Response},
    routing::get,
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::{
    app::Auth, apps::Shared, kernel::crypto::constant_time_eq, session::cache::Stats,
    user::AuthUser,
};

/// The Prometheus recorder's handle, installed on first use.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed: the auth counters go there, and \
                 metrics_router serves none of them"
            );
        }
        handle
    })
}

impl<U: AuthUser> Auth<U> {
    /// A router serving the counters in Prometheus' text format at `path`
    /// (`auth.metrics_router("/metrics")`, merged before `auth.layer()`
    /// or beside it). It answers only a request with
    /// `Authorization: Bearer <AUTH_METRICS_TOKEN>`; without that setting
    /// it is a 404, with a wrong or missing token a 401.
    pub fn metrics_router<S: Clone + Send + Sync + 'static>(&self, path: &str) -> Router<S> {
        let shared = self.shared.clone();
        handle();
        Router::new().route(
            path,
            get(move |headers: HeaderMap| {
                let shared = shared.clone();
                async move { serve(&shared, &headers) }
            }),
        )
    }
}

fn serve(shared: &Arc<Shared>, headers: &HeaderMap) -> Response {
    let Some(token) = shared.settings.metrics_token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
        )
            .into_response();
    }
    if let Some(stats) = shared.sessions.store.cache_stats() {
        publish("session", stats);
    }
    if let Some(users) = shared.users.cache() {
        publish("user", users.stats());
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle().render(),
    )
        .into_response()
}

/// A cache's counts as counters (kept in plain atomics on the hot path,
/// copied here when scraped).
fn publish(cache: &'static str, stats: &Stats) {
    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    metrics::counter!("auth_cache_hits_total", "cache" => cache).absolute(load(&stats.hits));
    metrics::counter!("auth_cache_misses_total", "cache" => cache).absolute(load(&stats.misses));
    metrics::counter!("auth_cache_invalidations_total", "cache" => cache)
        .absolute(load(&stats.invalidations));
}
