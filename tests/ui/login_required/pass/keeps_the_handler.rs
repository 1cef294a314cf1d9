#![deny(warnings)]

use axum::{Form, Router, extract::State, routing::get};

#[derive(Clone, Debug, auth::AuthUser)]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
    pub bio: String,
}

#[derive(serde::Deserialize)]
pub struct Note {
    pub text: String,
}

mod views {
    use super::*;

    /// Shows the profile.
    #[auth::login_required(login_url = "/login/")]
    #[allow(clippy::unused_async)]
    pub async fn profile(user: User, State(name): State<&'static str>) -> String {
        format!("{name}: {}", user.username)
    }

    /// The body-consuming extractor stays last.
    #[auth::login_required(login_url = "/login/", redirect_field_name = "goto")]
    pub(crate) async fn note(user: auth::CurrentUser<User>, Form(note): Form<Note>) -> String {
        format!("{}: {}", user.get().map(|u| u.bio.clone()).unwrap_or_default(), note.text)
    }
}

fn main() {
    let _app: Router = Router::new()
        .route("/profile/", get(views::profile).post(views::note))
        .with_state("app");
}
