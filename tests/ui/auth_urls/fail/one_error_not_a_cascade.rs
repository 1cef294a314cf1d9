// One unknown view; the names and router the rest of the code uses are
// still there, so nothing more is reported.
auth::auth_urls! {
    login: "/login/" => SignInView,
    logout: "/logout/" => LogoutView,
}

#[auth::login_required(login_url = urls::LOGIN)]
async fn profile() -> &'static str {
    "profile"
}

fn main() {
    let _: axum::Router = axum::Router::new()
        .route("/profile/", axum::routing::get(profile))
        .merge(urls::router());
    let _ = urls::LOGOUT;
}
