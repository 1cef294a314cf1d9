//! Authentication backends (Django's `AUTHENTICATION_BACKENDS` and
//! `backends.py`): who may log in with which credentials, and how the user
//! of a session is loaded again on later requests.
//!
//! [`auth::authenticate`](crate::authenticate) (and
//! [`Auth::authenticate`](crate::Auth::authenticate) outside a request)
//! normalises the username once, counts the attempt (see `throttle.rs`:
//! past a limit it fails with [`Error::Throttled`](crate::Error::Throttled)
//! without asking any backend), then tries each configured backend in
//! order and takes the first user one returns.
//! The backend's [`name`](Backend::name) is stored in the session
//! (`_auth_user_backend`); later requests load the user through that same
//! backend, and a session whose backend is no longer configured is
//! anonymous. Without configuration the only backend is [`ModelBackend`].

use std::{future::Future, sync::Arc};

use crate::{
    app::Auth,
    apps::{AnyBackends, Backends, Shared},
    kernel::error::Result,
    kernel::future::BoxFuture,
    password::Check,
    permissions::UserPermissions,
    user::AuthUser,
    user::{
        erased::{self, LoadedUser},
        store,
    },
};

/// A way to check credentials and to load the user of a session (Django's
/// authentication backend classes). Implement it for "log in with your
/// email address", an LDAP directory, a remote user header, …, and add it
/// with [`AuthBuilder::backend`](crate::AuthBuilder::backend).
///
/// ```
/// # #[derive(Clone, Debug, auth::AuthUser)]
/// # struct User { #[auth(base)] base: auth::AbstractUser }
/// use auth::{Auth, Backend, Result};
///
/// /// Logs users in with their email address instead of their username.
/// struct EmailBackend;
///
/// impl Backend<User> for EmailBackend {
///     fn name(&self) -> &'static str {
///         "accounts.EmailBackend"
///     }
///
///     async fn authenticate(&self, auth: &Auth<User>, email: &str, password: &str) -> Result<Option<User>> {
///         use auth::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
///         let found = user_entity::Entity::find()
///             .filter(user_entity::Column::Email.eq(email))
///             .one(auth.db())
///             .await?;
///         let Some(mut user) = found.map(User::from) else {
///             return Ok(None);
///         };
///         let ok = auth.users().check_password(&mut user, password).await?;
///         Ok((ok && user.is_active).then_some(user))
///     }
///
///     async fn get_user(&self, auth: &Auth<User>, id: i64) -> Result<Option<User>> {
///         Ok(auth.users().get_by_id(id).await?.filter(|user| user.is_active))
///     }
/// }
/// ```
pub trait Backend<U: AuthUser>: Send + Sync + 'static {
    /// The name stored in the session (Django stores the dotted path of the
    /// backend class). Keep it stable: sessions of a name that is no longer
    /// configured become anonymous.
    fn name(&self) -> &'static str;

    /// The user these credentials belong to, or `None` to let the next
    /// backend try. An error stops the chain. `username` is already
    /// stripped and NFKC-normalised (Django's `UsernameField`).
    fn authenticate(
        &self,
        auth: &Auth<U>,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<U>>> + Send;

    /// The user with this id for a session made by this backend, or `None`
    /// (for example when the user was deactivated).
    fn get_user(&self, auth: &Auth<U>, id: i64) -> impl Future<Output = Result<Option<U>>> + Send;

    /// The permissions this backend gives `user` (Django's
    /// `get_user_permissions` and `get_group_permissions`); none by
    /// default. The results of all backends are merged.
    fn permissions(
        &self,
        auth: &Auth<U>,
        user: &U,
    ) -> impl Future<Output = Result<UserPermissions>> + Send {
        let _ = (auth, user);
        async { Ok(UserPermissions::none()) }
    }
}

/// Users from the model's own table, checked by username and password
/// (Django's `ModelBackend`): inactive users cannot log in, and their
/// sessions are anonymous.
#[derive(Clone, Copy, Debug, Default)]
pub struct ModelBackend;

impl ModelBackend {
    /// The name sessions store for this backend.
    pub const NAME: &'static str = "auth.ModelBackend";

    /// `get_user`: the user with this id if active, as the user cache
    /// holds it (the backend list hands it out without a copy).
    async fn active_user(shared: &Shared, id: i64) -> Result<Option<LoadedUser>> {
        Ok(shared
            .users
            .get(id)
            .await?
            .filter(|user| user.base().is_active))
    }
}

impl<U: AuthUser> Backend<U> for ModelBackend {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    async fn authenticate(
        &self,
        auth: &Auth<U>,
        username: &str,
        password: &str,
    ) -> Result<Option<U>> {
        let shared = &auth.shared;
        let db = &shared.db;
        let found = db
            .run(store::find_by_username::<U>(db.conn(), username))
            .await?;
        let Some(mut found) = found else {
            // Equalise timing with the existing-user path: one hash.
            shared.hasher.make_async(password).await?;
            return Ok(None);
        };
        // An inactive user still costs the same hash as an active one.
        let needs_upgrade = match shared.hasher.check_async(password, &found.password).await? {
            Check::Mismatch => return Ok(None),
            Check::Match { needs_upgrade } => needs_upgrade,
        };
        if !found.is_active {
            return Ok(None);
        }
        if needs_upgrade {
            auth.users().set_password(&mut found, password).await?;
        }
        Ok(Some(found))
    }

    async fn get_user(&self, auth: &Auth<U>, id: i64) -> Result<Option<U>> {
        Ok(ModelBackend::active_user(&auth.shared, id)
            .await?
            .and_then(erased::downcast::<U>))
    }

    /// From the permission tables, in one query: those granted to the user
    /// and to their groups; every permission for an active superuser;
    /// none for an inactive user.
    async fn permissions(&self, auth: &Auth<U>, user: &U) -> Result<UserPermissions> {
        if !user.is_active {
            return Ok(UserPermissions::none());
        }
        let shared = &auth.shared;
        shared.permissions.load(&shared.db, user.base()).await
    }
}

/// [`Backend`] with its futures boxed, so backends of different types sit
/// in one list.
trait DynBackend<U>: Send + Sync {
    fn name(&self) -> &'static str;
    fn authenticate<'a>(
        &'a self,
        auth: &'a Auth<U>,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<U>>>;
    fn get_user<'a>(&'a self, auth: &'a Auth<U>, id: i64) -> BoxFuture<'a, Result<Option<U>>>;
    fn permissions<'a>(
        &'a self,
        auth: &'a Auth<U>,
        user: &'a U,
    ) -> BoxFuture<'a, Result<UserPermissions>>;
    /// Whether this is the built-in [`ModelBackend`].
    fn is_model_backend(&self) -> bool;
}

impl<U: AuthUser, B: Backend<U>> DynBackend<U> for B {
    fn name(&self) -> &'static str {
        Backend::name(self)
    }
    fn authenticate<'a>(
        &'a self,
        auth: &'a Auth<U>,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<U>>> {
        Box::pin(Backend::authenticate(self, auth, username, password))
    }
    fn get_user<'a>(&'a self, auth: &'a Auth<U>, id: i64) -> BoxFuture<'a, Result<Option<U>>> {
        Box::pin(Backend::get_user(self, auth, id))
    }
    fn permissions<'a>(
        &'a self,
        auth: &'a Auth<U>,
        user: &'a U,
    ) -> BoxFuture<'a, Result<UserPermissions>> {
        Box::pin(Backend::permissions(self, auth, user))
    }
    fn is_model_backend(&self) -> bool {
        std::any::TypeId::of::<B>() == std::any::TypeId::of::<ModelBackend>()
    }
}

/// The backends of user model `U`, in order, while the app is built.
pub(crate) struct BackendList<U> {
    list: Vec<Arc<dyn DynBackend<U>>>,
}

impl<U: AuthUser> BackendList<U> {
    /// No backend yet.
    pub(crate) fn new() -> Self {
        BackendList { list: Vec::new() }
    }

    /// Adds a backend after the others.
    pub(crate) fn push(&mut self, backend: impl Backend<U>) {
        self.list.push(Arc::new(backend));
    }

    /// The list for the app: [`ModelBackend`] alone when none was added.
    pub(crate) fn build(mut self) -> Backends {
        if self.list.is_empty() {
            self.push(ModelBackend);
        }
        Box::new(self)
    }
}

impl<U: AuthUser> AnyBackends for BackendList<U> {
    fn authenticate<'a>(
        &'a self,
        shared: &'a Arc<Shared>,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<(LoadedUser, &'static str)>>> {
        Box::pin(async move {
            let auth = Auth::<U>::from_shared(shared.clone());
            for backend in &self.list {
                if let Some(user) = backend.authenticate(&auth, username, password).await? {
                    return Ok(Some((Arc::new(user) as LoadedUser, backend.name())));
                }
            }
            Ok(None)
        })
    }

    fn get_user<'a>(
        &'a self,
        shared: &'a Arc<Shared>,
        backend: &'a str,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>>> {
        Box::pin(async move {
            let Some(backend) = self.list.iter().find(|b| b.name() == backend) else {
                return Ok(None);
            };
            if backend.is_model_backend() {
                // The cached user itself, not a copy made to be wrapped again.
                return ModelBackend::active_user(shared, id).await;
            }
            let auth = Auth::<U>::from_shared(shared.clone());
            let user = backend.get_user(&auth, id).await?;
            Ok(user.map(|u| Arc::new(u) as LoadedUser))
        })
    }

    fn permissions<'a>(
        &'a self,
        shared: &'a Arc<Shared>,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<UserPermissions>> {
        Box::pin(async move {
            let Some(user) = user.clone().as_any().downcast::<U>().ok() else {
                return Ok(UserPermissions::none());
            };
            let auth = Auth::<U>::from_shared(shared.clone());
            let mut merged = UserPermissions::none();
            for backend in &self.list {
                merged.merge(backend.permissions(&auth, &user).await?);
            }
            Ok(merged)
        })
    }

    fn named(&self, name: &str) -> Option<&'static str> {
        self.list.iter().map(|b| b.name()).find(|n| *n == name)
    }

    fn first(&self) -> &'static str {
        self.list.first().map_or(ModelBackend::NAME, |b| b.name())
    }
}
