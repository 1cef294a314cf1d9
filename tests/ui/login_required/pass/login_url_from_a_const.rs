#![deny(warnings)]

mod urls {
    pub const LOGIN: &str = "/accounts/sign-in/";
}

#[auth::login_required(login_url = urls::LOGIN)]
async fn dashboard() -> &'static str {
    "dashboard"
}

#[auth::login_required]
async fn settings_page() -> &'static str {
    "settings"
}

fn main() {
    let _app: axum::Router = axum::Router::new()
        .route("/dashboard/", axum::routing::get(dashboard))
        .route("/settings/", axum::routing::get(settings_page));
}
