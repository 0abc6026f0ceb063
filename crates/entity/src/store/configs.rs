//! Config rows: one immutable snapshot per release.

use chrono::Utc;
use drydock_domain::config_vars::AppConfig;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use crate::entities::config;
use crate::StoreError;

/// Stores a config snapshot.
pub async fn insert(
    db: &impl ConnectionTrait,
    app_id: i32,
    owner_id: i32,
    data: &AppConfig,
) -> Result<config::Model, StoreError> {
    Ok(config::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4()),
        app_id: Set(app_id),
        owner_id: Set(owner_id),
        data: Set(serde_json::to_string(data)?),
        created: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Loads a config row.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<config::Model>, StoreError> {
    Ok(config::Entity::find_by_id(id).one(db).await?)
}

/// The typed content of a config row.
pub fn data(row: &config::Model) -> Result<AppConfig, StoreError> {
    Ok(serde_json::from_str(&row.data)?)
}

/// Config uuids for a set of ids, in one query, for release lists.
pub async fn uuids(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> Result<std::collections::HashMap<i32, uuid::Uuid>, StoreError> {
    super::uuids_by_id::<config::Entity, _>(db, config::Column::Id, config::Column::Uuid, ids).await
}
