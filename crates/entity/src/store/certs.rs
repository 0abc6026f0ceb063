//! Certificates uploaded by users; private keys are stored but never shown.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::{Page, PageRequest};
use crate::entities::certificate;
use crate::StoreError;

/// Stores a certificate; a taken name is a [`StoreError::Conflict`].
pub async fn insert(
    db: &impl ConnectionTrait,
    row: certificate::ActiveModel,
) -> Result<certificate::Model, StoreError> {
    row.insert(db).await.map_err(StoreError::from_write)
}

/// Looks a certificate up by name.
pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<certificate::Model>, StoreError> {
    Ok(certificate::Entity::find()
        .filter(certificate::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// Looks a certificate up by id.
pub async fn by_id(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<certificate::Model>, StoreError> {
    Ok(certificate::Entity::find_by_id(id).one(db).await?)
}

/// Certificates, by name.
pub async fn list(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> Result<Page<certificate::Model>, StoreError> {
    let q = certificate::Entity::find().order_by_asc(certificate::Column::Name);
    super::fetch_page(db, q, page).await
}

/// Deletes a certificate (its domains are detached by the foreign key).
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), StoreError> {
    certificate::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
