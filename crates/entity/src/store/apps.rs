//! Apps: creation, visibility, the release-version counter and the scale record.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
    TransactionTrait,
};

use super::{Page, PageRequest};
use crate::entities::{app, collaborator, user};
use crate::StoreError;

/// Inserts an app with no releases yet; a taken name is a [`StoreError::Conflict`].
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    owner_id: i32,
) -> Result<app::Model, StoreError> {
    let now = Utc::now();
    app::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4()),
        name: Set(name.to_owned()),
        owner_id: Set(owner_id),
        structure: Set("{}".into()),
        procfile: Set("{}".into()),
        current_version: Set(None),
        last_version: Set(0),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write)
}

/// Looks an app up by its id (name).
pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<app::Model>, StoreError> {
    Ok(app::Entity::find()
        .filter(app::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// Re-reads an app holding a row lock until the transaction ends (PostgreSQL;
/// SQLite's single writer already excludes everyone else).
pub async fn lock(db: &impl ConnectionTrait, id: i32) -> Result<Option<app::Model>, StoreError> {
    let q = app::Entity::find_by_id(id);
    let q = if db.get_database_backend() == DbBackend::Postgres {
        q.lock_exclusive()
    } else {
        q
    };
    Ok(q.one(db).await?)
}

/// Every app's name, sorted.
pub async fn names(db: &impl ConnectionTrait) -> Result<Vec<String>, StoreError> {
    Ok(app::Entity::find()
        .select_only()
        .column(app::Column::Name)
        .order_by_asc(app::Column::Name)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// Every app, by name (for reconcile).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<app::Model>, StoreError> {
    Ok(app::Entity::find()
        .order_by_asc(app::Column::Name)
        .all(db)
        .await?)
}

/// An app as lists show it: only the columns the API prints, and the owner's name.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct AppRow {
    /// Stable id.
    pub uuid: uuid::Uuid,
    /// The app's name.
    pub name: String,
    /// JSON scale record.
    pub structure: String,
    /// JSON procfile of the current build.
    pub procfile: String,
    /// Creation time.
    pub created: chrono::DateTime<Utc>,
    /// Last change.
    pub updated: chrono::DateTime<Utc>,
    /// Owner's username.
    pub owner: String,
}

/// The apps a user may use (all for an admin, else owned or shared with them), by name.
fn usable_by(user_id: i32, admin: bool) -> sea_orm::Select<app::Entity> {
    let q = app::Entity::find().order_by_asc(app::Column::Name);
    if admin {
        return q;
    }
    let shared = Query::select()
        .column(collaborator::Column::AppId)
        .from(collaborator::Entity)
        .and_where(collaborator::Column::UserId.eq(user_id))
        .to_owned();
    q.filter(
        Condition::any()
            .add(app::Column::OwnerId.eq(user_id))
            .add(app::Column::Id.in_subquery(shared)),
    )
}

/// Names of the apps a user may use, sorted: what the builder's key hook reports.
pub async fn usable_names(
    db: &impl ConnectionTrait,
    user_id: i32,
    admin: bool,
) -> Result<Vec<String>, StoreError> {
    Ok(usable_by(user_id, admin)
        .select_only()
        .column(app::Column::Name)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// Apps a user may see (all for an admin, else owned or shared with them),
/// each with its owner's username, in one query (plus a count when the page is full).
pub async fn visible(
    db: &impl ConnectionTrait,
    user_id: i32,
    admin: bool,
    page: PageRequest,
) -> Result<Page<AppRow>, StoreError> {
    let q = usable_by(user_id, admin);
    let items = q
        .clone()
        .select_only()
        .columns([
            app::Column::Uuid,
            app::Column::Name,
            app::Column::Structure,
            app::Column::Procfile,
            app::Column::Created,
            app::Column::Updated,
        ])
        .column_as(user::Column::Username, "owner")
        .join(sea_orm::JoinType::InnerJoin, app::Relation::Owner.def())
        .offset(page.offset)
        .limit(page.limit)
        .into_model::<AppRow>()
        .all(db)
        .await?;
    let total = super::total(db, q, &page, items.len()).await?;
    Ok(Page { items, total })
}

/// Takes the next release version: the caller holds the app's lock in `db`'s transaction.
pub async fn next_version(db: &impl ConnectionTrait, app: &app::Model) -> Result<i32, StoreError> {
    let version = app.last_version + 1;
    app::ActiveModel {
        id: Set(app.id),
        last_version: Set(version),
        updated: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(version)
}

/// Moves the current-release pointer to a release the platform now runs
/// (which also settles any re-apply still owed).
pub async fn set_current(
    db: &impl ConnectionTrait,
    id: i32,
    version: i32,
    procfile: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    app::ActiveModel {
        id: Set(id),
        current_version: Set(Some(version)),
        needs_reapply: Set(false),
        procfile: Set(serde_json::to_string(procfile)?),
        updated: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Records whether the platform may hold something other than the app's
/// current release (see [`app::Model::needs_reapply`]).
pub async fn set_needs_reapply(
    db: &impl ConnectionTrait,
    id: i32,
    needed: bool,
) -> Result<(), StoreError> {
    app::Entity::update_many()
        .col_expr(
            app::Column::NeedsReapply,
            sea_orm::sea_query::Expr::value(needed),
        )
        .filter(app::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Apps whose current release is owed a re-apply, by name.
pub async fn needing_reapply(db: &impl ConnectionTrait) -> Result<Vec<app::Model>, StoreError> {
    Ok(app::Entity::find()
        .filter(app::Column::NeedsReapply.eq(true))
        .order_by_asc(app::Column::Name)
        .all(db)
        .await?)
}

/// The stored scale, process type → count.
pub fn structure(app: &app::Model) -> Result<BTreeMap<String, u32>, StoreError> {
    Ok(serde_json::from_str(&app.structure)?)
}

/// Records the scale.
pub async fn set_structure(
    db: &impl ConnectionTrait,
    id: i32,
    structure: &BTreeMap<String, u32>,
) -> Result<(), StoreError> {
    app::ActiveModel {
        id: Set(id),
        structure: Set(serde_json::to_string(structure)?),
        updated: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Gives the app to `to`, and with it what `caller` wrote into it (builds,
/// configs, releases, domains, TLS settings), in one transaction, as the
/// reference's transfer does: the new owner's history reads as theirs.
pub async fn transfer(
    db: &DatabaseConnection,
    id: i32,
    caller: i32,
    to: i32,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    macro_rules! hand_over {
        ($($entity:ident),*) => {$(
            crate::entities::$entity::Entity::update_many()
                .col_expr(crate::entities::$entity::Column::OwnerId, Expr::value(to))
                .filter(crate::entities::$entity::Column::AppId.eq(id))
                .filter(crate::entities::$entity::Column::OwnerId.eq(caller))
                .exec(&txn)
                .await?;
        )*};
    }
    hand_over!(build, config, release, domain, tls);
    app::ActiveModel {
        id: Set(id),
        owner_id: Set(to),
        updated: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes the app and, by cascade, everything recorded for it.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), StoreError> {
    app::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// How many apps a user owns (an owner of apps cannot cancel their account).
pub async fn count_owned(db: &impl ConnectionTrait, user_id: i32) -> Result<u64, StoreError> {
    Ok(app::Entity::find()
        .filter(app::Column::OwnerId.eq(user_id))
        .count(db)
        .await?)
}
