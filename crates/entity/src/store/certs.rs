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

/// A certificate as lists show it: everything but the PEMs.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct CertRow {
    /// Row id.
    pub id: i32,
    /// Unique name.
    pub name: String,
    /// Owner's user id.
    pub owner_id: i32,
    /// Subject common name.
    pub common_name: String,
    /// JSON array of DNS names.
    pub san: String,
    /// SHA-256 of the leaf, colon hex.
    pub fingerprint: String,
    /// Not after.
    pub expires: chrono::DateTime<chrono::Utc>,
    /// Not before.
    pub starts: chrono::DateTime<chrono::Utc>,
    /// Issuer, one line.
    pub issuer: String,
    /// Subject, one line.
    pub subject: String,
    /// Upload time.
    pub created: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated: chrono::DateTime<chrono::Utc>,
}

impl From<&certificate::Model> for CertRow {
    fn from(c: &certificate::Model) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            owner_id: c.owner_id,
            common_name: c.common_name.clone(),
            san: c.san.clone(),
            fingerprint: c.fingerprint.clone(),
            expires: c.expires,
            starts: c.starts,
            issuer: c.issuer.clone(),
            subject: c.subject.clone(),
            created: c.created,
            updated: c.updated,
        }
    }
}

/// One page of the certificates a user may see (all of them for an admin,
/// `owner` = `None`), by name, filtered and paged by the database; the PEMs
/// (private keys among them) are never selected.
pub async fn list_visible(
    db: &impl ConnectionTrait,
    owner: Option<i32>,
    page: PageRequest,
) -> Result<Page<CertRow>, StoreError> {
    use sea_orm::QuerySelect;
    let mut q = certificate::Entity::find().order_by_asc(certificate::Column::Name);
    if let Some(id) = owner {
        q = q.filter(certificate::Column::OwnerId.eq(id));
    }
    let items = q
        .clone()
        .select_only()
        .columns([
            certificate::Column::Id,
            certificate::Column::Name,
            certificate::Column::OwnerId,
            certificate::Column::CommonName,
            certificate::Column::San,
            certificate::Column::Fingerprint,
            certificate::Column::Expires,
            certificate::Column::Starts,
            certificate::Column::Issuer,
            certificate::Column::Subject,
            certificate::Column::Created,
            certificate::Column::Updated,
        ])
        .offset(page.offset)
        .limit(page.limit)
        .into_model::<CertRow>()
        .all(db)
        .await?;
    let total = super::total(db, q, &page, items.len()).await?;
    Ok(Page { items, total })
}

/// Deletes a certificate (its domains are detached by the foreign key).
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), StoreError> {
    certificate::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
