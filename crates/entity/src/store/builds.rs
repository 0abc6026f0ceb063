//! Builds: the images deployed to an app, newest first.

use std::collections::BTreeMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::{Page, PageRequest};
use crate::entities::build;
use crate::StoreError;

/// What a new build records.
#[derive(Debug, Clone)]
pub struct NewBuild {
    /// Image reference.
    pub image: String,
    /// Source commit, if any.
    pub sha: String,
    /// Process type → command.
    pub procfile: BTreeMap<String, String>,
    /// Dockerfile text, if the build came from one.
    pub dockerfile: String,
}

/// Stores a build.
pub async fn insert(
    db: &impl ConnectionTrait,
    app_id: i32,
    owner_id: i32,
    new: &NewBuild,
) -> Result<build::Model, StoreError> {
    Ok(build::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4()),
        app_id: Set(app_id),
        owner_id: Set(owner_id),
        image: Set(new.image.clone()),
        sha: Set(new.sha.clone()),
        procfile: Set(serde_json::to_string(&new.procfile)?),
        dockerfile: Set(new.dockerfile.clone()),
        created: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Loads a build row.
pub async fn by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<build::Model>, StoreError> {
    Ok(build::Entity::find_by_id(id).one(db).await?)
}

/// One of an app's builds by its uuid.
pub async fn by_uuid(
    db: &impl ConnectionTrait,
    app_id: i32,
    uuid: uuid::Uuid,
) -> Result<Option<build::Model>, StoreError> {
    Ok(build::Entity::find()
        .filter(build::Column::AppId.eq(app_id))
        .filter(build::Column::Uuid.eq(uuid))
        .one(db)
        .await?)
}

/// An app's builds, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    app_id: i32,
    page: PageRequest,
) -> Result<Page<build::Model>, StoreError> {
    let q = build::Entity::find()
        .filter(build::Column::AppId.eq(app_id))
        .order_by_desc(build::Column::Id);
    super::fetch_page(db, q, page).await
}

/// The procfile of a build row.
pub fn procfile(row: &build::Model) -> Result<BTreeMap<String, String>, StoreError> {
    Ok(serde_json::from_str(&row.procfile)?)
}
