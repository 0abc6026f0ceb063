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

/// How the connection pool behaves; every field is a server setting.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Most connections open at once (PostgreSQL; SQLite writes use one).
    pub max_connections: u32,
    /// Longest to wait for the database to accept a new connection.
    pub connect_timeout: Duration,
    /// Longest a request waits for a free connection before it gets a 503.
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this, so a restarted database or a
    /// proxy's idle cut-off never leaves the pool holding dead sockets long.
    pub idle_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 32,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// Pool options shared by every pool. sqlx checks a pooled connection before
/// handing it out (its default), so connections the server killed while idle
/// are replaced instead of failing a request.
fn options(url: &str, max: u32, pool: &PoolSettings) -> ConnectOptions {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(pool.connect_timeout)
        .acquire_timeout(pool.acquire_timeout)
        .idle_timeout(pool.idle_timeout)
        .max_connections(max)
        .min_connections(1);
    opts
}

/// Connects both halves with settings that suit the back-end.
pub async fn connect(url: &str, pool: &PoolSettings) -> Result<Databases, DbErr> {
    if !url.starts_with("sqlite:") {
        let db = Database::connect(options(url, pool.max_connections, pool)).await?;
        return Ok(Databases {
            writer: db.clone(),
            reader: db,
        });
    }
    let mut w = options(url, 1, pool);
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
    let mut r = options(url, readers, pool);
    // A small page cache per reader (the OS caches the file anyway), so a
    // pool of readers cannot grow the process by megabytes each as the
    // database grows.
    r.map_sqlx_sqlite_opts(|o| {
        o.foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("query_only", "ON")
            .pragma("cache_size", "-512")
    });
    let reader = Database::connect(r).await?;
    Ok(Databases { writer, reader })
}

/// Whether the database answers a trivial query (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
