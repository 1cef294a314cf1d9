//! Groups and permissions on every backend: the tables `migrate` makes,
//! grants directly, through groups and to superusers, Django's semantics
//! for inactive users, revocation seen on the next request, one
//! permissions query per request, cascades, the guards and their layers,
//! and `perms` in templates.

use auth::{PermissionRequiredLayer, UserPassesTestLayer, UserPermissions};
use auth_tests::{Backend, User, app, client::Client};
use axum::{Router, routing::get};
use http::StatusCode;

auth::permissions! {
    mod perms;
    accounts: view_report = "Can view reports", publish_report = "Can publish reports";
    blog: publish_post = "Can publish posts";
}

type Auth = auth::Auth<User>;

const DEFAULTS: [&str; 4] = [
    "accounts.add_user",
    "accounts.change_user",
    "accounts.delete_user",
    "accounts.view_user",
];

async fn setup(backend: Backend) -> (Auth, auth_tests::TestDb) {
    let db = backend.database().await;
    let auth = db
        .builder::<User>(auth::Settings::default())
        .permissions(perms::ALL)
        .template(
            "perms.html",
            "{% if perms.accounts %}A{% endif %}{% if perms.blog %}B{% endif %}\
             {% if perms.accounts.view_report %}V{% endif %}\
             {% if 'accounts.publish_report' in perms %}P{% endif %}",
        )
        .build()
        .await
        .unwrap();
    (auth, db)
}

async fn user(auth: &Auth, name: &str) -> User {
    match auth.users().get_by_username(name).await.unwrap() {
        Some(user) => user,
        None => auth
            .users()
            .create_user(name, "", Some("pw"))
            .await
            .unwrap(),
    }
}

fn names(perms: &std::collections::BTreeSet<String>) -> Vec<&str> {
    perms.iter().map(String::as_str).collect()
}

/// Reads permissions three ways in one request: the guard, the extractor
/// and a template.
#[auth::permission_required(perms::accounts::VIEW_REPORT)]
async fn report(perms: UserPermissions, templates: auth::Templates) -> auth::Result<String> {
    assert!(perms.has_perm("accounts.view_report"));
    assert!(perms.has_perms(&[perms::accounts::VIEW_REPORT]));
    let html = templates
        .render("perms.html", auth::minijinja::context! {})
        .await?;
    Ok(html.0)
}

#[auth::permission_required(
    ["accounts.view_report", perms::accounts::PUBLISH_REPORT],
    raise_exception = true
)]
async fn publish() -> &'static str {
    "published"
}

fn is_superuser(user: &User) -> bool {
    user.is_superuser
}

async fn is_named_bob(user: &User) -> bool {
    tokio::task::yield_now().await;
    user.username == "bob"
}

#[auth::user_passes_test(is_superuser)]
async fn root_only() -> &'static str {
    "root"
}

#[auth::user_passes_test(is_named_bob, login_url = "/elsewhere/", redirect_field_name = "to")]
async fn bob_only() -> &'static str {
    "bob"
}

async fn rendered(templates: auth::Templates) -> auth::Result<String> {
    Ok(templates
        .render("perms.html", auth::minijinja::context! {})
        .await?
        .0)
}

fn router(auth: &Auth) -> Router {
    let layered = Router::new()
        .route("/layered/perm/", get(|| async { "perm" }))
        .layer(PermissionRequiredLayer::new([perms::blog::PUBLISH_POST]))
        .merge(
            Router::new()
                .route("/layered/test/", get(|| async { "test" }))
                .layer(UserPassesTestLayer::new(|user: &User| user.is_staff)),
        )
        .merge(
            Router::new()
                .route("/layered/async/", get(|| async { "async" }))
                .layer(UserPassesTestLayer::asynchronous(
                    |user: std::sync::Arc<User>| async move { user.username == "bob" },
                )),
        );
    Router::new()
        .route("/report/", get(report))
        .route("/publish/", get(publish))
        .route("/root/", get(root_only))
        .route("/bob/", get(bob_only))
        .route("/rendered/", get(rendered))
        .merge(layered)
        .merge(app::routes(auth))
        .layer(auth.layer())
}

async fn logged_in(auth: &Auth, name: &str) -> Client {
    user(auth, name).await;
    let mut client = Client::new(router(auth));
    let page = client.log_in("/login/", name, "pw").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    client
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    /// `migrate` creates the tables and the user model's four default
    /// permissions next to the declared ones; a second `migrate`, or one
    /// from an app that declares less, deletes nothing.
    async fn migrate_makes_the_default_and_declared_permissions(backend: Backend) {
        let (auth, db) = setup(backend).await;
        let all: Vec<String> = auth
            .permissions()
            .all()
            .await
            .unwrap()
            .into_iter()
            .map(|(app, codename, _)| format!("{app}.{codename}"))
            .collect();
        let mut expected: Vec<&str> = DEFAULTS.to_vec();
        expected.extend(["accounts.publish_report", "accounts.view_report", "blog.publish_post"]);
        expected.sort();
        assert_eq!(all, expected);
        let described = auth.permissions().all().await.unwrap();
        assert!(described.contains(&(
            "accounts".into(),
            "add_user".into(),
            "Can add user".into()
        )));
        assert!(described.contains(&(
            "accounts".into(),
            "view_report".into(),
            "Can view reports".into()
        )));
        // Another instance declaring nothing: migrate keeps every row.
        let other = db.auth::<User>(auth::Settings::default()).await;
        other.migrate().await.unwrap();
        assert_eq!(other.permissions().all().await.unwrap().len(), expected.len());
    }

    /// Direct grants, group grants and their union, as Django reports them.
    async fn direct_and_group_grants_add_up(backend: Backend) {
        let (auth, _db) = setup(backend).await;
        let alice = user(&auth, "alice").await;
        assert!(auth.permissions().grant(&alice, perms::accounts::VIEW_REPORT).await.unwrap());
        assert!(!auth.permissions().grant(&alice, "accounts.view_report").await.unwrap(), "granted once");
        auth.permissions().create_group("editors").await.unwrap();
        auth.permissions().grant_group("editors", perms::blog::PUBLISH_POST).await.unwrap();
        auth.permissions().grant_group("editors", "accounts.view_report").await.unwrap();
        assert!(auth.permissions().add_to_group(&alice, "editors").await.unwrap());
        let perms = auth.permissions().of(&alice).await.unwrap();
        assert_eq!(names(&perms.get_user_permissions()), ["accounts.view_report"]);
        assert_eq!(
            names(&perms.get_group_permissions()),
            ["accounts.view_report", "blog.publish_post"]
        );
        assert_eq!(
            names(&perms.get_all_permissions()),
            ["accounts.view_report", "blog.publish_post"]
        );
        assert!(perms.has_perm(perms::blog::PUBLISH_POST));
        assert!(perms.has_perms(&["accounts.view_report", "blog.publish_post"]));
        assert!(!perms.has_perms(&["accounts.view_report", "accounts.publish_report"]));
        assert!(perms.has_module_perms("blog"));
        assert!(!perms.has_module_perms("shop"));
        assert!(auth.permissions().has_perm(&alice, "blog.publish_post").await.unwrap());

        let bob = user(&auth, "bob").await;
        let none = auth.permissions().of(&bob).await.unwrap();
        assert!(none.get_all_permissions().is_empty());
        assert!(!none.has_module_perms("accounts"));

        assert!(auth.permissions().remove_from_group(&alice, "editors").await.unwrap());
        assert!(!auth.permissions().remove_from_group(&alice, "editors").await.unwrap());
        let perms = auth.permissions().of(&alice).await.unwrap();
        assert_eq!(names(&perms.get_all_permissions()), ["accounts.view_report"]);
    }

    /// An active superuser has every permission, even one that does not
    /// exist (Django); an inactive user, superuser or not, has none, even
    /// with rows granting them.
    async fn superusers_have_everything_and_inactive_users_nothing(backend: Backend) {
        let (auth, _db) = setup(backend).await;
        let mut root = user(&auth, "root").await;
        root.is_superuser = true;
        let root = auth.users().save(root).await.unwrap();
        let perms = auth.permissions().of(&root).await.unwrap();
        assert_eq!(perms.get_all_permissions().len(), DEFAULTS.len() + 3);
        assert!(perms.has_perm("anything.at_all"));
        assert!(perms.has_module_perms("accounts"));

        let mut retired = root.clone();
        retired.is_active = false;
        let retired = auth.users().save(retired).await.unwrap();
        auth.permissions().grant(&retired, "accounts.view_report").await.unwrap();
        let perms = auth.permissions().of(&retired).await.unwrap();
        assert!(!perms.has_perm("accounts.view_report"));
        assert!(!perms.has_module_perms("accounts"));
        assert!(perms.get_all_permissions().is_empty());
        assert!(perms.get_user_permissions().is_empty());
    }

    /// Unknown names are refused with a message, not silently ignored.
    async fn unknown_groups_and_permissions_are_errors(backend: Backend) {
        let (auth, _db) = setup(backend).await;
        let alice = user(&auth, "alice").await;
        let err = auth.permissions().grant(&alice, "accounts.fly").await.unwrap_err();
        assert_eq!(err.to_string(), "Permission accounts.fly does not exist.");
        let err = auth.permissions().add_to_group(&alice, "ghosts").await.unwrap_err();
        assert_eq!(err.to_string(), "Group 'ghosts' does not exist.");
        auth.permissions().create_group("editors").await.unwrap();
        let err = auth.permissions().create_group("editors").await.unwrap_err();
        assert_eq!(err.to_string(), "Group 'editors' already exists.");
        assert!(auth.permissions().create_group("").await.is_err());
        assert!(auth.permissions().create_group(&"g".repeat(151)).await.is_err());
    }

    /// Deleting a user or a group takes its links with it (foreign keys
    /// cascade), so a new user with a recycled id inherits nothing.
    async fn deleting_users_and_groups_cascades(backend: Backend) {
        let (auth, _db) = setup(backend).await;
        let alice = user(&auth, "alice").await;
        auth.permissions().create_group("editors").await.unwrap();
        auth.permissions().grant_group("editors", "blog.publish_post").await.unwrap();
        auth.permissions().add_to_group(&alice, "editors").await.unwrap();
        auth.permissions().grant(&alice, "accounts.view_report").await.unwrap();
        let bob = user(&auth, "bob").await;
        auth.permissions().add_to_group(&bob, "editors").await.unwrap();

        let links = |table: &'static str| {
            let auth = auth.clone();
            async move {
                use auth::sea_orm::ConnectionTrait;
                let db = auth.db();
                let sql = format!("SELECT COUNT(*) AS n FROM {table}");
                let row = db
                    .query_one_raw(auth::sea_orm::Statement::from_string(
                        db.get_database_backend(),
                        sql,
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get::<i64>("", "n").unwrap()
            }
        };
        assert_eq!(links("accounts_user_user_permissions").await, 1);
        assert_eq!(links("accounts_user_groups").await, 2);
        auth.users().delete(alice).await.unwrap();
        assert_eq!(links("accounts_user_user_permissions").await, 0);
        assert_eq!(links("accounts_user_groups").await, 1);
        assert_eq!(links("auth_group_permissions").await, 1);

        assert!(auth.permissions().delete_group("editors").await.unwrap());
        assert!(!auth.permissions().delete_group("editors").await.unwrap());
        assert_eq!(links("accounts_user_groups").await, 0);
        assert_eq!(links("auth_group_permissions").await, 0);
        assert!(auth.permissions().of(&bob).await.unwrap().get_all_permissions().is_empty());
    }

    /// However many checks a request makes (the guard, the extractor, a
    /// template), the permissions are loaded once, in one query.
    async fn one_permissions_query_per_request(backend: Backend) {
        let (auth, _db) = setup(backend).await;
        let alice = user(&auth, "alice").await;
        auth.permissions().grant(&alice, perms::accounts::VIEW_REPORT).await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        for _ in 0..3 {
            let before = auth::testing::permission_loads(&auth);
            let page = client.get("/report/").await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            assert_eq!(page.body, "AV");
            assert_eq!(auth::testing::permission_loads(&auth) - before, 1);
        }
        // A page that never reads permissions does not load them.
        let before = auth::testing::permission_loads(&auth);
        assert_eq!(client.get("/").await.status, StatusCode::OK);
        assert_eq!(auth::testing::permission_loads(&auth), before);
    }

    /// A revoked permission (or a group left) is gone on the very next
    /// request, on every backend and with the cache on.
    async fn revoking_takes_effect_on_the_next_request(backend: Backend) {
        let (auth, _db) = setup(backend).await;
        let alice = user(&auth, "alice").await;
        auth.permissions().grant(&alice, "accounts.view_report").await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        assert_eq!(client.get("/report/").await.status, StatusCode::OK);
        auth.permissions().revoke(&alice, perms::accounts::VIEW_REPORT).await.unwrap();
        assert_eq!(client.get("/report/").await.status, StatusCode::FORBIDDEN);

        auth.permissions().create_group("readers").await.unwrap();
        auth.permissions().grant_group("readers", "accounts.view_report").await.unwrap();
        auth.permissions().add_to_group(&alice, "readers").await.unwrap();
        assert_eq!(client.get("/report/").await.status, StatusCode::OK);
        auth.permissions().remove_from_group(&alice, "readers").await.unwrap();
        assert_eq!(client.get("/report/").await.status, StatusCode::FORBIDDEN);
    }

    /// The guards: login redirect for anonymous users, 403 for users
    /// lacking a permission, lists need all, `raise_exception`, sync and
    /// async predicates, and the router layers.
    async fn guards_and_layers_follow_the_mixin_semantics(backend: Backend) {
        let (auth, _db) = setup(backend).await;
        let mut anonymous = Client::new(router(&auth));
        let page = anonymous.get("/report/?x=1").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/accounts/login/?next=/report/%3Fx%3D1"));
        assert_eq!(anonymous.get("/publish/").await.status, StatusCode::FORBIDDEN);
        let page = anonymous.get("/bob/").await;
        assert_eq!(page.location(), Some("/elsewhere/?to=/bob/"));
        assert_eq!(anonymous.get("/layered/perm/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(anonymous.get("/layered/test/").await.status, StatusCode::SEE_OTHER);

        let alice = user(&auth, "alice").await;
        auth.permissions().grant(&alice, "accounts.view_report").await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        assert_eq!(client.get("/report/").await.status, StatusCode::OK);
        assert_eq!(client.get("/publish/").await.status, StatusCode::FORBIDDEN, "needs both");
        auth.permissions().grant(&alice, "accounts.publish_report").await.unwrap();
        assert_eq!(client.get("/publish/").await.body, "published");
        assert_eq!(client.get("/root/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(client.get("/bob/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(client.get("/layered/perm/").await.status, StatusCode::FORBIDDEN);
        assert_eq!(client.get("/layered/test/").await.status, StatusCode::SEE_OTHER);
        assert_eq!(client.get("/layered/async/").await.status, StatusCode::SEE_OTHER);
        auth.permissions().grant(&alice, perms::blog::PUBLISH_POST).await.unwrap();
        assert_eq!(client.get("/layered/perm/").await.body, "perm");
        assert_eq!(client.get("/rendered/").await.body, "ABVP");

        let mut bob = logged_in(&auth, "bob").await;
        assert_eq!(bob.get("/bob/").await.body, "bob");
        assert_eq!(bob.get("/layered/async/").await.body, "async");
        assert_eq!(bob.get("/rendered/").await.body, "");
        let mut staff = auth.users().get_by_username("bob").await.unwrap().unwrap();
        staff.is_staff = true;
        staff.is_superuser = true;
        auth.users().save(staff).await.unwrap();
        assert_eq!(bob.get("/layered/test/").await.body, "test");
        assert_eq!(bob.get("/root/").await.body, "root");
        assert_eq!(bob.get("/rendered/").await.body, "ABVP");
    }
}
