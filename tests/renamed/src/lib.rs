//! An app that renamed the runtime (`authn = { package = "contrib-auth",
//! ... }`): each macro takes `crate = "authn"` (serde's and tokio's
//! convention), and this crate compiling is the proof that no generated
//! path names `::auth`. The tests run what was generated.

use axum::{Router, routing::get};

/// A user model.
#[derive(Clone, Debug, authn::AuthUser)]
#[auth(crate = "authn", table = "renamed_user")]
pub struct User {
    #[auth(base)]
    pub base: authn::AbstractUser,
    #[auth(default = 0)]
    pub karma: i32,
}

authn::permissions! {
    #[auth(crate = "authn")]
    pub mod perms;
    renamed: view_secret = "Can view the secret";
}

authn::auth_urls! {
    #[auth(crate = "authn")]
    pub mod urls;
    login: "/login/" => LoginView,
    logout: "/logout/" => LogoutView { next_page: "/" },
}

#[authn::login_required(crate = "authn")]
async fn home(user: User) -> String {
    format!("hello {}", user.username)
}

#[authn::permission_required(perms::renamed::VIEW_SECRET, crate = "authn")]
async fn secret() -> &'static str {
    "secret"
}

#[authn::user_passes_test(|user: &User| user.karma > 10, crate = "authn")]
async fn karma() -> &'static str {
    "karma"
}

#[authn::reauth_required(crate = "authn", max_age = 300)]
async fn sensitive() -> &'static str {
    "sensitive"
}

/// The app's routes, the auth layer not yet added.
pub fn routes() -> Router {
    Router::new()
        .route("/", get(home))
        .route("/secret/", get(secret))
        .route("/karma/", get(karma))
        .route("/sensitive/", get(sensitive))
        .merge(urls::router())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Request, StatusCode, header};
    use tower::ServiceExt;

    async fn auth() -> authn::Auth<User> {
        let path = std::env::temp_dir().join(format!(
            "auth-renamed-{}-{}.db",
            std::process::id(),
            authn::Uuid::new_v4().simple()
        ));
        authn::Auth::<User>::builder()
            .database_url(format!("sqlite://{}?mode=rwc", path.display()))
            .urls(urls::URLCONF)
            .permissions(perms::ALL)
            .settings(authn::Settings {
                secret_key: Some("a test secret key that is long enough to be accepted".into()),
                ..Default::default()
            })
            .build()
            .await
            .expect("builds")
    }

    async fn get(app: &Router, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(axum::body::Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (response.status(), location)
    }

    #[tokio::test]
    async fn what_the_macros_generated_runs() {
        let auth = auth().await;
        let app = routes().layer(auth.layer());
        assert_eq!(urls::LOGIN, "/login/");
        assert_eq!(perms::ALL.len(), 1);
        assert_eq!(perms::renamed::VIEW_SECRET.codename(), "view_secret");
        // Each guard sends an anonymous visitor to the declared login view.
        for page in ["/", "/secret/", "/karma/", "/sensitive/"] {
            let (status, location) = get(&app, page).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
            assert_eq!(location, format!("/login/?next={page}"), "{page}");
        }
        let (status, _) = get(&app, urls::LOGIN).await;
        assert_eq!(status, StatusCode::OK);
        // The derived model's extra field, with its default.
        let user = auth.users().create_user("ada", "", None).await.unwrap();
        assert_eq!(user.karma, 0);
    }
}
