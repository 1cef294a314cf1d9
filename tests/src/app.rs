//! A small app exercising the primitives the way a user's app would.

use axum::{
    Form, Router,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::User;

type Auth = auth::Auth<User>;

/// "Welcome, alice!" (the username) or "Welcome, Guest!".
pub async fn home(user: auth::CurrentUser<User>) -> String {
    match user.get() {
        Some(u) => format!("Welcome, {}!", u.username),
        None => "Welcome, Guest!".into(),
    }
}

/// Guarded with a literal login URL.
#[auth::login_required(login_url = "/login/")]
async fn profile(user: User) -> String {
    format!("profile of {} ({})", user.username, user.bio)
}

/// Guarded with `settings.login_url`.
#[auth::login_required]
pub async fn private(user: auth::CurrentUser<User>) -> String {
    format!(
        "private for {}",
        user.get().map(|u| u.username.as_str()).unwrap_or("?")
    )
}

const CUSTOM_LOGIN: &str = "/custom-login/";

/// Guarded with a const and another field name.
#[auth::login_required(login_url = CUSTOM_LOGIN, redirect_field_name = "goto")]
async fn custom() -> &'static str {
    "custom"
}

/// A masked CSRF token (sets the cookie if needed): `Client::csrf_token`.
pub async fn csrf(session: auth::Session) -> String {
    session.csrf_token()
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// The login form, as an app's own template would render it.
async fn login_form(session: auth::Session) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<form method=\"post\"><input type=\"hidden\" name=\"csrfmiddlewaretoken\" \
         value=\"{}\"><input name=\"username\"><input name=\"password\" \
         type=\"password\"></form>",
        session.csrf_token()
    ))
}

async fn login(session: auth::Session, Form(form): Form<Credentials>) -> auth::Result<Response> {
    match auth::authenticate::<User>(&session, &form.username, &form.password).await? {
        Some(user) => {
            auth::login(&session, &user).await?;
            Ok(Redirect::to("/profile/").into_response())
        }
        None => Ok("Invalid credentials".into_response()),
    }
}

async fn logout(session: auth::Session) -> auth::Result<Redirect> {
    auth::logout(&session).await?;
    Ok(Redirect::to("/"))
}

#[derive(Deserialize)]
struct NewPassword {
    password: String,
}

async fn change_password(
    axum::extract::State(auth): axum::extract::State<Auth>,
    session: auth::Session,
    mut user: User,
    Form(form): Form<NewPassword>,
) -> auth::Result<&'static str> {
    auth.users().set_password(&mut user, &form.password).await?;
    auth::update_session_auth_hash(&session, &user).await?;
    Ok("changed")
}

#[derive(Deserialize)]
struct Item {
    item: String,
}

async fn add_to_cart(session: auth::Session, Form(item): Form<Item>) -> auth::Result<&'static str> {
    session.insert("cart", item.item).await?;
    Ok("added")
}

async fn cart(session: auth::Session) -> auth::Result<String> {
    Ok(session.get::<String>("cart").await?.unwrap_or_default())
}

async fn session_id(session: auth::Session) -> String {
    session.id().map(|id| id.to_string()).unwrap_or_default()
}

async fn public_ping() -> &'static str {
    "pong"
}

/// The app with the auth layer.
pub fn router(auth: &Auth) -> Router {
    routes(auth).layer(auth.layer())
}

/// The app's routes, without the auth layer.
pub fn routes(auth: &Auth) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/profile/", get(profile))
        .route("/private/", get(private))
        .route("/custom/", get(custom))
        .route("/csrf/", get(csrf))
        .route("/login/", get(login_form).post(login))
        .route("/logout/", post(logout))
        .route("/password/", post(change_password))
        .route("/cart/", get(cart).post(add_to_cart))
        .route("/session-id/", get(session_id))
        .route("/ping/", get(public_ping).post(public_ping))
        .with_state(auth.clone())
}
