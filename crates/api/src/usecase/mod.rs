//! Use-cases: what each request does, in order, with the store and the
//! platform. No poem types here; handlers translate HTTP into these calls.

pub mod access;
pub mod accounts;
pub mod apps;
pub mod builds;
pub mod certs;
pub mod config;
pub mod domains;
pub mod hooks;
pub mod keys;
pub mod lock;
pub mod perms;
pub mod pods;
pub mod reconcile;
pub mod releases;
pub mod tls;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::error::ApiError;
use crate::state::AppState;

/// Runs CPU-heavy work (PBKDF2, checking an uploaded private key) on a
/// blocking thread, at most `state.hashing` at a time, so that no amount of
/// it takes every core from the requests that need none.
pub(crate) async fn cpu_bound<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let _permit = state
        .hashing
        .acquire()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Timestamps as the reference prints them: `2026-11-22T07:34:04Z`.
pub fn fmt_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn times_print_like_the_reference() {
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 7, 34, 4)
            .unwrap();
        assert_eq!(super::fmt_time(&t), "2026-11-22T07:34:04Z");
    }
}
