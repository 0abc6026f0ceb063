//! Users: registration, lookup, password and admin flag changes.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use drydock_domain::text::can_name_something;
use drydock_domain::username;

use super::{Page, PageRequest};
use crate::entities::user;
use crate::StoreError;

/// What registration stores.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique login name.
    pub username: String,
    /// Email address (may be empty).
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Django-format password hash.
    pub password_hash: String,
    /// Admin flag (also sets staff).
    pub is_superuser: bool,
}

/// Inserts a user; a username taken, or one that folds to a taken one
/// (`Admin` beside `admin`), is a [`StoreError::Conflict`].
pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<user::Model, StoreError> {
    let now = Utc::now();
    user::ActiveModel {
        username_fold: Set(Some(username::fold(&new.username))),
        username: Set(new.username),
        email: Set(new.email),
        first_name: Set(new.first_name),
        last_name: Set(new.last_name),
        password: Set(new.password_hash),
        is_superuser: Set(new.is_superuser),
        is_staff: Set(new.is_superuser),
        is_active: Set(true),
        last_login: Set(Some(now)),
        date_joined: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write)
}

/// The account that authors what a deleted user wrote into other people's
/// apps (releases, configs, builds, domains, certificates, TLS settings), so
/// that history and app objects outlive their author. Its name cannot be
/// registered (brackets are not username characters), it cannot log in, and
/// no lookup by name or list returns it.
pub const TOMBSTONE: &str = "[deleted]";

/// Key of the PostgreSQL advisory lock that serialises registrations.
const REGISTRATION_LOCK: i64 = 0x6472_7964_6f63_6b01;

/// Registers a user, making them admin exactly when they are the first: the
/// count and the insert happen under one lock (PostgreSQL: a transaction
/// advisory lock; SQLite: the single writer connection the transaction
/// holds), so parallel first registrations cannot make several admins.
/// `new.is_superuser` is ignored.
pub async fn register(
    db: &DatabaseConnection,
    mut new: NewUser,
) -> Result<user::Model, StoreError> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [REGISTRATION_LOCK.into()],
        ))
        .await?;
    }
    new.is_superuser = count(&txn).await? == 0;
    let row = create(&txn, new).await?;
    txn.commit().await?;
    Ok(row)
}

/// Number of users (the first to register becomes admin).
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.ne(TOMBSTONE))
        .count(db)
        .await?)
}

/// Looks a user up by name, in its stored (NFKC) form. A name no stored user can have (one with a NUL,
/// which PostgreSQL refuses as a parameter) is simply not found.
pub async fn by_username(
    db: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<user::Model>, StoreError> {
    if !can_name_something(username) || username == TOMBSTONE {
        return Ok(None);
    }
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username::normalise(username)))
        .one(db)
        .await?)
}

/// Looks a user up by id.
pub async fn by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<user::Model>, StoreError> {
    Ok(user::Entity::find_by_id(id).one(db).await?)
}

/// All users, oldest first (as the reference lists them).
pub async fn list(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> Result<Page<user::Model>, StoreError> {
    let q = user::Entity::find()
        .filter(user::Column::Username.ne(TOMBSTONE))
        .order_by_asc(user::Column::Id);
    super::fetch_page(db, q, page).await
}

/// Admins only, oldest first.
pub async fn list_superusers(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> Result<Page<user::Model>, StoreError> {
    let q = user::Entity::find()
        .filter(user::Column::IsSuperuser.eq(true))
        .order_by_asc(user::Column::Id);
    super::fetch_page(db, q, page).await
}

/// Replaces the password hash.
pub async fn set_password(
    db: &impl ConnectionTrait,
    id: i32,
    hash: String,
) -> Result<(), StoreError> {
    user::ActiveModel {
        id: Set(id),
        password: Set(hash),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Grants or revokes admin (superuser and staff together).
pub async fn set_superuser(
    db: &impl ConnectionTrait,
    id: i32,
    admin: bool,
) -> Result<(), StoreError> {
    user::ActiveModel {
        id: Set(id),
        is_superuser: Set(admin),
        is_staff: Set(admin),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// What taking an admin away should do to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminRemoval {
    /// Keep the account, drop its admin rights.
    Demote,
    /// Delete the account.
    Delete,
}

/// Demotes or deletes user `id` in one transaction, unless it is the last
/// admin; returns whether it was done. The admin rows are locked first, so
/// two admins removing each other at once cannot both succeed.
pub async fn remove_unless_last_admin(
    db: &DatabaseConnection,
    id: i32,
    removal: AdminRemoval,
) -> Result<bool, StoreError> {
    let txn = db.begin().await?;
    let admins: Vec<i32> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::IsSuperuser.eq(true))
        .lock_exclusive()
        .into_tuple()
        .all(&txn)
        .await?;
    if admins == [id] {
        return Ok(false);
    }
    match removal {
        AdminRemoval::Demote => set_superuser(&txn, id, false).await?,
        AdminRemoval::Delete => delete(&txn, id).await?,
    }
    txn.commit().await?;
    Ok(true)
}

/// Records a successful login.
pub async fn touch_login(db: &impl ConnectionTrait, id: i32) -> Result<(), StoreError> {
    user::ActiveModel {
        id: Set(id),
        last_login: Set(Some(Utc::now())),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Deletes a user. What they wrote into apps passes to [`TOMBSTONE`] first
/// (the owner of an app is never deleted: the caller refuses that); tokens,
/// keys and collaborations go with the user (cascade).
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), StoreError> {
    let tombstone = tombstone(db).await?;
    let to = sea_orm::sea_query::Expr::value(tombstone);
    macro_rules! hand_over {
        ($($entity:ident),*) => {$(
            crate::entities::$entity::Entity::update_many()
                .col_expr(crate::entities::$entity::Column::OwnerId, to.clone())
                .filter(crate::entities::$entity::Column::OwnerId.eq(id))
                .exec(db)
                .await?;
        )*};
    }
    hand_over!(release, config, build, domain, certificate, tls);
    user::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The [`TOMBSTONE`] account's id, creating it the first time.
async fn tombstone(db: &impl ConnectionTrait) -> Result<i32, StoreError> {
    let find = || {
        user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Username.eq(TOMBSTONE))
            .into_tuple::<i32>()
    };
    if let Some(id) = find().one(db).await? {
        return Ok(id);
    }
    let made = user::ActiveModel {
        username: Set(TOMBSTONE.to_owned()),
        username_fold: Set(None),
        email: Set(String::new()),
        first_name: Set(String::new()),
        last_name: Set(String::new()),
        password: Set("!".to_owned()),
        is_superuser: Set(false),
        is_staff: Set(false),
        is_active: Set(false),
        last_login: Set(None),
        date_joined: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write)?;
    Ok(made.id)
}

/// Usernames for a set of ids, in one query, for list responses.
pub async fn usernames(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> Result<HashMap<i32, String>, StoreError> {
    let mut ids: Vec<i32> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i32, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Username)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
