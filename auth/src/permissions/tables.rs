//! The tables of groups and permissions, and the queries on them:
//! `auth_permission` (id, app_label, codename, name; unique app label and
//! codename), `auth_group` (id, unique name), `auth_group_permissions`,
//! and, named after the user table, `<users>_groups` and
//! `<users>_user_permissions` (Django's names). Links cascade when a user,
//! group or permission is deleted.

use std::collections::BTreeSet;

use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, SqlErr,
    sea_query::{
        Alias, ColumnDef, Condition, Expr, ExprTrait, ForeignKey, ForeignKeyAction, Index,
        IndexCreateStatement, Query, SelectStatement, Table, TableCreateStatement, UnionType,
    },
};

use super::name::split_name;
use crate::kernel::{
    database::Database,
    error::{Error, Result},
};

const PERMISSION: &str = "auth_permission";
const GROUP: &str = "auth_group";
const GROUP_PERMISSIONS: &str = "auth_group_permissions";

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// The group and permission tables of an app: the link tables of its
/// user model and the permissions `migrate` makes sure exist.
#[derive(Debug)]
pub(crate) struct PermissionTables {
    pub(crate) links: Links,
    /// The user model's four defaults and the app's declared permissions,
    /// `(app_label, codename, name)`.
    declared: Vec<(String, String, String)>,
    /// How many times a user's permissions were loaded (a test hook: one
    /// per request however many checks).
    #[cfg(feature = "test-util")]
    pub(crate) loads: std::sync::atomic::AtomicU64,
}

impl PermissionTables {
    pub(crate) fn new(user_table: &str, declared: Vec<(String, String, String)>) -> Self {
        PermissionTables {
            links: Links::new(user_table),
            declared,
            #[cfg(feature = "test-util")]
            loads: Default::default(),
        }
    }

    /// `app_label.codename` of every permission the app has: its own and
    /// the user model's defaults.
    pub(crate) fn declared_names(&self) -> impl Iterator<Item = String> + '_ {
        self.declared
            .iter()
            .map(|(app, codename, _)| format!("{app}.{codename}"))
    }

    /// Creates the tables if missing and inserts the declared permissions
    /// that are missing.
    /// How many permissions were inserted.
    pub(crate) async fn migrate(&self, db: &Database) -> Result<u64> {
        migrate(db.conn(), &self.links).await?;
        Ok(insert_missing(db.conn(), &self.declared).await?)
    }

    /// Whether user `user_id` is in one of the groups named `names`.
    #[cfg(feature = "mfa")]
    pub(crate) async fn in_any_group(
        &self,
        db: &Database,
        user_id: i64,
        names: &[String],
    ) -> Result<bool> {
        if names.is_empty() {
            return Ok(false);
        }
        db.run(in_any_group(db.conn(), &self.links, user_id, names))
            .await
    }

    /// Which of the groups `names` do not exist.
    #[cfg(feature = "mfa")]
    pub(crate) async fn missing_groups(
        &self,
        db: &Database,
        names: &[String],
    ) -> Result<Vec<String>> {
        let mut missing = Vec::new();
        for name in names {
            if db
                .run(id_where(db.conn(), GROUP, &[("name", name)]))
                .await?
                .is_none()
            {
                missing.push(name.clone());
            }
        }
        Ok(missing)
    }

    /// `user`'s permissions from the tables, in one query (every
    /// permission for a superuser).
    pub(crate) async fn load(
        &self,
        db: &Database,
        user: &crate::user::AbstractUser,
    ) -> Result<super::user_permissions::UserPermissions> {
        #[cfg(feature = "test-util")]
        self.loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (direct, groups, every) = db
            .run(load(db.conn(), &self.links, user.id, user.is_superuser))
            .await?;
        Ok(super::user_permissions::UserPermissions::new(
            true,
            user.is_superuser,
            direct,
            groups,
            every,
        ))
    }
}

/// The link tables of one user model.
#[derive(Clone, Debug)]
pub(crate) struct Links {
    users: String,
    groups: String,
    user_permissions: String,
}

impl Links {
    pub(crate) fn new(user_table: &str) -> Self {
        Links {
            users: user_table.to_owned(),
            groups: format!("{user_table}_groups"),
            user_permissions: format!("{user_table}_user_permissions"),
        }
    }
}

/// A constraint or index name within MySQL's 64 characters.
fn constraint_name(table: &str, what: &str) -> String {
    let name = format!("{table}_{what}");
    if name.len() <= 60 {
        return name;
    }
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    format!("{}_{}", &name[..40], &digest[..12])
}

fn id_column() -> ColumnDef {
    ColumnDef::new(a("id"))
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

/// A table linking `table.left` to `left_table.id` and `table.right` to
/// `right_table.id`, unique per pair, cascading.
fn link_table(
    table: &str,
    (left, left_table): (&str, &str),
    (right, right_table): (&str, &str),
) -> (TableCreateStatement, IndexCreateStatement) {
    let create = Table::create()
        .table(a(table))
        .if_not_exists()
        .col(id_column())
        .col(ColumnDef::new(a(left)).big_integer().not_null())
        .col(ColumnDef::new(a(right)).big_integer().not_null())
        .foreign_key(
            ForeignKey::create()
                .name(constraint_name(table, left))
                .from(a(table), a(left))
                .to(a(left_table), a("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name(constraint_name(table, right))
                .from(a(table), a(right))
                .to(a(right_table), a("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned();
    let unique = Index::create()
        .name(constraint_name(table, "pair"))
        .table(a(table))
        .col(a(left))
        .col(a(right))
        .unique()
        .to_owned();
    (create, unique)
}

/// Runs `create` and adds `index` (inside the `CREATE TABLE` on MySQL,
/// which has no `CREATE INDEX IF NOT EXISTS`).
async fn create(
    db: &impl ConnectionTrait,
    mut create: TableCreateStatement,
    mut index: IndexCreateStatement,
) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::MySql {
        create.index(&mut index);
        db.execute(&create).await?;
    } else {
        db.execute(&create).await?;
        index.if_not_exists();
        db.execute(&index).await?;
    }
    Ok(())
}

/// Creates the tables if missing.
pub(crate) async fn migrate(db: &impl ConnectionTrait, links: &Links) -> Result<(), DbErr> {
    let permission = Table::create()
        .table(a(PERMISSION))
        .if_not_exists()
        .col(id_column())
        .col(ColumnDef::new(a("app_label")).string_len(100).not_null())
        .col(ColumnDef::new(a("codename")).string_len(100).not_null())
        .col(ColumnDef::new(a("name")).string_len(255).not_null())
        .to_owned();
    let unique = Index::create()
        .name("auth_permission_app_label_codename")
        .table(a(PERMISSION))
        .col(a("app_label"))
        .col(a("codename"))
        .unique()
        .to_owned();
    create(db, permission, unique).await?;
    let group = Table::create()
        .table(a(GROUP))
        .if_not_exists()
        .col(id_column())
        .col(ColumnDef::new(a("name")).string_len(150).not_null())
        .to_owned();
    let unique = Index::create()
        .name("auth_group_name")
        .table(a(GROUP))
        .col(a("name"))
        .unique()
        .to_owned();
    create(db, group, unique).await?;
    let (table, unique) = link_table(
        GROUP_PERMISSIONS,
        ("group_id", GROUP),
        ("permission_id", PERMISSION),
    );
    create(db, table, unique).await?;
    let (table, unique) = link_table(
        &links.groups,
        ("user_id", &links.users),
        ("group_id", GROUP),
    );
    create(db, table, unique).await?;
    let (table, unique) = link_table(
        &links.user_permissions,
        ("user_id", &links.users),
        ("permission_id", PERMISSION),
    );
    create(db, table, unique).await
}

/// Inserts the permissions of `declared` that do not exist yet; returns how
/// many. Never deletes or renames.
pub(crate) async fn insert_missing(
    db: &impl ConnectionTrait,
    declared: &[(String, String, String)],
) -> Result<u64, DbErr> {
    let existing: BTreeSet<String> = rows(db, all_permissions_query())
        .await?
        .into_iter()
        .map(|(app, codename, _)| format!("{app}.{codename}"))
        .collect();
    let mut inserted = 0;
    for (app, codename, name) in declared {
        if existing.contains(&format!("{app}.{codename}")) {
            continue;
        }
        let insert = Query::insert()
            .into_table(a(PERMISSION))
            .columns([a("app_label"), a("codename"), a("name")])
            .values_panic([
                app.clone().into(),
                codename.clone().into(),
                name.clone().into(),
            ])
            .to_owned();
        match db.execute(&insert).await {
            Ok(_) => inserted += 1,
            // Inserted by another instance meanwhile.
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(inserted)
}

fn all_permissions_query() -> SelectStatement {
    Query::select()
        .columns([a("app_label"), a("codename"), a("name")])
        .from(a(PERMISSION))
        .order_by(a("app_label"), sea_orm::Order::Asc)
        .order_by(a("codename"), sea_orm::Order::Asc)
        .to_owned()
}

/// Three text columns of each row.
async fn rows(
    db: &impl ConnectionTrait,
    query: SelectStatement,
) -> Result<Vec<(String, String, String)>, DbErr> {
    let statement = db.get_database_backend().build(&query);
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get_by_index::<String>(0)?,
                row.try_get_by_index::<String>(1)?,
                row.try_get_by_index::<String>(2)?,
            ))
        })
        .collect()
}

/// Every permission: `(app_label, codename, name)`, sorted.
pub(crate) async fn all_permissions(
    db: &impl ConnectionTrait,
) -> Result<Vec<(String, String, String)>, DbErr> {
    rows(db, all_permissions_query()).await
}

/// A user's permissions, in one query: those granted directly and those
/// of their groups; for a superuser, every permission there is.
pub(crate) async fn load(
    db: &impl ConnectionTrait,
    links: &Links,
    user_id: i64,
    superuser: bool,
) -> Result<(BTreeSet<String>, BTreeSet<String>, BTreeSet<String>), DbErr> {
    let (mut user, mut group, mut every) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    if superuser {
        for (app, codename, _) in rows(db, all_permissions_query()).await? {
            every.insert(format!("{app}.{codename}"));
        }
        return Ok((user, group, every));
    }
    let direct = Query::select()
        .column((a("p"), a("app_label")))
        .column((a("p"), a("codename")))
        .expr_as(Expr::val("user"), a("source"))
        .from_as(a(PERMISSION), a("p"))
        .inner_join(
            a(&links.user_permissions),
            Expr::col((a(&links.user_permissions), a("permission_id"))).equals((a("p"), a("id"))),
        )
        .and_where(Expr::col((a(&links.user_permissions), a("user_id"))).eq(user_id))
        .to_owned();
    let through_groups = Query::select()
        .column((a("p"), a("app_label")))
        .column((a("p"), a("codename")))
        .expr_as(Expr::val("group"), a("source"))
        .from_as(a(PERMISSION), a("p"))
        .inner_join(
            a(GROUP_PERMISSIONS),
            Expr::col((a(GROUP_PERMISSIONS), a("permission_id"))).equals((a("p"), a("id"))),
        )
        .inner_join(
            a(&links.groups),
            Expr::col((a(&links.groups), a("group_id")))
                .equals((a(GROUP_PERMISSIONS), a("group_id"))),
        )
        .and_where(Expr::col((a(&links.groups), a("user_id"))).eq(user_id))
        .to_owned();
    let query = direct
        .to_owned()
        .union(UnionType::All, through_groups)
        .to_owned();
    for (app, codename, source) in rows(db, query).await? {
        let name = format!("{app}.{codename}");
        if source == "user" {
            user.insert(name);
        } else {
            group.insert(name);
        }
    }
    Ok((user, group, every))
}

/// Whether user `user_id` is in one of the groups named `names`: one
/// query.
#[cfg(feature = "mfa")]
async fn in_any_group(
    db: &impl ConnectionTrait,
    links: &Links,
    user_id: i64,
    names: &[String],
) -> Result<bool, DbErr> {
    let query = Query::select()
        .column((a("g"), a("id")))
        .from_as(a(GROUP), a("g"))
        .inner_join(
            a(&links.groups),
            Expr::col((a(&links.groups), a("group_id"))).equals((a("g"), a("id"))),
        )
        .and_where(Expr::col((a(&links.groups), a("user_id"))).eq(user_id))
        .and_where(Expr::col((a("g"), a("name"))).is_in(names.iter().map(String::as_str)))
        .limit(1)
        .to_owned();
    let statement = db.get_database_backend().build(&query);
    Ok(db.query_one_raw(statement).await?.is_some())
}

async fn id_where(
    db: &impl ConnectionTrait,
    table: &str,
    conditions: &[(&str, &str)],
) -> Result<Option<i64>, DbErr> {
    let mut query = Query::select().column(a("id")).from(a(table)).to_owned();
    for (column, value) in conditions {
        query.and_where(Expr::col(a(column)).eq(*value));
    }
    let statement = db.get_database_backend().build(&query);
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(Some(row.try_get_by_index::<i64>(0)?)),
        None => Ok(None),
    }
}

/// "Permission … does not exist."; when a `permissions!` block of the
/// binary declares it, the fix too (the block was not given to the
/// builder).
pub(crate) fn unknown_permission(name: &str) -> String {
    let unknown = format!("Permission {name} does not exist.");
    match super::declared::declared_in(name) {
        Some(module) => format!(
            "{unknown} It is declared in {module}, which is not given to the builder: add \
             `.permissions({}::ALL)` to `Auth::builder()` (migrate then creates it).",
            module.rsplit("::").next().unwrap_or(module)
        ),
        None => unknown,
    }
}

/// The id of permission `app_label.codename`; an error saying so when it
/// does not exist.
pub(crate) async fn permission_id(db: &impl ConnectionTrait, name: &str) -> Result<i64> {
    let unknown = || Error::Invalid(unknown_permission(name));
    let (app, codename) = split_name(name).ok_or_else(|| {
        Error::Invalid(format!(
            "{name:?} is not a permission name; write app_label.codename"
        ))
    })?;
    id_where(
        db,
        PERMISSION,
        &[("app_label", app), ("codename", codename)],
    )
    .await?
    .ok_or_else(unknown)
}

/// The id of group `name`; an error saying so when it does not exist.
pub(crate) async fn group_id(db: &impl ConnectionTrait, name: &str) -> Result<i64> {
    id_where(db, GROUP, &[("name", name)])
        .await?
        .ok_or_else(|| Error::Invalid(format!("Group '{name}' does not exist.")))
}

/// Creates group `name`; an error when it exists.
pub(crate) async fn create_group(db: &impl ConnectionTrait, name: &str) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 150 {
        return Err(Error::Invalid(
            "A group name is 1 to 150 characters.".into(),
        ));
    }
    if id_where(db, GROUP, &[("name", name)]).await?.is_some() {
        return Err(Error::Invalid(format!("Group '{name}' already exists.")));
    }
    let insert = Query::insert()
        .into_table(a(GROUP))
        .columns([a("name")])
        .values_panic([name.into()])
        .to_owned();
    match db.execute(&insert).await {
        Ok(_) => group_id(db, name).await,
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(Error::Invalid(format!("Group '{name}' already exists.")))
        }
        Err(err) => Err(err.into()),
    }
}

/// Deletes group `name` (its links go with it); whether it existed.
pub(crate) async fn delete_group(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    let delete = Query::delete()
        .from_table(a(GROUP))
        .and_where(Expr::col(a("name")).eq(name))
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected() > 0)
}

/// Which link: a user's groups, a user's permissions, or a group's
/// permissions.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Link {
    UserGroup,
    UserPermission,
    GroupPermission,
}

impl Link {
    fn table_and_columns(self, links: &Links) -> (&str, &'static str, &'static str) {
        match self {
            Link::UserGroup => (&links.groups, "user_id", "group_id"),
            Link::UserPermission => (&links.user_permissions, "user_id", "permission_id"),
            Link::GroupPermission => (GROUP_PERMISSIONS, "group_id", "permission_id"),
        }
    }
}

impl Link {
    /// The `left`–`right` row of this link table.
    pub(crate) fn row(self, links: &Links, left: i64, right: i64) -> LinkRow<'_> {
        let (table, left_column, right_column) = self.table_and_columns(links);
        LinkRow {
            table,
            columns: [(left_column, left), (right_column, right)],
        }
    }
}

/// One row of a link table: its table and its two columns' values.
pub(crate) struct LinkRow<'a> {
    table: &'a str,
    columns: [(&'static str, i64); 2],
}

impl LinkRow<'_> {
    fn matching(&self) -> Condition {
        let [(left, l), (right, r)] = self.columns;
        Condition::all()
            .add(Expr::col(a(left)).eq(l))
            .add(Expr::col(a(right)).eq(r))
    }

    /// Adds the row if missing; whether it was added.
    pub(crate) async fn add(&self, db: &impl ConnectionTrait) -> Result<bool, DbErr> {
        let exists = Query::select()
            .column(a("id"))
            .from(a(self.table))
            .cond_where(self.matching())
            .to_owned();
        let statement = db.get_database_backend().build(&exists);
        if db.query_one_raw(statement).await?.is_some() {
            return Ok(false);
        }
        let insert = Query::insert()
            .into_table(a(self.table))
            .columns(self.columns.map(|(column, _)| a(column)))
            .values_panic(self.columns.map(|(_, value)| value.into()))
            .to_owned();
        match db.execute(&insert).await {
            Ok(_) => Ok(true),
            Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                Ok(false)
            }
            Err(err) => Err(err),
        }
    }

    /// Removes the row; whether there was one.
    pub(crate) async fn remove(&self, db: &impl ConnectionTrait) -> Result<bool, DbErr> {
        let delete = Query::delete()
            .from_table(a(self.table))
            .cond_where(self.matching())
            .to_owned();
        Ok(db.execute(&delete).await?.rows_affected() > 0)
    }
}
