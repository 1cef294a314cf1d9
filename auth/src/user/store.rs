//! The user table (Django's model manager, as far as the runtime needs
//! it): the queries every part of the runtime runs against any user
//! model, with the database timeout and the cache's invalidation applied
//! once, here.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, sea_query::Expr,
};

use super::{AuthUser, BaseColumn, erased::LoadedUser};
use crate::{
    kernel::DateTime, kernel::database::Database, kernel::error::Result, kernel::future::BoxFuture,
    session::cache::CacheMap,
};

/// The queries of one user model, behind a trait object.
trait UserTable: Send + Sync {
    fn find_by_id<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>>;
    fn find_for_password_reset<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        email: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LoadedUser>, DbErr>>;
    fn update_password<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>>;
    fn update_last_login<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        when: DateTime,
    ) -> BoxFuture<'a, Result<(), DbErr>>;
    fn migrate<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>>;
}

/// [`UserTable`] for model `U`.
struct Table<U>(std::marker::PhantomData<fn() -> U>);

impl<U: AuthUser> UserTable for Table<U> {
    fn find_by_id<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>> {
        Box::pin(async move {
            let user = find_by_id::<U>(db, id).await?;
            Ok(user.map(|u| std::sync::Arc::new(u) as LoadedUser))
        })
    }

    fn find_for_password_reset<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        email: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LoadedUser>, DbErr>> {
        Box::pin(async move {
            let users = find_for_password_reset::<U>(db, email).await?;
            Ok(users
                .into_iter()
                .map(|u| std::sync::Arc::new(u) as LoadedUser)
                .collect())
        })
    }

    fn update_password<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(update_column::<U>(
            db,
            id,
            BaseColumn::Password,
            Expr::value(hash.to_owned()),
        ))
    }

    fn update_last_login<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        when: DateTime,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(update_column::<U>(
            db,
            id,
            BaseColumn::LastLogin,
            Expr::value(when),
        ))
    }

    fn migrate<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(crate::kernel::database::create_table::<U::Entity>(db))
    }
}

/// The cached users, by primary key.
pub(crate) type UserCache = std::sync::Arc<CacheMap<i64, LoadedUser>>;

/// The user table of the app: every query bounded by the database timeout,
/// every write dropping the cached user.
pub(crate) struct UserStore {
    db: Database,
    table: Box<dyn UserTable>,
    /// Users by id, when the cache is on.
    cache: Option<UserCache>,
}

impl UserStore {
    /// The table of model `U` in `db`.
    pub(crate) fn new<U: AuthUser>(db: Database, cache: Option<UserCache>) -> Self {
        UserStore {
            db,
            table: Box::new(Table::<U>(std::marker::PhantomData)),
            cache,
        }
    }

    /// The cache, when it is on.
    #[cfg(any(feature = "test-util", feature = "prometheus"))]
    pub(crate) fn cache(&self) -> Option<&UserCache> {
        self.cache.as_ref()
    }

    /// Runs a write to user `id` within the timeout, and drops the cached
    /// user whatever its outcome.
    pub(crate) async fn write<T>(
        &self,
        id: i64,
        query: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T> {
        let written = self.db.run(query).await;
        self.forget(id);
        written
    }

    /// Drops a cached user after a write to its row.
    pub(crate) fn forget(&self, id: i64) {
        if let Some(cache) = &self.cache {
            cache.remove(&id);
        }
    }

    /// The user with this id: from the cache when fresh, else the database.
    pub(crate) async fn get(&self, id: i64) -> Result<Option<LoadedUser>> {
        if let Some(cached) = self.cache.as_ref().and_then(|cache| cache.get(&id)) {
            // A hit builds no query.
            return Ok(Some(cached));
        }
        let load = self.db.run(self.table.find_by_id(self.db.conn(), id));
        match &self.cache {
            Some(cache) => cache.get_or_load(id, load).await,
            None => load.await,
        }
    }

    /// The user with this id, read from the database (never the cache:
    /// for checks that must see the current password and login).
    pub(crate) async fn get_fresh(&self, id: i64) -> Result<Option<LoadedUser>> {
        self.db.run(self.table.find_by_id(self.db.conn(), id)).await
    }

    /// The users a password-reset request for `email` goes to.
    pub(crate) async fn find_for_password_reset(&self, email: &str) -> Result<Vec<LoadedUser>> {
        self.db
            .run(self.table.find_for_password_reset(self.db.conn(), email))
            .await
    }

    /// Writes the password column of user `id`.
    pub(crate) async fn set_password_hash(&self, id: i64, hash: &str) -> Result<()> {
        self.write(id, self.table.update_password(self.db.conn(), id, hash))
            .await
    }

    /// Writes the `last_login` column of user `id`.
    pub(crate) async fn set_last_login(&self, id: i64, when: DateTime) -> Result<()> {
        self.write(id, self.table.update_last_login(self.db.conn(), id, when))
            .await
    }

    /// Creates the user table if missing.
    pub(crate) async fn migrate(&self) -> Result<()> {
        Ok(self.table.migrate(self.db.conn()).await?)
    }
}

/// Writes one base column of user `id`.
async fn update_column<U: AuthUser>(
    db: &impl ConnectionTrait,
    id: i64,
    column: BaseColumn,
    value: Expr,
) -> Result<(), DbErr> {
    U::Entity::update_many()
        .col_expr(U::column(column), value)
        .filter(U::column(BaseColumn::Id).eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Finds a user by exact (case-sensitive) username.
pub(crate) async fn find_by_username<U: AuthUser>(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<U>, DbErr> {
    let found = U::Entity::find()
        .filter(U::column(BaseColumn::Username).eq(username))
        .one(db)
        .await?
        .map(U::from_model);
    // Case-insensitive collations (MySQL's default) match "Alice" for
    // "alice": usernames stay case-sensitive, as documented.
    Ok(found.filter(|user| user.username == username))
}

/// The active users with a usable password whose email is `email`, case
/// and compatibility forms aside (Django's `PasswordResetForm.get_users`).
pub(crate) async fn find_for_password_reset<U: AuthUser>(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Vec<U>, DbErr> {
    use sea_orm::{
        QuerySelect,
        sea_query::{Expr, ExprTrait, Func},
    };
    let wanted = fold_email(email);
    let candidates = U::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(U::column(BaseColumn::Email))))
                .eq(email.to_lowercase()),
        )
        .filter(U::column(BaseColumn::IsActive).eq(true))
        .limit(100)
        .all(db)
        .await?;
    Ok(candidates
        .into_iter()
        .map(U::from_model)
        .filter(|user| user.has_usable_password() && fold_email(&user.email) == wanted)
        .collect())
}

/// An address compared as Django's `_unicode_ci_compare`: compatibility
/// normalised (NFKC) and case-folded.
fn fold_email(email: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    email.nfkc().collect::<String>().to_lowercase()
}

/// Finds a user by primary key.
pub(crate) async fn find_by_id<U: AuthUser>(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<U>, DbErr> {
    Ok(U::Entity::find()
        .filter(U::column(BaseColumn::Id).eq(id))
        .one(db)
        .await?
        .map(U::from_model))
}

/// Inserts a new user (its `id` must be 0) and returns it with its id.
pub(crate) async fn insert<U: AuthUser>(db: &impl ConnectionTrait, user: U) -> Result<U, DbErr> {
    let model = user.into_active_model().insert(db).await?;
    Ok(U::from_model(model))
}

/// Writes every column of an existing user.
pub(crate) async fn update<U: AuthUser>(db: &impl ConnectionTrait, user: U) -> Result<U, DbErr> {
    let model = user.into_active_model().update(db).await?;
    Ok(U::from_model(model))
}

/// Deletes user `id`.
pub(crate) async fn delete<U: AuthUser>(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    U::Entity::delete_many()
        .filter(U::column(BaseColumn::Id).eq(id))
        .exec(db)
        .await?;
    Ok(())
}
