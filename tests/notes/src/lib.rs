//! A notes site's accounts: a `Member` model with a required, unique
//! display name, the auth views under `/accounts/`, a guarded page, and a
//! management command of its own (`givekarma`).

use axum::{Router, response::Html, routing::get};

/// A member of the notes site.
#[derive(Clone, Debug, auth::AuthUser)]
pub struct Member {
    /// Username, password and the other standard fields.
    #[auth(base)]
    pub base: auth::AbstractUser,
    /// Shown next to each note; required, and no two members share one.
    #[auth(unique, max_length = 60)]
    pub display_name: String,
    /// Points from other members.
    #[auth(default = 0)]
    pub karma: i32,
    /// How the member found the site.
    pub joined_via: Option<String>,
}

auth::auth_urls! {
    pub mod urls;
    login: "/accounts/login/" => LoginView,
    logout: "/accounts/logout/" => LogoutView { next_page: "/" },
    password_change: "/accounts/password_change/" => PasswordChangeView,
    password_change_done: "/accounts/password_change/done/" => PasswordChangeDoneView,
}

/// The builder: settings from `AUTH_*`, the auth URLs above, templates
/// next to this crate.
pub fn builder() -> auth::AuthBuilder<Member> {
    auth::Auth::<Member>::builder()
        .urls(urls::URLCONF)
        .templates_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
}

async fn home(templates: auth::Templates) -> auth::Result<Html<String>> {
    templates
        .render("home.html", auth::minijinja::context! {})
        .await
}

/// A bare guard: anonymous visitors go to `settings.login_url()`.
#[auth::login_required]
async fn notes(member: Member) -> String {
    format!("Notes of {} ({} karma)", member.display_name, member.karma)
}

/// The site.
pub fn app(auth: &auth::Auth<Member>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/notes/", get(notes))
        .merge(urls::router())
        .layer(auth.layer())
}
