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

/// The total a first page implies on its own: a first page that is not full holds every row.
pub fn known_total(page: &PageRequest, rows: usize) -> Option<u64> {
    (page.offset == 0 && (rows as u64) < page.limit).then_some(rows as u64)
}

/// Runs `query` for one page and counts all its rows (skipping the count when
/// the page itself shows the total), for list endpoints.
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
    use sea_orm::QuerySelect;
    let items = query
        .clone()
        .offset(page.offset)
        .limit(page.limit)
        .all(db)
        .await?;
    let total = total(db, query, &page, items.len()).await?;
    Ok(Page { items, total })
}

/// The number of rows `query` matches, for a page that came back with
/// `rows` of them: no count query when the page itself shows the total.
pub async fn total<E, C>(
    db: &C,
    query: sea_orm::Select<E>,
    page: &PageRequest,
    rows: usize,
) -> Result<u64, crate::StoreError>
where
    E: sea_orm::EntityTrait,
    E::Model: Sync,
    C: sea_orm::ConnectionTrait,
{
    use sea_orm::PaginatorTrait;
    Ok(match known_total(page, rows) {
        Some(total) => total,
        None => query.count(db).await?,
    })
}
