#![deny(warnings)]

#[derive(Clone, Debug, auth::AuthUser)]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
}

auth::auth_urls! {
    login: "/login/" => LoginView { template_name: "accounts/login.html" },
    logout: "/logout/" => LogoutView { next_page: "/" },
    password_change: "/password-change/" => PasswordChangeView,
    password_change_done: "/password-change/done/" => PasswordChangeDoneView,
}

#[auth::login_required(login_url = urls::LOGIN)]
async fn profile(user: User) -> String {
    user.username.clone()
}

fn main() {
    let _app: axum::Router = axum::Router::new()
        .route("/profile/", axum::routing::get(profile))
        .merge(urls::router());
    assert_eq!(urls::reverse("logout"), Some(urls::LOGOUT));
}
