//! Per-app TLS settings (the HTTPS redirect); one row per app, made on first read.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entities::tls;
use crate::StoreError;

/// The app's TLS row, created with `https_enforced` unset when absent.
pub async fn get_or_create(
    db: &impl ConnectionTrait,
    app_id: i32,
    owner_id: i32,
) -> Result<tls::Model, StoreError> {
    if let Some(row) = by_app(db, app_id).await? {
        return Ok(row);
    }
    let now = Utc::now();
    let inserted = tls::ActiveModel {
        uuid: Set(uuid::Uuid::new_v4()),
        app_id: Set(app_id),
        owner_id: Set(owner_id),
        https_enforced: Set(None),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write);
    match inserted {
        Ok(row) => Ok(row),
        // Another request created it first.
        Err(StoreError::Conflict(_)) => by_app(db, app_id)
            .await?
            .ok_or_else(|| StoreError::Conflict("tls".into())),
        Err(e) => Err(e),
    }
}

/// The app's TLS row, if any.
pub async fn by_app(
    db: &impl ConnectionTrait,
    app_id: i32,
) -> Result<Option<tls::Model>, StoreError> {
    Ok(tls::Entity::find()
        .filter(tls::Column::AppId.eq(app_id))
        .one(db)
        .await?)
}

/// Records a new TLS setting by `owner_id` (`None`: not set), as the
/// reference does: a new uuid and creation time each time.
pub async fn set_https_enforced(
    db: &impl ConnectionTrait,
    id: i32,
    owner_id: i32,
    enforced: Option<bool>,
) -> Result<tls::Model, StoreError> {
    let now = Utc::now();
    Ok(tls::ActiveModel {
        id: Set(id),
        uuid: Set(uuid::Uuid::new_v4()),
        owner_id: Set(owner_id),
        https_enforced: Set(enforced),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    }
    .update(db)
    .await?)
}
