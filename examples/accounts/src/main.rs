//! Runs the seed app, or one of its management commands.
//!
//! ```text
//! cargo run -p accounts                       # serve on 127.0.0.1:8000
//! cargo run -p accounts -- createsuperuser    # interactive
//! cargo run -p accounts -- --help
//! ```

use std::{net::SocketAddr, process::ExitCode};

use accounts::User;

async fn serve(auth: auth::Auth<User>, bind: SocketAddr) -> auth::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| auth::Error::Config(format!("cannot listen on {bind}: {e}")))?;
    tracing::info!("serving on http://{bind}/");
    // Until SIGTERM or Ctrl-C; then the requests in flight finish and the
    // audit log is written before the process exits.
    auth.serve(listener, accounts::app(&auth)).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match accounts::settings() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("Error: {err}");
            return ExitCode::FAILURE;
        }
    };
    auth::cli::run(accounts::builder(settings), serve).await
}
