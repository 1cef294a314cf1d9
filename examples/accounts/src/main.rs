//! The seed's app: a custom user model with `bio` and `birth_date`, and the
//! management commands.
//!
//! ```text
//! cargo run -p accounts                       # serve on 127.0.0.1:8000
//! cargo run -p accounts -- createsuperuser    # interactive
//! cargo run -p accounts -- --help
//! ```

use std::{net::SocketAddr, process::ExitCode};

use axum::{Router, routing::get};

/// The custom user model, like `class User(AbstractUser)` in Django.
#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "accounts_user")]
pub struct User {
    /// Username, password, email, names, flags and dates.
    #[auth(base)]
    pub base: auth::AbstractUser,
    /// A free-text biography.
    pub bio: String,
    /// Optional date of birth.
    pub birth_date: Option<auth::Date>,
}

async fn serve(_auth: auth::Auth<User>, bind: SocketAddr) -> auth::Result<()> {
    let app = Router::new().route("/", get(|| async { "Welcome, Guest!" }));
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| auth::Error::Config(format!("cannot listen on {bind}: {e}")))?;
    tracing_info(bind);
    axum::serve(listener, app)
        .await
        .map_err(|e| auth::Error::Internal(e.to_string()))
}

fn tracing_info(bind: SocketAddr) {
    eprintln!("Serving on http://{bind}/");
}

#[tokio::main]
async fn main() -> ExitCode {
    auth::cli::run(auth::Auth::<User>::builder(), serve).await
}
