//! Opening the database: the SQLite default or PostgreSQL from `DATABASE_URL`.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The connections a server uses: one for writes, one for reads.
///
/// On SQLite the writer is a single connection, so every write transaction is
/// serialised by construction (no lock-upgrade `SQLITE_BUSY`), while readers get
/// a pool of read-only connections that WAL lets run beside it. On PostgreSQL
/// both are the same pool.
#[derive(Clone, Debug)]
pub struct Databases {
    /// Every write, and every read inside a write transaction.
    pub writer: DatabaseConnection,
    /// Reads outside transactions (authentication, lists, lookups).
    pub reader: DatabaseConnection,
}

fn options(url: &str, max: u32) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(60))
        .max_connections(max)
        .min_connections(1);
    opts
}

/// Connects both halves with settings that suit the back-end.
pub async fn connect(url: &str, pool_size: u32) -> Result<Databases, DbErr> {
    if !url.starts_with("sqlite:") {
        let db = Database::connect(options(url, pool_size)).await?;
        return Ok(Databases {
            writer: db.clone(),
            reader: db,
        });
    }
    let mut w = options(url, 1);
    w.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
    });
    let writer = Database::connect(w).await?;
    let readers = std::thread::available_parallelism()
        .map_or(4, |n| n.get() as u32 * 2)
        .clamp(2, 16);
    let mut r = options(url, readers);
    r.map_sqlx_sqlite_opts(|o| {
        o.foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("query_only", "ON")
    });
    let reader = Database::connect(r).await?;
    Ok(Databases { writer, reader })
}

/// Whether the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
