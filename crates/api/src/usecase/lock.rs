//! Serialising mutations of one app: an in-process mutex, and on PostgreSQL a
//! transaction-scoped advisory lock so several Drydock processes sharing the
//! database take turns too. Different apps never wait for each other.

use drydock_entity::sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait,
};
use tokio::sync::OwnedMutexGuard;

use crate::error::ApiError;
use crate::state::AppState;

/// Advisory-lock namespace ("DRYD"), so Drydock's keys never collide with another tenant's.
const LOCK_NAMESPACE: i32 = 0x4452_5944;

/// Held for the whole of one app mutation; released by [`AppGuard::release`] or on drop.
struct AppGuard {
    _local: OwnedMutexGuard<()>,
    shared: Option<DatabaseTransaction>,
}

impl AppGuard {
    /// Waits for exclusive use of app `app_id` (named `name`).
    async fn acquire(state: &AppState, name: &str, app_id: i32) -> Result<Self, ApiError> {
        let local = state.app_locks.get(name).lock_owned().await;
        let shared = if state.db.get_database_backend() == DbBackend::Postgres {
            let txn = state
                .db
                .begin()
                .await
                .map_err(drydock_entity::StoreError::from)?;
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1, $2)",
                [LOCK_NAMESPACE.into(), app_id.into()],
            ))
            .await
            .map_err(drydock_entity::StoreError::from)?;
            Some(txn)
        } else {
            None
        };
        Ok(Self {
            _local: local,
            shared,
        })
    }

    /// Lets the next mutation of this app proceed.
    async fn release(self) {
        if let Some(txn) = self.shared {
            if let Err(e) = txn.commit().await {
                tracing::warn!(error = %e, "releasing the app's advisory lock failed; it ends with the connection");
            }
        }
    }
}

/// Runs `work` holding the app's lock, and releases the lock whatever `work`
/// returns — the one way use-cases serialise a mutation of an app.
pub async fn with_app_lock<T>(
    state: &AppState,
    name: &str,
    app_id: i32,
    work: impl AsyncFnOnce() -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let guard = AppGuard::acquire(state, name, app_id).await?;
    let result = work().await;
    guard.release().await;
    result
}
