//! [`Users`]: the users of one app (Django's `User.objects` with the
//! model's password methods): find, create, save and delete them, set and
//! check their passwords with the configured hasher.

use std::sync::Arc;

use sea_orm::{EntityTrait, QueryFilter};

use crate::apps::Shared;
use crate::{
    kernel::error::{Error, Result, ValidationError},
    password::{Check, validation::validate_password_async},
    user::{AbstractUser, AuthUser},
    user::{
        normalize::{normalize_email, normalize_username},
        store,
    },
};

/// The users of an app, from [`Auth::users`](crate::Auth::users) (Django's
/// `User.objects`).
pub struct Users<'a, U> {
    shared: &'a Arc<Shared>,
    _user: std::marker::PhantomData<fn() -> U>,
}

impl<U> std::fmt::Debug for Users<'_, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl<'a, U: AuthUser> Users<'a, U> {
    pub(crate) fn new(shared: &'a Arc<Shared>) -> Self {
        Users {
            shared,
            _user: std::marker::PhantomData,
        }
    }

    /// The user with exactly this username (case-sensitive).
    pub async fn get_by_username(&self, username: &str) -> Result<Option<U>> {
        let db = &self.shared.db;
        db.run(store::find_by_username::<U>(db.conn(), username))
            .await
    }

    /// The user with this id (from the cache when it is on).
    pub async fn get_by_id(&self, id: i64) -> Result<Option<U>> {
        Ok(self
            .shared
            .users
            .get(id)
            .await?
            .and_then(crate::user::erased::downcast::<U>))
    }

    /// Creates an active, non-staff user (Django's `create_user`): the
    /// username is normalised, the email's domain lowercased, and a `None`
    /// password stored as unusable.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        password: Option<&str>,
    ) -> Result<U> {
        let user = self.new_user(username, email, password).await?;
        self.insert(user).await
    }

    /// Creates an active staff superuser (Django's `create_superuser`).
    pub async fn create_superuser(
        &self,
        username: &str,
        email: &str,
        password: Option<&str>,
    ) -> Result<U> {
        let mut user = self.new_user(username, email, password).await?;
        let base = user.base_mut();
        base.is_staff = true;
        base.is_superuser = true;
        self.insert(user).await
    }

    /// Inserts a user built by hand (its `id` must be 0); the user with
    /// its id.
    pub async fn insert(&self, user: U) -> Result<U> {
        let db = &self.shared.db;
        db.run(store::insert(db.conn(), user)).await
    }

    /// Writes every column of an existing user. Saving a user with
    /// `is_active == false` ends all their sessions.
    pub async fn save(&self, user: U) -> Result<U> {
        let id = user.id;
        let active = user.is_active;
        let watches: Vec<_> = (self.shared.apps.iter())
            .filter_map(|app| app.email_watch)
            .filter(|watch| (watch.wanted)(&self.shared.settings))
            .collect();
        let old_email = match !watches.is_empty() {
            true => self
                .shared
                .users
                .get_fresh(id)
                .await?
                .map(|old| old.base().email.clone()),
            false => None,
        };
        let saved = self
            .shared
            .users
            .write(id, store::update(self.shared.db.conn(), user))
            .await?;
        if !active {
            self.end_sessions(id).await?;
        }
        if let Some(old) = old_email
            && old != saved.email
        {
            for watch in watches {
                (watch.changed)(self.shared, &saved.username, &old, &saved.email);
            }
        }
        Ok(saved)
    }

    /// Deletes a user and ends all their sessions.
    pub async fn delete(&self, user: U) -> Result<()> {
        let id = user.id;
        self.shared
            .users
            .write(id, store::delete::<U>(self.shared.db.conn(), id))
            .await?;
        self.end_sessions(id).await
    }

    /// Ends user `id`'s sessions where the store can list them (an app's
    /// own store cannot: there the session dies on its next request, when
    /// its user no longer loads as active).
    async fn end_sessions(&self, id: i64) -> Result<()> {
        let store = &self.shared.sessions.store;
        match store.sessions_of(id).await {
            Ok(records) => {
                crate::login::registry::end_records(
                    self.shared,
                    &records,
                    crate::events::EndedBy::Admin,
                )
                .await?;
                Ok(())
            }
            Err(Error::Config(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Hashes `raw` with the configured hasher (on a blocking thread,
    /// within its bound), stores it on `user` and saves the password
    /// column: every session of the user made with the old password stops
    /// being valid (Django's `set_password` and `save`).
    pub async fn set_password(&self, user: &mut U, raw: &str) -> Result<()> {
        let hash = self.shared.hasher.make_async(raw).await?;
        self.shared.users.set_password_hash(user.id, &hash).await?;
        user.base_mut().password = hash;
        let event = crate::events::Event::new(
            crate::events::EventKind::PasswordChanged,
            self.shared.clock.now(),
        );
        self.shared
            .events
            .emit(event.user(user.id, &user.username).email(&user.email));
        Ok(())
    }

    /// Checks `raw` against `user`'s stored hash (on a blocking thread),
    /// storing a fresh hash when the stored one is outdated (Django's
    /// `check_password`).
    pub async fn check_password(&self, user: &mut U, raw: &str) -> Result<bool> {
        match self.shared.hasher.check_async(raw, &user.password).await? {
            Check::Mismatch => Ok(false),
            Check::Match { needs_upgrade } => {
                if needs_upgrade {
                    self.set_password(user, raw).await?;
                }
                Ok(true)
            }
        }
    }

    /// Runs the password validators for `user` (Django's
    /// `validate_password`).
    pub async fn validate_password(
        &self,
        password: &str,
        user: Option<&AbstractUser>,
    ) -> std::result::Result<(), Vec<ValidationError>> {
        validate_password_async(password, user, &self.shared.validators).await
    }

    /// An unsaved active user as `create_user` makes it: username
    /// normalised (refused when empty), email domain lowercased, password
    /// hashed or unusable, extra fields at their defaults.
    pub(crate) async fn new_user(
        &self,
        username: &str,
        email: &str,
        password: Option<&str>,
    ) -> Result<U> {
        let username = normalize_username(username);
        if username.is_empty() {
            return Err(Error::Invalid("The given username must be set".into()));
        }
        let mut base = AbstractUser::new(username);
        base.email = normalize_email(email);
        let mut user = U::from_base(base);
        if let Some(raw) = password {
            self.hash_into(&mut user, raw).await?;
        }
        Ok(user)
    }

    /// Hashes `raw` into an unsaved user's password field.
    pub(crate) async fn hash_into(&self, user: &mut U, raw: &str) -> Result<()> {
        user.base_mut().password = self.shared.hasher.make_async(raw).await?;
        Ok(())
    }

    /// Whether another user already has `user`'s value of the unique extra
    /// field `name`.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    pub(crate) async fn extra_taken(&self, user: &U, name: &str) -> Result<bool> {
        let Some(condition) = U::META
            .field(name)
            .and_then(|f| f.taken)
            .map(|taken| taken(user))
        else {
            return Ok(false);
        };
        let db = &self.shared.db;
        let found = db
            .run(U::Entity::find().filter(condition).one(db.conn()))
            .await?;
        Ok(found.is_some())
    }
}
