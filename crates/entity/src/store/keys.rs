//! SSH public keys; a key can be registered once across all users.

use drydock_domain::text::can_name_something;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::{Page, PageRequest};
use crate::entities::key;
use crate::StoreError;

/// Stores a key; a duplicate fingerprint or id is a [`StoreError::Conflict`].
pub async fn insert(
    db: &impl ConnectionTrait,
    row: key::ActiveModel,
) -> Result<key::Model, StoreError> {
    row.insert(db).await.map_err(StoreError::from_write)
}

/// One of a user's keys by its id; an id no stored key can have (one with a
/// NUL, which PostgreSQL refuses as a parameter) is simply not found.
pub async fn by_key_id(
    db: &impl ConnectionTrait,
    owner_id: i32,
    key_id: &str,
) -> Result<Option<key::Model>, StoreError> {
    if !can_name_something(key_id) {
        return Ok(None);
    }
    Ok(key::Entity::find()
        .filter(key::Column::OwnerId.eq(owner_id))
        .filter(key::Column::KeyId.eq(key_id))
        .one(db)
        .await?)
}

/// The key with this fingerprint, in either form: the reference's MD5 hex
/// pairs or OpenSSH's `SHA256:…`.
pub async fn by_fingerprint(
    db: &impl ConnectionTrait,
    fingerprint: &str,
) -> Result<Option<key::Model>, StoreError> {
    if !can_name_something(fingerprint) {
        return Ok(None);
    }
    let column = if fingerprint.starts_with("SHA256:") {
        key::Column::FingerprintSha256
    } else {
        key::Column::Fingerprint
    };
    Ok(key::Entity::find()
        .filter(column.eq(fingerprint))
        .one(db)
        .await?)
}

/// Every key of the given users, oldest first.
pub async fn of_users(
    db: &impl ConnectionTrait,
    owner_ids: &[i32],
) -> Result<Vec<key::Model>, StoreError> {
    Ok(key::Entity::find()
        .filter(key::Column::OwnerId.is_in(owner_ids.iter().copied()))
        .order_by_asc(key::Column::Created)
        .order_by_asc(key::Column::Id)
        .all(db)
        .await?)
}

/// A user's keys, by id.
pub async fn list(
    db: &impl ConnectionTrait,
    owner_id: i32,
    page: PageRequest,
) -> Result<Page<key::Model>, StoreError> {
    let q = key::Entity::find()
        .filter(key::Column::OwnerId.eq(owner_id))
        .order_by_asc(key::Column::KeyId);
    super::fetch_page(db, q, page).await
}

/// Deletes a key.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), StoreError> {
    key::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
