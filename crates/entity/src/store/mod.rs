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
