//! The benchmark's reference: the example's guarded profile page, its
//! anonymous home page and its login, written the usual way with
//! axum-login 0.18 and tower-sessions' SQLite store (which read the
//! session and the user from SQLite on every request).
//!
//!     reference serve 127.0.0.1:18081 <db file> <user> <password>
//!
//! Pages under the auth layer send the four security headers Django (and
//! ours) send by default, through tower-http's `SetResponseHeader`, so
//! both stacks do the same work; `REFERENCE_SECURITY_HEADERS=0` leaves
//! them out (the headerless column).

use std::net::SocketAddr;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use axum::{
    Form, Router,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use axum_login::{AuthManagerLayerBuilder, AuthSession, AuthUser, AuthnBackend, UserId, login_required};
use serde::Deserialize;
use sqlx::{SqlitePool, sqlite::SqliteConnectOptions};
use tower_sessions::SessionManagerLayer;
use tower_sessions_sqlx_store::SqliteStore;

const PROFILE: &str = include_str!("../../../examples/accounts/templates/accounts/profile.html");
const BASE: &str = include_str!("../../../examples/accounts/templates/accounts/base.html");
const HOME: &str = include_str!("../../../examples/accounts/templates/home.html");

#[derive(Clone, Debug, sqlx::FromRow)]
struct User {
    id: i64,
    username: String,
    password: String,
    bio: String,
}

impl AuthUser for User {
    type Id = i64;
    fn id(&self) -> i64 {
        self.id
    }
    fn session_auth_hash(&self) -> &[u8] {
        self.password.as_bytes()
    }
}

#[derive(Clone)]
struct Backend {
    pool: SqlitePool,
}

#[derive(Clone, Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    #[error(transparent)]
    Join(#[from] tokio::task::JoinError),
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = Error;

    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, Error> {
        let user: Option<User> = sqlx::query_as("SELECT * FROM users WHERE username = ?")
            .bind(&creds.username)
            .fetch_optional(&self.pool)
            .await?;
        let Some(user) = user else { return Ok(None) };
        let hash = user.password.clone();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| Argon2::default().verify_password(creds.password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await?;
        Ok(ok.then_some(user))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, Error> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }
}

type Auth = AuthSession<Backend>;

fn env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.add_template("accounts/base.html", BASE).unwrap();
    env.add_template("accounts/profile.html", PROFILE).unwrap();
    env.add_template("home.html", HOME).unwrap();
    env
}

fn render(name: &str, ctx: minijinja::Value) -> Html<String> {
    thread_local!(static ENV: minijinja::Environment<'static> = env());
    Html(ENV.with(|env| env.get_template(name).unwrap().render(ctx).unwrap()))
}

async fn profile(auth: Auth) -> Response {
    let Some(user) = auth.user else {
        return Redirect::to("/login/").into_response();
    };
    render(
        "accounts/profile.html",
        minijinja::context! {
            user => minijinja::context! { is_authenticated => true, username => user.username },
            bio => user.bio,
        },
    )
    .into_response()
}

async fn home(auth: Auth) -> Html<String> {
    let user = match auth.user {
        Some(user) => minijinja::context! { is_authenticated => true, username => user.username },
        None => minijinja::context! { is_authenticated => false },
    };
    let perms = minijinja::context! { accounts => minijinja::context! {} };
    render("home.html", minijinja::context! { user, perms })
}

async fn login(mut auth: Auth, Form(creds): Form<Credentials>) -> Response {
    match auth.authenticate(creds).await {
        Ok(Some(user)) => match auth.login(&user).await {
            Ok(()) => Redirect::to("/profile/").into_response(),
            Err(_) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "login failed").into_response(),
        },
        _ => (axum::http::StatusCode::OK, "Invalid credentials").into_response(),
    }
}

async fn bare() -> Html<String> {
    render(
        "accounts/profile.html",
        minijinja::context! {
            user => minijinja::context! { is_authenticated => true, username => "bench" },
            bio => "Benchmarking.",
        },
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, _, bind, db, username, password] = args.as_slice() else {
        eprintln!("usage: reference serve ADDR DB USER PASSWORD");
        std::process::exit(2);
    };
    let options = SqliteConnectOptions::new().filename(db).create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, \
         password TEXT NOT NULL, bio TEXT NOT NULL DEFAULT '')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = Argon2::default().hash_password(password.as_bytes(), &salt).unwrap().to_string();
    sqlx::query("INSERT OR REPLACE INTO users (id, username, password, bio) VALUES (1, ?, ?, 'Benchmarking.')")
        .bind(username)
        .bind(hash)
        .execute(&pool)
        .await
        .unwrap();
    let store = SqliteStore::new(pool.clone());
    store.migrate().await.unwrap();
    let sessions = SessionManagerLayer::new(store).with_secure(false);
    let auth = AuthManagerLayerBuilder::new(Backend { pool }, sessions).build();
    let pages = Router::new()
        .route("/profile/", get(profile))
        .route_layer(login_required!(Backend, login_url = "/login/"))
        .route("/", get(home))
        .route("/login/", axum::routing::post(login))
        .layer(auth);
    let pages = if std::env::var("REFERENCE_SECURITY_HEADERS").as_deref() == Ok("0") {
        pages
    } else {
        use axum::http::{HeaderName, HeaderValue, header};
        use tower_http::set_header::SetResponseHeaderLayer;
        let header = |name: HeaderName, value: &'static str| {
            SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
        };
        pages
            .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(header(header::X_FRAME_OPTIONS, "DENY"))
            .layer(header(header::REFERRER_POLICY, "same-origin"))
            .layer(header(
                HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ))
    };
    let app = pages.route("/__bench/profile/", get(bare));
    let addr: SocketAddr = bind.parse().unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
