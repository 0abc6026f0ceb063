//! Domains routed to apps; each hostname belongs to one app at most.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::{Page, PageRequest};
use crate::entities::domain;
use crate::StoreError;

/// Stores a domain; one already taken (by any app, in any case) is a [`StoreError::Conflict`].
pub async fn insert(
    db: &impl ConnectionTrait,
    app_id: i32,
    owner_id: i32,
    name: &str,
) -> Result<domain::Model, StoreError> {
    let now = Utc::now();
    domain::ActiveModel {
        app_id: Set(app_id),
        owner_id: Set(owner_id),
        domain: Set(name.to_owned()),
        domain_fold: Set(Some(name.to_ascii_lowercase())),
        certificate_id: Set(None),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(StoreError::from_write)
}

/// Looks a domain up by name, in any case.
pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<domain::Model>, StoreError> {
    Ok(domain::Entity::find()
        .filter(domain::Column::DomainFold.eq(name.to_ascii_lowercase()))
        .one(db)
        .await?)
}

/// An app's domains, by name.
pub async fn list(
    db: &impl ConnectionTrait,
    app_id: i32,
    page: PageRequest,
) -> Result<Page<domain::Model>, StoreError> {
    let q = domain::Entity::find()
        .filter(domain::Column::AppId.eq(app_id))
        .order_by_asc(domain::Column::Domain);
    super::fetch_page(db, q, page).await
}

/// Every domain of an app (for reconcile and certificate checks).
pub async fn all_for_app(
    db: &impl ConnectionTrait,
    app_id: i32,
) -> Result<Vec<domain::Model>, StoreError> {
    Ok(domain::Entity::find()
        .filter(domain::Column::AppId.eq(app_id))
        .order_by_asc(domain::Column::Domain)
        .all(db)
        .await?)
}

/// Domains a certificate is attached to.
pub async fn for_certificate(
    db: &impl ConnectionTrait,
    cert_id: i32,
) -> Result<Vec<domain::Model>, StoreError> {
    Ok(domain::Entity::find()
        .filter(domain::Column::CertificateId.eq(cert_id))
        .order_by_asc(domain::Column::Domain)
        .all(db)
        .await?)
}

/// Attaches or detaches a certificate.
pub async fn set_certificate(
    db: &impl ConnectionTrait,
    id: i32,
    cert_id: Option<i32>,
) -> Result<(), StoreError> {
    domain::ActiveModel {
        id: Set(id),
        certificate_id: Set(cert_id),
        updated: Set(Utc::now()),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Removes a domain.
pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), StoreError> {
    domain::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
