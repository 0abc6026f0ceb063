//! Query functions, one module per table or aggregate.

pub mod apps;
pub mod builds;
pub mod certs;
pub mod collaborators;
pub mod configs;
pub mod connect;
pub mod domains;
pub mod events;
pub mod keys;
pub mod releases;
pub mod tls;
pub mod tokens;
pub mod users;

/// One page of a list, with the total the client needs for `count`/`next`.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows across all pages.
    pub total: u64,
}

/// Offset and size of a requested page.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Rows to skip.
    pub offset: u64,
    /// Rows to return.
    pub limit: u64,
}

/// Runs `query` for one page and counts all its rows, for list endpoints.
pub async fn fetch_page<E, C>(
    db: &C,
    query: sea_orm::Select<E>,
    page: PageRequest,
) -> Result<Page<E::Model>, crate::StoreError>
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{PaginatorTrait, QuerySelect};
    let total = query.clone().count(db).await?;
    let items = query.offset(page.offset).limit(page.limit).all(db).await?;
    Ok(Page { items, total })
}

/// Maps row ids to their uuids in one query (for lists that show related objects by uuid).
pub async fn uuids_by_id<E, C>(
    db: &C,
    id: E::Column,
    uuid: E::Column,
    ids: impl IntoIterator<Item = i32>,
) -> Result<std::collections::HashMap<i32, uuid::Uuid>, crate::StoreError>
where
    E: sea_orm::EntityTrait,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let ids: Vec<i32> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i32, uuid::Uuid)> = E::find()
        .select_only()
        .column(id)
        .column(uuid)
        .filter(id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
