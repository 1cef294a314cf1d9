//! Stopping well: [`shutdown_signal`] resolves on SIGTERM (what a deploy or
//! an orchestrator sends) or Ctrl-C; [`Auth::serve`] stops accepting then,
//! lets the requests in flight finish (at most `AUTH_SHUTDOWN_TIMEOUT`,
//! 30 s) and calls [`Auth::shutdown`], which writes what is buffered and
//! closes the database pool, so that the process exits 0 with nothing
//! lost.

use std::net::SocketAddr;

use super::Auth;
use crate::{
    kernel::error::{Error, Result},
    user::AuthUser,
};

/// Resolves when the process is asked to stop: SIGTERM or SIGINT (Ctrl-C)
/// on Unix, Ctrl-C elsewhere.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

impl<U: AuthUser> Auth<U> {
    /// Serves `app` on `listener` (with each connection's peer address, for
    /// the login throttle) until [`shutdown_signal`]: then no new
    /// connection is accepted, the requests in flight get up to
    /// `AUTH_SHUTDOWN_TIMEOUT` to finish, and [`shutdown`](Self::shutdown)
    /// runs. Returns when all of that is done.
    pub async fn serve(&self, listener: tokio::net::TcpListener, app: axum::Router) -> Result<()> {
        let timeout = self.shared.settings.shutdown_timeout;
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown_signal().await;
            tracing::info!("stopping: no new connections; finishing the requests in flight");
            let _ = stopping.send(true);
        };
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        let server = axum::serve(listener, service).with_graceful_shutdown(signal);
        let mut deadline = stopped.clone();
        let out_of_time = async move {
            let _ = deadline.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(timeout).await;
        };
        tokio::select! {
            served = server => served.map_err(|err| Error::Config(format!("serving: {err}")))?,
            () = out_of_time => tracing::warn!(
                seconds = timeout.as_secs(),
                "requests still in flight after AUTH_SHUTDOWN_TIMEOUT; stopping anyway"
            ),
        }
        self.shutdown().await;
        Ok(())
    }

    /// Writes what is buffered and lets go of what is held, before the
    /// process exits: the audit log's queued rows, the emails being sent,
    /// the background tasks (expired-session cleanup, cache watchers), and
    /// the database pool. Each step waits at most `AUTH_SHUTDOWN_TIMEOUT`.
    pub async fn shutdown(&self) {
        let shared = &self.shared;
        let timeout = shared.settings.shutdown_timeout;
        if tokio::time::timeout(timeout, shared.events.flush())
            .await
            .is_err()
        {
            tracing::warn!("the audit log could not be written before the shutdown timeout");
        }
        if tokio::time::timeout(timeout, shared.mail.idle())
            .await
            .is_err()
        {
            tracing::warn!("emails still being sent at the shutdown timeout were dropped");
        }
        let tasks = std::mem::take(
            &mut *shared
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for task in tasks {
            task.abort();
        }
        if let Err(err) = shared.db.conn().close_by_ref().await {
            tracing::warn!(error = %err, "closing the database pool");
        }
        tracing::info!("stopped");
    }
}
