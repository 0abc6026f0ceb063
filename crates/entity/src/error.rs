//! The store's error type: constraint violations become conflicts the API can
//! answer as client errors, lost or refused connections become "unavailable"
//! (a 503 the client may retry), everything else is a database failure.

use sea_orm::sqlx;
use sea_orm::sqlx::error::DatabaseError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use thiserror::Error;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. a duplicate name, or a version taken concurrently).
    #[error("unique constraint violated: {0}")]
    Conflict(String),
    /// The database could not be reached, dropped the connection, or asked
    /// for the work to be retried; nothing was committed by the failed call.
    #[error("database unavailable: {0}")]
    Unavailable(DbErr),
    /// The database failed; the cause is logged, never shown to clients.
    #[error("database error: {0}")]
    Db(DbErr),
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
            _ => Self::from(e),
        }
    }
}

impl StoreError {
    /// Whether the connection broke under the call, as opposed to no
    /// connection being free: only then can running the call again on a
    /// fresh connection help without lengthening the queue for one.
    pub fn is_broken_connection(&self) -> bool {
        let Self::Unavailable(e) = self else {
            return false;
        };
        let pool_exhausted = match e {
            DbErr::ConnectionAcquire(_) => true,
            DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
                matches!(s.as_ref(), sqlx::Error::PoolTimedOut)
            }
            _ => false,
        };
        !pool_exhausted
    }
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        if is_transient(&e) {
            Self::Unavailable(e)
        } else {
            Self::Db(e)
        }
    }
}

/// Whether `e` says the connection, not the statement, failed: a pool that
/// timed out, a socket that broke, a backend terminated by an administrator,
/// a server shutting down or full, a serialisation failure, SQLite busy.
fn is_transient(e: &DbErr) -> bool {
    let sqlx_err = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => s,
        _ => return false,
    };
    match sqlx_err.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            if let Some(lite) = d.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                // SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
                let primary = lite
                    .code()
                    .and_then(|c| c.parse::<i32>().ok())
                    .map(|c| c & 0xff);
                return matches!(primary, Some(5 | 6));
            }
            d.code().is_some_and(|c| {
                // Class 08: connection exception; 57P0x: admin/crash shutdown;
                // 53300: too many connections; 40001/40P01: retry the transaction.
                c.starts_with("08")
                    || c.starts_with("57P0")
                    || matches!(c.as_ref(), "53300" | "40001" | "40P01")
            })
        }
        _ => false,
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        Self::Corrupt(e.to_string())
    }
}
