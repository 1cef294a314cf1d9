//! The user model, its table, hashing and `authenticate`, against a real
//! database.

use auth::{
    AbstractUser, AuthUser,
    password::{Check, Hasher},
    sea_orm::EntityTrait,
};
use auth_tests::User;

/// Every supported extra-field type, with column options.
#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "members")]
pub struct Member {
    #[auth(base)]
    pub base: AbstractUser,
    #[auth(max_length = 500, default = "hello")]
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
    pub api_key: auth::Uuid,
    pub referrer: Option<auth::Uuid>,
    pub nickname: Option<String>,
    pub score: Option<f64>,
    pub level: Option<i32>,
    pub points: Option<i64>,
    pub admin_flag: Option<bool>,
}

#[tokio::test]
async fn from_base_fills_extra_fields_with_their_defaults() {
    let member = Member::from_base(AbstractUser::new("x"));
    assert_eq!(member.bio, "hello");
    assert_eq!(
        (member.age, member.karma, member.ratio, member.newsletter),
        (18, 0, 1.5, true)
    );
    assert_eq!(member.nickname, None);
    assert_eq!(member.joined_on, auth::DateTime::now_utc().date());
    assert!(!member.api_key.is_nil());
}

auth_tests::backend_tests! {
    backends: [sqlite, postgres, mysql];

    async fn every_field_type_round_trips(backend: Backend) {
        let (auth, _db) = backend.auth::<Member>(auth::Settings::default()).await;
        let mut base = AbstractUser::new("marie");
        base.first_name = "Marie".into();
        base.email = "marie@example.com".into();
        let when = auth::DateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let member = Member {
            base,
            bio: "Physicist".into(),
            handle: "mc".into(),
            age: 66,
            karma: 9_000_000_000,
            ratio: 0.25,
            newsletter: false,
            birth_date: Some(time::macros::date!(1867 - 11 - 07)),
            verified_at: Some(when),
            joined_on: time::macros::date!(1891 - 11 - 03),
            api_key: auth::Uuid::new_v4(),
            referrer: None,
            nickname: Some("Manya".into()),
            score: Some(99.5),
            level: None,
            points: Some(-3),
            admin_flag: Some(true),
        };
        let saved = auth.users().insert(member.clone()).await.unwrap();
        assert!(saved.id > 0);
        let loaded = auth.users().get_by_username("marie").await.unwrap().unwrap();
        assert_eq!(loaded.id, saved.id);
        assert_eq!(loaded.first_name, "Marie");
        assert_eq!(
            (
                loaded.bio.as_str(),
                loaded.handle.as_str(),
                loaded.age,
                loaded.karma
            ),
            ("Physicist", "mc", 66, 9_000_000_000)
        );
        assert_eq!((loaded.ratio, loaded.newsletter), (0.25, false));
        assert_eq!(loaded.birth_date, member.birth_date);
        assert_eq!(loaded.verified_at, Some(when));
        assert_eq!(loaded.joined_on, member.joined_on);
        assert_eq!(loaded.api_key, member.api_key);
        assert_eq!(
            (loaded.referrer, loaded.nickname.as_deref()),
            (None, Some("Manya"))
        );
        assert_eq!(
            (loaded.score, loaded.level, loaded.points, loaded.admin_flag),
            (Some(99.5), None, Some(-3), Some(true))
        );

        // The unique column is enforced by the database.
        let mut twin = member;
        twin.base = AbstractUser::new("pierre");
        assert!(auth.users().insert(twin).await.is_err());

        // The generated entity works with ordinary SeaORM queries.
        let rows = member_entity::Entity::find().all(auth.db()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].handle, "mc");
    }

    async fn create_user_normalises_and_hashes(backend: Backend) {
        let (auth, _db) = backend.auth::<User>(auth::Settings::default()).await;
        let alice = auth
            .users()
            .create_user("  alice ", "Alice@EXAMPLE.COM", Some("pw-123456"))
            .await
            .unwrap();
        assert_eq!(alice.username, "alice");
        assert_eq!(alice.email, "Alice@example.com");
        assert!(
            alice
                .password
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            alice.password
        );
        assert!(alice.is_active && !alice.is_staff && !alice.is_superuser);
        assert_eq!(alice.bio, "");

        let admin = auth.users().create_superuser("root", "", None).await.unwrap();
        assert!(admin.is_staff && admin.is_superuser);
        assert!(!admin.has_usable_password());

        // Usernames are unique.
        assert!(auth.users().create_user("alice", "", None).await.is_err());
        // Blank usernames are refused.
        assert!(auth.users().create_user("   ", "", None).await.is_err());
    }

    async fn migrate_is_idempotent(backend: Backend) {
        let (auth, _db) = backend.auth::<User>(auth::Settings::default()).await;
        auth.users().create_user("alice", "", None).await.unwrap();
        auth.migrate().await.unwrap();
        auth.migrate().await.unwrap();
        assert!(auth.users().get_by_username("alice").await.unwrap().is_some());
    }

    async fn authenticate_accepts_only_the_right_active_user(backend: Backend) {
        let (auth, _db) = backend.auth::<User>(auth::Settings::default()).await;
        auth.users().create_user("alice", "", Some("correct horse"))
            .await
            .unwrap();
        let mut bob = auth
            .users()
            .create_user("bob", "", Some("battery staple"))
            .await
            .unwrap();
        bob.is_active = false;
        auth.users().save(bob).await.unwrap();

        let found = auth.authenticate("alice", "correct horse").await.unwrap();
        assert_eq!(found.map(|u| u.username.clone()).as_deref(), Some("alice"));
        // Surrounding whitespace in the username is stripped, as Django does.
        assert!(
            auth.authenticate(" alice ", "correct horse")
                .await
                .unwrap()
                .is_some()
        );

        assert!(
            auth.authenticate("alice", "wrong").await.unwrap().is_none(),
            "wrong password"
        );
        assert!(
            auth.authenticate("alice", "correct horse ")
                .await
                .unwrap()
                .is_none(),
            "passwords are not stripped"
        );
        assert!(
            auth.authenticate("Alice", "correct horse")
                .await
                .unwrap()
                .is_none(),
            "usernames are case-sensitive"
        );
        assert!(
            auth.authenticate("nobody", "correct horse")
                .await
                .unwrap()
                .is_none(),
            "unknown user"
        );
        assert!(
            auth.authenticate("bob", "battery staple")
                .await
                .unwrap()
                .is_none(),
            "inactive user"
        );
        assert!(auth.authenticate("", "").await.unwrap().is_none());
    }

    async fn outdated_hashes_are_upgraded_only_after_a_successful_check(backend: Backend) {
        let (auth, _db) = backend.auth::<User>(auth::Settings::default()).await;
        let mut carol = auth.users().create_user("carol", "", None).await.unwrap();
        let weak = Hasher::new(8, 1, 1).unwrap().make("old secret");
        carol.password = weak.clone();
        auth.users().save(carol).await.unwrap();

        assert!(auth.authenticate("carol", "wrong").await.unwrap().is_none());
        let stored = auth.users().get_by_username("carol").await.unwrap().unwrap();
        assert_eq!(
            stored.password, weak,
            "a failed check leaves the hash alone"
        );

        let user = auth
            .authenticate("carol", "old secret")
            .await
            .unwrap()
            .unwrap();
        let stored = auth.users().get_by_username("carol").await.unwrap().unwrap();
        assert!(
            stored
                .password
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{}",
            stored.password
        );
        assert_eq!(
            user.password, stored.password,
            "the returned user carries the new hash"
        );
        assert_eq!(
            Hasher::default().check("old secret", &stored.password),
            Check::Match {
                needs_upgrade: false
            }
        );
        assert!(
            auth.authenticate("carol", "old secret")
                .await
                .unwrap()
                .is_some()
        );
    }

    async fn django_hashes_are_imported_and_upgraded(backend: Backend) {
        let (auth, _db) = backend.auth::<User>(auth::Settings::default()).await;
        let mut dave = auth.users().create_user("dave", "", None).await.unwrap();
        // Made with Python's hashlib.pbkdf2_hmac, in Django's format.
        dave.password = "pbkdf2_sha256$1000$pepper$QaTwlQZS+av8xpxxEwll5NAb1iuYWklZWVbdjHtudhY=".into();
        auth.users().save(dave).await.unwrap();
        assert!(
            auth.authenticate("dave", "lètmein")
                .await
                .unwrap()
                .is_some()
        );
        let stored = auth.users().get_by_username("dave").await.unwrap().unwrap();
        assert!(
            stored.password.starts_with("$argon2id$"),
            "{}",
            stored.password
        );
    }

    async fn set_password_and_check_password(backend: Backend) {
        let (auth, _db) = backend.auth::<User>(auth::Settings::default()).await;
        let mut erin = auth.users().create_user("erin", "", Some("first")).await.unwrap();
        auth.users().set_password(&mut erin, "second").await.unwrap();
        assert!(auth.users().check_password(&mut erin, "second").await.unwrap());
        assert!(!auth.users().check_password(&mut erin, "first").await.unwrap());
        assert!(auth.authenticate("erin", "first").await.unwrap().is_none());
        assert!(auth.authenticate("erin", "second").await.unwrap().is_some());
    }

    async fn two_models_live_side_by_side(backend: Backend) {
        let db = backend.database().await;
        let users = db.auth::<User>(auth::Settings::default()).await;
        let members = db.auth::<Member>(auth::Settings::default()).await;
        users.users().create_user("same", "", None).await.unwrap();
        members.users().create_user("same", "", None).await.unwrap();
        assert!(users.users().get_by_username("same").await.unwrap().is_some());
        assert!(members.users().get_by_username("same").await.unwrap().is_some());
    }
}
