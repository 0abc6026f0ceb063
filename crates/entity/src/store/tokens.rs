//! API tokens, stored only as their SHA-256.

use chrono::Utc;
use drydock_domain::token::TokenHash;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entities::{token, user};
use crate::StoreError;

/// Stores a newly issued token for `user_id`.
pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i32,
    hash: &TokenHash,
) -> Result<(), StoreError> {
    token::ActiveModel {
        user_id: Set(user_id),
        key_hash: Set(hash.as_str().to_owned()),
        created: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write)?;
    Ok(())
}

/// The active user a token belongs to, if any, in one query.
pub async fn user_for(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
) -> Result<Option<user::Model>, StoreError> {
    let found = token::Entity::find()
        .filter(token::Column::KeyHash.eq(hash.as_str()))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(match found {
        Some((tok, Some(user))) if hash.matches(&tok.key_hash) && user.is_active => Some(user),
        _ => None,
    })
}

/// Revokes every token of one user.
pub async fn revoke_user(db: &impl ConnectionTrait, user_id: i32) -> Result<(), StoreError> {
    token::Entity::delete_many()
        .filter(token::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every token of one user but `keep` (the one a request came with).
pub async fn revoke_user_except(
    db: &impl ConnectionTrait,
    user_id: i32,
    keep: Option<&TokenHash>,
) -> Result<(), StoreError> {
    let mut q = token::Entity::delete_many().filter(token::Column::UserId.eq(user_id));
    if let Some(k) = keep {
        q = q.filter(token::Column::KeyHash.ne(k.as_str()));
    }
    q.exec(db).await?;
    Ok(())
}

/// Revokes every token of every user.
pub async fn revoke_all(db: &impl ConnectionTrait) -> Result<(), StoreError> {
    token::Entity::delete_many().exec(db).await?;
    Ok(())
}
