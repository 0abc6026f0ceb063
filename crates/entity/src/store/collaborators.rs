//! Per-app permissions: users other than the owner who may work on an app.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};

use crate::entities::collaborator;
use crate::StoreError;

/// Grants `user_id` access to `app_id`; granting twice is a [`StoreError::Conflict`].
pub async fn add(db: &impl ConnectionTrait, app_id: i32, user_id: i32) -> Result<(), StoreError> {
    collaborator::ActiveModel {
        app_id: Set(app_id),
        user_id: Set(user_id),
        created: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write)?;
    Ok(())
}

/// Revokes access; returns whether there was any.
pub async fn remove(
    db: &impl ConnectionTrait,
    app_id: i32,
    user_id: i32,
) -> Result<bool, StoreError> {
    let res = collaborator::Entity::delete_many()
        .filter(collaborator::Column::AppId.eq(app_id))
        .filter(collaborator::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Whether `user_id` collaborates on `app_id`.
pub async fn is_member(
    db: &impl ConnectionTrait,
    app_id: i32,
    user_id: i32,
) -> Result<bool, StoreError> {
    Ok(collaborator::Entity::find()
        .filter(collaborator::Column::AppId.eq(app_id))
        .filter(collaborator::Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

/// Ids of an app's collaborators.
pub async fn user_ids(db: &impl ConnectionTrait, app_id: i32) -> Result<Vec<i32>, StoreError> {
    Ok(collaborator::Entity::find()
        .filter(collaborator::Column::AppId.eq(app_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.user_id)
        .collect())
}

/// Usernames of an app's collaborators, sorted.
pub async fn usernames(db: &impl ConnectionTrait, app_id: i32) -> Result<Vec<String>, StoreError> {
    let ids = user_ids(db, app_id).await?;
    let mut names: Vec<String> = super::users::usernames(db, ids)
        .await?
        .into_values()
        .collect();
    names.sort();
    Ok(names)
}
