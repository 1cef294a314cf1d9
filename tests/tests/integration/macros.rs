//! The accepted shapes of the macros, compiled with the rest of the tests
//! (the compile-fail cases are trybuild's, in `tests/ui`). A module whose
//! only test is `compile_only` is checked by being built: its test runs
//! nothing worth asserting.

#![deny(warnings)]

mod derive_minimal {
    use auth::AuthUser as _;

    #[derive(Clone, Debug, auth::AuthUser)]
    struct User {
        #[auth(base)]
        base: auth::AbstractUser,
    }

    #[test]
    fn from_base_makes_a_model() {
        let user = User::from_base(auth::AbstractUser::new("alice"));
        assert_eq!(user.username, "alice");
        let _entity: user_entity::Entity = user_entity::Entity;
    }
}

mod derive_many_extra_fields {
    #[derive(Clone, Debug, auth::AuthUser)]
    #[auth(table = "members", entity = "member_table")]
    pub struct Member {
        #[auth(base)]
        pub base: auth::AbstractUser,
        #[auth(max_length = 500, default = "")]
        pub bio: String,
        #[auth(unique, column = "handle_name")]
        pub handle: String,
        #[auth(indexed, default = 18)]
        pub age: i32,
        pub karma: i64,
        #[auth(default = 1.5)]
        pub ratio: f64,
        #[auth(default = true)]
        pub newsletter: bool,
        pub birth_date: Option<auth::Date>,
        pub verified_at: Option<auth::DateTime>,
        pub joined_on: auth::Date,
        pub seen_at: auth::DateTime,
        pub api_key: auth::Uuid,
        pub referrer: Option<auth::Uuid>,
        pub nickname: Option<String>,
        pub score: Option<f64>,
        pub level: Option<i32>,
        pub points: Option<i64>,
        pub admin_flag: Option<bool>,
    }

    #[test]
    fn attributes_name_the_table_entity_and_columns() {
        use auth::sea_orm::{EntityName, Iden};
        assert_eq!(member_table::Entity.table_name(), "members");
        assert_eq!(member_table::Column::Handle.to_string(), "handle_name");
        assert_eq!(member_table::Column::Bio.to_string(), "bio");
    }

    /// The derive's descriptor (Django's `_meta`): every added field in
    /// order, its kind and flags, and accessors that read and write it.
    #[test]
    fn the_model_descriptor_lists_and_reaches_every_added_field() {
        use auth::{__private::FieldKind, AuthUser};
        let meta = Member::META;
        let names: Vec<_> = meta.fields.iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "bio",
                "handle",
                "age",
                "karma",
                "ratio",
                "newsletter",
                "birth_date",
                "verified_at",
                "joined_on",
                "seen_at",
                "api_key",
                "referrer",
                "nickname",
                "score",
                "level",
                "points",
                "admin_flag"
            ]
        );
        let kinds: Vec<_> = meta.fields.iter().map(|f| (f.kind, f.optional)).collect();
        assert_eq!(kinds[0], (FieldKind::Text, false));
        assert_eq!(kinds[2], (FieldKind::Integer, false));
        assert_eq!(kinds[3], (FieldKind::BigInteger, false));
        assert_eq!(kinds[4], (FieldKind::Float, false));
        assert_eq!(kinds[5], (FieldKind::Boolean, false));
        assert_eq!(kinds[6], (FieldKind::Date, true));
        assert_eq!(kinds[7], (FieldKind::DateTime, true));
        assert_eq!(kinds[10], (FieldKind::Uuid, false));
        let birth = meta.field("birth_date").unwrap();
        assert_eq!(birth.label, "Birth date");
        assert!(!birth.required && !birth.unique);
        let handle = meta.field("handle").unwrap();
        assert!(handle.unique && handle.taken.is_some());
        assert!(meta.fields.iter().filter(|f| f.taken.is_some()).count() == 1);

        let mut member = Member::from_base(auth::AbstractUser::new("alice"));
        meta.set(&mut member, "age", " 42 ").unwrap();
        meta.set(&mut member, "nickname", "Al").unwrap();
        assert_eq!(member.age, 42);
        assert_eq!(member.nickname.as_deref(), Some("Al"));
        assert_eq!((meta.field("age").unwrap().get)(&member).to_string(), "42");
        let refused = meta.set(&mut member, "age", "old").unwrap_err();
        assert_eq!(refused.code(), "invalid");
        let unknown = meta.set(&mut member, "shoe_size", "9").unwrap_err();
        assert_eq!(unknown.code(), "unknown_field");
        assert_eq!(member.age, 42, "a refused value changes nothing");
    }
}

mod derive_two_models_in_one_module {
    #[derive(Clone, Debug, auth::AuthUser)]
    pub struct Customer {
        #[auth(base)]
        pub base: auth::AbstractUser,
        pub loyalty_points: i64,
    }

    #[derive(Clone, Debug, auth::AuthUser)]
    pub struct StaffMember {
        #[auth(base)]
        pub base: auth::AbstractUser,
        pub desk: Option<String>,
    }

    #[test]
    fn each_model_gets_its_own_table() {
        use auth::sea_orm::EntityName;
        assert_eq!(customer_entity::Entity.table_name(), "customers");
        assert_eq!(staff_member_entity::Entity.table_name(), "staff_members");
    }
}

mod login_required_keeps_the_handler {
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
            format!(
                "{}: {}",
                user.get().map(|u| u.bio.clone()).unwrap_or_default(),
                note.text
            )
        }
    }

    /// Compile-time only: the guarded handlers are still axum handlers.
    #[test]
    fn compile_only() {
        let _app: Router = Router::new()
            .route("/profile/", get(views::profile).post(views::note))
            .with_state("app");
    }
}

mod login_required_login_url_from_a_const {
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

    /// Compile-time only: a path constant is accepted as `login_url`.
    #[test]
    fn compile_only() {
        let _app: axum::Router = axum::Router::new()
            .route("/dashboard/", axum::routing::get(dashboard))
            .route("/settings/", axum::routing::get(settings_page));
    }
}

mod auth_urls_named_module {
    mod site {
        auth::auth_urls! {
            pub mod account_urls;
            sign_in: "/sign-in/" => LoginView { redirect_authenticated_user: true, next_page: "/home/" },
            change: "/change/" => PasswordChangeView { success_url: "/changed/", template_name: "change.html" },
        }
    }

    #[test]
    fn the_module_holds_the_router_and_the_paths() {
        let _router: axum::Router<&'static str> = site::account_urls::router();
        assert_eq!(site::account_urls::SIGN_IN, "/sign-in/");
        assert_eq!(site::account_urls::CHANGE, "/change/");
    }
}

mod auth_urls_seed_urls {
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

    #[test]
    fn reverse_finds_the_declared_paths() {
        let _app: axum::Router = axum::Router::new()
            .route("/profile/", axum::routing::get(profile))
            .merge(urls::router());
        assert_eq!(urls::reverse("logout"), Some(urls::LOGOUT));
    }
}

mod permission_models {
    use auth::AuthUser;

    fn names<U: AuthUser>() -> (&'static str, &'static str, &'static str) {
        (U::META.app_label, U::META.model_name, U::META.verbose_name)
    }

    #[derive(Clone, Debug, auth::AuthUser)]
    #[auth(table = "shop_staff_member")]
    pub struct StaffMember {
        #[auth(base)]
        pub base: auth::AbstractUser,
    }

    #[derive(Clone, Debug, auth::AuthUser)]
    pub struct Customer {
        #[auth(base)]
        pub base: auth::AbstractUser,
    }

    #[derive(Clone, Debug, auth::AuthUser)]
    #[auth(table = "people", app_label = "crm")]
    pub struct Person {
        #[auth(base)]
        pub base: auth::AbstractUser,
    }

    #[test]
    fn the_app_label_comes_from_the_table_or_the_attribute() {
        // Django: app label, lowercased class name, verbose name.
        assert_eq!(
            names::<StaffMember>(),
            ("shop", "staffmember", "staff member")
        );
        assert_eq!(names::<Customer>(), ("auth", "customer", "customer"));
        assert_eq!(names::<Person>(), ("crm", "person", "person"));
    }
}

mod permissions_declared {
    auth::permissions! {
        pub mod declared;
        blog: publish_post = "Can publish posts", r#move = "Can move posts";
        shop: refund = "Can refund";
        blog: archive_post = "Can archive posts";
    }

    #[derive(Clone, Debug, auth::AuthUser)]
    pub struct User {
        #[auth(base)]
        pub base: auth::AbstractUser,
    }

    fn is_staff(user: &User) -> bool {
        user.is_staff
    }

    #[auth::permission_required(
        declared::blog::PUBLISH_POST,
        login_url = "/in/",
        redirect_field_name = "to"
    )]
    async fn one() {}

    #[auth::permission_required([declared::blog::MOVE, "shop.refund"], raise_exception = false)]
    async fn several() {}

    #[auth::user_passes_test(|user: &User| user.is_active)]
    async fn closure() {}

    #[auth::user_passes_test(is_staff)]
    pub(crate) async fn visible(_body: String) {}

    #[test]
    fn constants_name_their_permissions() {
        assert_eq!(
            declared::blog::PUBLISH_POST.to_string(),
            "blog.publish_post"
        );
        assert_eq!(declared::blog::MOVE.codename(), "move");
        assert_eq!(declared::shop::REFUND.name(), "Can refund");
        let all: Vec<String> = declared::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(
            all,
            [
                "blog.publish_post",
                "blog.move",
                "blog.archive_post",
                "shop.refund"
            ]
        );
        let _: axum::routing::MethodRouter = axum::routing::get(one)
            .post(several)
            .put(closure)
            .patch(visible);
    }
}

mod auth_urls_under_a_prefix {
    auth::auth_urls! {
        pub mod account_urls;
        prefix = "/accounts";
        login: "/login/" => LoginView,
        password_change: "/password/" => PasswordChangeView,
        password_change_done: "/password/done/" => PasswordChangeDoneView,
    }

    #[tokio::test]
    async fn every_path_and_the_login_url_follow_the_prefix() {
        assert_eq!(account_urls::LOGIN, "/accounts/login/");
        assert_eq!(
            account_urls::reverse("password_change_done"),
            Some("/accounts/password/done/")
        );
        let auth = auth::Auth::<auth_tests::User>::builder()
            .database_url(auth_tests::sqlite_url())
            .settings(auth::Settings {
                secret_key: Some(auth_tests::TEST_SECRET.into()),
                ..Default::default()
            })
            .urls(account_urls::URLCONF)
            .build()
            .await
            .unwrap();
        assert_eq!(auth.login_url(), "/accounts/login/");
        let app = account_urls::router().layer(auth.layer());
        let mut client = auth_tests::client::Client::new(app);
        assert_eq!(client.get("/accounts/login/").await.status, 200);
        let page = client.get("/accounts/password/").await;
        assert_eq!(
            page.location(),
            Some("/accounts/login/?next=/accounts/password/")
        );
    }
}
