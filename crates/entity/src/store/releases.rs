//! Releases: versioned (build, config) pairs and their apply state.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
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

/// A release as lists show it: the row plus its owner's name and the uuids it points at.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct ReleaseRow {
    /// Stable id.
    pub uuid: uuid::Uuid,
    /// Version number.
    pub version: i32,
    /// Summary line.
    pub summary: String,
    /// Apply state.
    pub state: String,
    /// Why applying failed.
    pub exception: Option<String>,
    /// Creation time.
    pub created: chrono::DateTime<chrono::Utc>,
    /// Last state change.
    pub updated: chrono::DateTime<chrono::Utc>,
    /// Who caused it.
    pub owner: String,
    /// Its config's uuid.
    pub config_uuid: uuid::Uuid,
    /// Its build's uuid.
    pub build_uuid: Option<uuid::Uuid>,
}

fn rows_query(app_id: i32) -> sea_orm::Select<release::Entity> {
    use crate::entities::{build, config, user};
    use sea_orm::{JoinType, RelationTrait};
    release::Entity::find()
        .select_only()
        .columns([
            release::Column::Uuid,
            release::Column::Version,
            release::Column::Summary,
            release::Column::State,
            release::Column::Exception,
            release::Column::Created,
            release::Column::Updated,
        ])
        .column_as(user::Column::Username, "owner")
        .column_as(config::Column::Uuid, "config_uuid")
        .column_as(build::Column::Uuid, "build_uuid")
        .join(JoinType::InnerJoin, release::Relation::Owner.def())
        .join(JoinType::InnerJoin, release::Relation::Config.def())
        .join(JoinType::LeftJoin, release::Relation::Build.def())
        .filter(release::Column::AppId.eq(app_id))
}

/// One page of an app's releases, newest first, each joined with its owner,
/// config and build in a single query (uses the `(app, version)` index).
///
/// No count query: versions are allocated in the same transaction that writes
/// the release and never reused or deleted, so an app's `last_version` is its
/// number of releases — counting 10 000 rows on every page would make the
/// cost grow with history.
pub async fn page_rows(
    db: &impl ConnectionTrait,
    app: &crate::entities::app::Model,
    page: PageRequest,
) -> Result<Page<ReleaseRow>, StoreError> {
    let items = rows_query(app.id)
        .order_by_desc(release::Column::Version)
        .offset(page.offset)
        .limit(page.limit)
        .into_model::<ReleaseRow>()
        .all(db)
        .await?;
    let total = u64::try_from(app.last_version).unwrap_or_default();
    Ok(Page { items, total })
}

/// One release of an app as lists show it.
pub async fn row(
    db: &impl ConnectionTrait,
    app_id: i32,
    version: i32,
) -> Result<Option<ReleaseRow>, StoreError> {
    Ok(rows_query(app_id)
        .filter(release::Column::Version.eq(version))
        .into_model::<ReleaseRow>()
        .one(db)
        .await?)
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

/// Replaces a release's summary (a failed one is worded as a failure).
pub async fn set_summary(
    db: &impl ConnectionTrait,
    id: i32,
    summary: &str,
) -> Result<(), StoreError> {
    release::ActiveModel {
        id: Set(id),
        summary: Set(summary.to_owned()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
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
