//! The app the in-process benchmark and the profiling loop
//! (`examples/profile_request.rs`) both measure: a `#[login_required]`
//! profile, a home page that reads `user` and `perms`, the same profile
//! text without the auth layer (`/baseline/`), and a logged-in session.

use axum::{Router, body::Body, routing::get};
use http::{Request, header};
use tower::ServiceExt;

#[derive(Clone, Debug, auth::AuthUser)]
pub struct User {
    #[auth(base)]
    base: auth::AbstractUser,
}

#[auth::login_required(login_url = "/login/")]
async fn profile(user: User) -> String {
    format!("profile of {}", user.username)
}

/// A GET is enough to log in here: the measurements are of reads.
async fn login(
    axum::extract::State(auth): axum::extract::State<auth::Auth<User>>,
    session: auth::Session,
) -> auth::Result<&'static str> {
    let user = auth
        .authenticate("bench", "bench-password")
        .await?
        .expect("the bench user");
    auth::login(&session, &user).await?;
    Ok("in")
}

async fn home(templates: auth::Templates) -> auth::Result<axum::response::Html<String>> {
    templates
        .render("home.html", auth::minijinja::context! {})
        .await
}

/// The app on a fresh SQLite file, and the cookie of a logged-in session.
pub async fn app(cache: bool) -> (Router, String) {
    let path =
        std::env::temp_dir().join(format!("auth-bench-{}.db", auth::Uuid::new_v4().simple()));
    let settings = auth::Settings {
        secret_key: Some("benchmark-secret-key-benchmark-secret-key".into()),
        cache,
        ..Default::default()
    };
    let auth = auth::Auth::<User>::builder()
        .database_url(format!("sqlite://{}?mode=rwc", path.display()))
        .settings(settings)
        .template(
            "home.html",
            "{% if user.is_authenticated %}Welcome, {{ user.username }}!{% else %}Welcome, Guest!{% endif %}\
             {% if perms.accounts.view_report %}<a href=\"/reports/\">Reports</a>{% endif %}",
        )
        .build()
        .await
        .unwrap();
    auth.users()
        .create_user("bench", "", Some("bench-password"))
        .await
        .unwrap();
    let router = Router::new()
        .route("/profile/", get(profile))
        .route("/login/", get(login))
        .route("/home/", get(home))
        .with_state(auth.clone())
        .layer(auth.layer())
        .route(
            "/baseline/",
            get(|| async { format!("profile of {}", "bench") }),
        );
    let response = router
        .clone()
        .oneshot(Request::get("/login/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sessionid="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    (router, cookie)
}
