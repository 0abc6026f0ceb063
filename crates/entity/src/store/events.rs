//! The app event log ("alice created initial release"), shown with the app's logs.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::entities::app_event;
use crate::StoreError;

/// Appends an event.
pub async fn record(
    db: &impl ConnectionTrait,
    app_id: i32,
    message: &str,
) -> Result<(), StoreError> {
    app_event::ActiveModel {
        app_id: Set(app_id),
        created: Set(Utc::now()),
        message: Set(message.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest `n` events, oldest first.
pub async fn recent(
    db: &impl ConnectionTrait,
    app_id: i32,
    n: u64,
) -> Result<Vec<app_event::Model>, StoreError> {
    let mut rows = app_event::Entity::find()
        .filter(app_event::Column::AppId.eq(app_id))
        .order_by_desc(app_event::Column::Id)
        .limit(n)
        .all(db)
        .await?;
    rows.reverse();
    Ok(rows)
}
