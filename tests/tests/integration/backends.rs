//! Pluggable authentication backends (Django's `AUTHENTICATION_BACKENDS`):
//! an app that lets users log in with their email address next to the
//! model backend.

use auth::{
    Auth, Backend, ModelBackend, Result,
    sea_orm::{ColumnTrait, EntityTrait, QueryFilter},
};
use auth_tests::{TestDb, User, app, client::Client, user_entity};
use axum::routing::get;
use http::StatusCode;

/// Logs users in with their email address (case-insensitive) and password.
struct EmailBackend;

impl EmailBackend {
    const NAME: &str = "tests.EmailBackend";
}

impl Backend<User> for EmailBackend {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn authenticate(
        &self,
        auth: &Auth<User>,
        email: &str,
        password: &str,
    ) -> Result<Option<User>> {
        if !email.contains('@') {
            return Ok(None);
        }
        let found = user_entity::Entity::find()
            .filter(user_entity::Column::Email.eq(auth::normalize_email(email)))
            .one(auth.db())
            .await?;
        let Some(mut user) = found.map(User::from) else {
            return Ok(None);
        };
        let ok = auth.users().check_password(&mut user, password).await?;
        Ok((ok && user.is_active).then_some(user))
    }

    async fn get_user(&self, auth: &Auth<User>, id: i64) -> Result<Option<User>> {
        Ok(auth
            .users()
            .get_by_id(id)
            .await?
            .filter(|user| user.is_active))
    }
}

auth::auth_urls! {
    login: "/accounts/login/" => LoginView { next_page: "/" },
}

/// The backend the session remembers.
async fn backend_of(session: auth::Session) -> Result<String> {
    Ok(session
        .get::<String>("_auth_user_backend")
        .await?
        .unwrap_or_default())
}

async fn build(db: &TestDb, with_email: bool) -> Auth<User> {
    let builder = db.builder::<User>(auth::Settings::default());
    let builder = if with_email {
        builder.backend(ModelBackend).backend(EmailBackend)
    } else {
        builder
    };
    builder.build().await.unwrap()
}

fn router(auth: &Auth<User>) -> axum::Router {
    app::routes(auth)
        .route("/backend/", get(backend_of))
        .merge(urls::router())
        .layer(auth.layer())
}

auth_tests::backend_tests! {
    async fn a_second_backend_logs_users_in_by_email(backend: Backend) {
        let db = backend.database().await;
        let auth = build(&db, true).await;
        auth.users().create_user("alice", "alice@example.com", Some("alice-password"))
            .await
            .unwrap();
        let mut client = Client::new(router(&auth));

        // The model backend first, as listed.
        assert_eq!(client.log_in(urls::LOGIN, "alice", "alice-password").await.status, StatusCode::SEE_OTHER);
        assert_eq!(client.get("/backend/").await.body, ModelBackend::NAME);

        // The email backend when the model backend finds nobody.
        let mut by_email = Client::new(router(&auth));
        assert_eq!(
            by_email.log_in(urls::LOGIN, "alice@EXAMPLE.com", "alice-password").await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(by_email.get("/").await.body, "Welcome, alice!");
        assert_eq!(by_email.get("/backend/").await.body, EmailBackend::NAME);
        assert_eq!(
            Client::new(router(&auth)).log_in(urls::LOGIN, "alice@example.com", "wrong").await.status,
            StatusCode::OK,
            "a wrong password re-renders the form"
        );

        // `auth::authenticate` + `auth::login` in a custom view remember the
        // backend that accepted the user.
        let mut custom = Client::new(router(&auth));
        let page = custom
            .post_with_csrf(
                "/login/",
                &[("username", "alice@example.com"), ("password", "alice-password")],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(custom.get("/backend/").await.body, EmailBackend::NAME);

        // Without the email backend, its sessions are anonymous; the model
        // backend's survive.
        let cookie = by_email.jar["sessionid"].clone();
        let model_cookie = client.jar["sessionid"].clone();
        let narrowed = build(&db, false).await;
        let mut stale = Client::new(router(&narrowed));
        stale.jar.insert("sessionid".into(), cookie);
        assert_eq!(stale.get("/").await.body, "Welcome, Guest!");
        let mut kept = Client::new(router(&narrowed));
        kept.jar.insert("sessionid".into(), model_cookie);
        assert_eq!(kept.get("/").await.body, "Welcome, alice!");
    }
}
