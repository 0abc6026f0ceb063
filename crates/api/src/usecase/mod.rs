//! Use-cases: what each request does, in order, with the store and the
//! platform. No poem types here; handlers translate HTTP into these calls.

pub mod access;
pub mod accounts;
pub mod apps;
pub mod builds;
pub mod certs;
pub mod config;
pub mod domains;
pub mod keys;
pub mod lock;
pub mod perms;
pub mod pods;
pub mod reconcile;
pub mod releases;

use chrono::{DateTime, Utc};

/// Timestamps as the reference prints them: `2026-11-22T07:34:04Z`.
pub fn fmt_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
