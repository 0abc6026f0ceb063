//! The store's error type: constraint violations become conflicts the API can
//! answer as client errors; everything else is a database failure.

use sea_orm::{DbErr, SqlErr};
use thiserror::Error;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. a duplicate name, or a version taken concurrently).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// The database failed; the cause is logged, never shown to clients.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// A stored JSON column could not be read back.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Turns unique-constraint violations into [`StoreError::Conflict`] so callers
    /// let the database decide races instead of checking first.
    pub fn from_write(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(m)) => Self::Conflict(m),
            _ => Self::Db(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
