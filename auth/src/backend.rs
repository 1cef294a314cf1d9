//! Authentication backends (Django's `AUTHENTICATION_BACKENDS` and
//! `backends.py`): who may log in with which credentials, and how the user
//! of a session is loaded again on later requests.
//!
//! [`Auth::authenticate`](crate::Auth::authenticate) tries each configured
//! backend in order and takes the first user one returns. The backend's
//! [`name`](Backend::name) is stored in the session (`_auth_user_backend`);
//! later requests load the user through that same backend, and a session
//! whose backend is no longer configured is anonymous. Without
//! configuration the only backend is [`ModelBackend`].
//!
//! Every attempt is counted before any backend checks the password, per
//! username and client address, per username and per address (see
//! `throttle.rs`); past a limit within the window, `authenticate` fails
//! with [`Error::Throttled`] without asking any backend.

use std::{future::Future, sync::Arc};

use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    Auth, AuthUser, DateTime, Error, Result,
    app::{BoxFuture, Core, UserModel},
    permissions::{UserPermissions, tables},
    throttle::login_counters,
    user::{self, LoadedUser},
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
///         let ok = auth.check_password(&mut user, password).await?;
///         Ok((ok && user.is_active).then_some(user))
///     }
///
///     async fn get_user(&self, auth: &Auth<User>, id: i64) -> Result<Option<User>> {
///         Ok(auth.get_by_id(id).await?.filter(|user| user.is_active))
///     }
/// }
/// ```
pub trait Backend<U: AuthUser>: Send + Sync + 'static {
    /// The name stored in the session (Django stores the dotted path of the
    /// backend class). Keep it stable: sessions of a name that is no longer
    /// configured become anonymous.
    fn name(&self) -> &'static str;

    /// The user these credentials belong to, or `None` to let the next
    /// backend try. An error stops the chain.
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
        let core = &auth.core;
        let username = crate::normalize_username(username);
        let Some(mut found) = auth.get_by_username(&username).await? else {
            // Equalise timing with the existing-user path: one hash.
            core.hasher.make_async(password).await?;
            return Ok(None);
        };
        // An inactive user still costs the same hash as an active one.
        let needs_upgrade = match core.hasher.check_async(password, &found.password).await? {
            crate::password::Check::Mismatch => return Ok(None),
            crate::password::Check::Match { needs_upgrade } => needs_upgrade,
        };
        if !found.is_active {
            return Ok(None);
        }
        if needs_upgrade {
            let upgraded = core.set_password(found.id, password).await?;
            found.base_mut().password = upgraded;
        }
        Ok(Some(found))
    }

    async fn get_user(&self, auth: &Auth<U>, id: i64) -> Result<Option<U>> {
        Ok(auth.get_by_id(id).await?.filter(|user| user.is_active))
    }

    /// From the permission tables, in one query: those granted to the user
    /// and to their groups; every permission for an active superuser;
    /// none for an inactive user.
    async fn permissions(&self, auth: &Auth<U>, user: &U) -> Result<UserPermissions> {
        if !user.is_active {
            return Ok(UserPermissions::none());
        }
        let core = &auth.core;
        core.permission_loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (direct, groups, every) = core
            .with_timeout(tables::load(
                &core.db,
                &core.links,
                user.id,
                user.is_superuser,
            ))
            .await?;
        Ok(UserPermissions::new(
            true,
            user.is_superuser,
            direct,
            groups,
            every,
        ))
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
}

/// The configured backends of user model `U`, in order.
pub(crate) struct Backends<U> {
    list: Vec<Arc<dyn DynBackend<U>>>,
}

impl<U: AuthUser> Backends<U> {
    /// No backend yet.
    pub(crate) fn new() -> Self {
        Backends { list: Vec::new() }
    }

    /// Adds a backend after the others.
    pub(crate) fn push(&mut self, backend: impl Backend<U>) {
        self.list.push(Arc::new(backend));
    }

    /// Whether no backend was added.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl<U: AuthUser> UserModel for Backends<U> {
    fn authenticate<'a>(
        &'a self,
        core: &'a Arc<Core>,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<(LoadedUser, &'static str)>>> {
        Box::pin(async move {
            let request = crate::session::request::current();
            let normalized = crate::normalize_username(username);
            let client = request.as_ref().and_then(|r| r.client_ip);
            let counters = login_counters(&core.settings, &normalized, client);
            // Counted before any backend checks the password (see `throttle`).
            let reservation = match core.throttle.reserve(&counters).await {
                Err(Error::Throttled) => {
                    tracing::warn!(
                        client = %crate::throttle::client_key(client),
                        window_seconds = core.settings.login_failure_window.as_secs(),
                        "login locked out after too many failures"
                    );
                    return Err(Error::Throttled);
                }
                other => other?,
            };
            let auth = Auth::<U>::from_core(core.clone());
            for backend in &self.list {
                match backend.authenticate(&auth, username, password).await {
                    Ok(Some(user)) => {
                        core.throttle.succeeded(reservation).await?;
                        // Django tags the user with `user.backend`; here the
                        // request remembers it for `login`.
                        if let Some(request) = &request {
                            request.set_authenticated_by(user.id, backend.name());
                        }
                        return Ok(Some((Arc::new(user) as LoadedUser, backend.name())));
                    }
                    Ok(None) => {}
                    Err(Error::Overloaded) => {
                        // Refused before the password was checked: not a guess.
                        core.throttle.did_not_happen(reservation).await?;
                        return Err(Error::Overloaded);
                    }
                    Err(err) => return Err(err),
                }
            }
            core.throttle.failed(reservation);
            Ok(None)
        })
    }

    fn get_user<'a>(
        &'a self,
        core: &'a Arc<Core>,
        backend: &'a str,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>>> {
        Box::pin(async move {
            let Some(backend) = self.list.iter().find(|b| b.name() == backend) else {
                return Ok(None);
            };
            let auth = Auth::<U>::from_core(core.clone());
            let user = backend.get_user(&auth, id).await?;
            Ok(user.map(|u| Arc::new(u) as LoadedUser))
        })
    }

    fn first_backend(&self) -> &'static str {
        self.list.first().map_or(ModelBackend::NAME, |b| b.name())
    }

    fn find_by_id<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>> {
        Box::pin(async move {
            let user = user::find_by_id::<U>(db, id).await?;
            Ok(user.map(|u| Arc::new(u) as LoadedUser))
        })
    }

    fn find_for_password_reset<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        email: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LoadedUser>, DbErr>> {
        Box::pin(async move {
            let users = user::find_for_password_reset::<U>(db, email).await?;
            Ok(users
                .into_iter()
                .map(|u| Arc::new(u) as LoadedUser)
                .collect())
        })
    }

    fn update_password<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(user::update_password::<U>(db, id, hash))
    }

    fn update_last_login<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        when: DateTime,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(user::update_last_login::<U>(db, id, when))
    }

    fn migrate<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(crate::app::schema::create_table::<U::Entity>(db))
    }

    fn permissions<'a>(
        &'a self,
        core: &'a Arc<Core>,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<UserPermissions>> {
        Box::pin(async move {
            let Some(user) = user.clone().as_any().downcast::<U>().ok() else {
                return Ok(UserPermissions::none());
            };
            let auth = Auth::<U>::from_core(core.clone());
            let mut merged = UserPermissions::none();
            for backend in &self.list {
                merged.merge(backend.permissions(&auth, &user).await?);
            }
            Ok(merged)
        })
    }
}
