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

/// The config of an app's release `version`, with its writer's username, in one query.
pub async fn of_release(
    db: &impl ConnectionTrait,
    app_id: i32,
    version: i32,
) -> Result<Option<(config::Model, String)>, StoreError> {
    use sea_orm::sea_query::Query;
    use sea_orm::{ColumnTrait, QueryFilter};

    use crate::entities::{release, user};
    let config_id = Query::select()
        .column(release::Column::ConfigId)
        .from(release::Entity)
        .and_where(release::Column::AppId.eq(app_id))
        .and_where(release::Column::Version.eq(version))
        .to_owned();
    let row = config::Entity::find()
        .filter(config::Column::Id.in_subquery(config_id))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(row.map(|(c, u)| (c, u.map(|u| u.username).unwrap_or_default())))
}
