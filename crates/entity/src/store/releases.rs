//! Releases: versioned (build, config) pairs and their apply state.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::{Page, PageRequest};
use crate::entities::release;
use crate::StoreError;

/// A release has been written but not yet applied to the platform.
pub const PENDING: &str = "pending";
/// The platform runs (or ran) this release.
pub const SUCCEEDED: &str = "succeeded";
/// Applying this release failed; `exception` says why.
pub const FAILED: &str = "failed";

/// What a new release records.
#[derive(Debug, Clone)]
pub struct NewRelease {
    /// Version taken from the app's counter.
    pub version: i32,
    /// Who caused it.
    pub owner_id: i32,
    /// "alice added HELLO".
    pub summary: String,
    /// Its config snapshot.
    pub config_id: i32,
    /// Its build, if any.
    pub build_id: Option<i32>,
    /// Initial state.
    pub state: &'static str,
}

/// Stores a release; the unique `(app, version)` index is the last guard against reuse.
pub async fn insert(
    db: &impl ConnectionTrait,
    app_id: i32,
    new: NewRelease,
) -> Result<release::Model, StoreError> {
    let now = Utc::now();
    release::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4()),
        app_id: Set(app_id),
        owner_id: Set(new.owner_id),
        version: Set(new.version),
        summary: Set(new.summary),
        config_id: Set(new.config_id),
        build_id: Set(new.build_id),
        state: Set(new.state.to_owned()),
        exception: Set(None),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write)
}

/// One version of an app.
pub async fn by_version(
    db: &impl ConnectionTrait,
    app_id: i32,
    version: i32,
) -> Result<Option<release::Model>, StoreError> {
    Ok(release::Entity::find()
        .filter(release::Column::AppId.eq(app_id))
        .filter(release::Column::Version.eq(version))
        .one(db)
        .await?)
}

/// The newest release of an app, whatever its state.
pub async fn latest(
    db: &impl ConnectionTrait,
    app_id: i32,
) -> Result<Option<release::Model>, StoreError> {
    Ok(release::Entity::find()
        .filter(release::Column::AppId.eq(app_id))
        .order_by_desc(release::Column::Version)
        .one(db)
        .await?)
}

/// An app's releases, newest first, one page (uses the `(app, version)` index).
pub async fn list(
    db: &impl ConnectionTrait,
    app_id: i32,
    page: PageRequest,
) -> Result<Page<release::Model>, StoreError> {
    let q = release::Entity::find().filter(release::Column::AppId.eq(app_id));
    let total = q.clone().count(db).await?;
    let items = q
        .order_by_desc(release::Column::Version)
        .offset(page.offset)
        .limit(page.limit)
        .all(db)
        .await?;
    Ok(Page { items, total })
}

/// Releases left `pending` (by a crash mid-apply).
pub async fn pending(db: &impl ConnectionTrait) -> Result<Vec<release::Model>, StoreError> {
    Ok(release::Entity::find()
        .filter(release::Column::State.eq(PENDING))
        .order_by_asc(release::Column::AppId)
        .order_by_asc(release::Column::Version)
        .all(db)
        .await?)
}

/// Records the outcome of applying a release.
pub async fn set_state(
    db: &impl ConnectionTrait,
    id: i32,
    state: &'static str,
    exception: Option<String>,
) -> Result<(), StoreError> {
    release::ActiveModel {
        id: Set(id),
        state: Set(state.to_owned()),
        exception: Set(exception),
        updated: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// The build id of each app's current release, in one query (`(app_id, version)` pairs in).
pub async fn current_build_ids(
    db: &impl ConnectionTrait,
    current: &[(i32, i32)],
) -> Result<std::collections::HashMap<i32, i32>, StoreError> {
    use sea_orm::Condition;
    if current.is_empty() {
        return Ok(Default::default());
    }
    let mut any = Condition::any();
    for (app_id, version) in current {
        any = any.add(
            Condition::all()
                .add(release::Column::AppId.eq(*app_id))
                .add(release::Column::Version.eq(*version)),
        );
    }
    let rows: Vec<(i32, Option<i32>)> = release::Entity::find()
        .select_only()
        .column(release::Column::AppId)
        .column(release::Column::BuildId)
        .filter(any)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, b)| Some((a, b?)))
        .collect())
}
