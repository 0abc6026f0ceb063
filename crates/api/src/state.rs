//! What every handler can reach: the database, the platform and the settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drydock_domain::platform::Platform;
use drydock_domain::token::BuilderKey;
use drydock_entity::sea_orm::DatabaseConnection;
use drydock_entity::store::connect::Databases;

use crate::login_limit::{LoginLimitSettings, LoginLimiter};
use crate::run_slots::{RunLimits, RunSlots};

/// Who may register accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Anyone.
    Enabled,
    /// Nobody (accounts come from `createsuperuser` only).
    Disabled,
    /// Only a logged-in admin (or the very first user).
    AdminOnly,
}

/// Behaviour settings the API needs; the binary fills them from flags and env.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Apps are served at `<app>.<platform_domain>`.
    pub platform_domain: String,
    /// Registration policy.
    pub registration: Registration,
    /// PBKDF2 iterations for new password hashes.
    pub password_iterations: u32,
    /// Largest container count a single process type may be scaled to.
    pub max_scale: u32,
    /// Longest a one-off `run` may take.
    pub run_timeout: Duration,
    /// Largest `log_lines` a client may ask for.
    pub max_log_lines: u32,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest a client may take to send a request body once its head arrived.
    pub body_timeout: Duration,
    /// Longest a client may take to send a whole request head; an idle
    /// keep-alive connection is closed after this too (see [`crate::server`]).
    pub header_timeout: Duration,
    /// How many times a safe request (GET, HEAD) is retried on a fresh
    /// connection when the database connection fails under it.
    pub db_retries: u32,
    /// Pause before the first such retry; doubled for each further one.
    pub db_retry_backoff: Duration,
    /// Failed-login limits.
    pub login_limits: LoginLimitSettings,
    /// Header a trusted reverse proxy puts the client address in (its last
    /// entry is used); `None` uses the TCP peer address.
    pub client_ip_header: Option<String>,
    /// The key that opens the builder hooks (`/v2/hooks/…`); `None` closes them.
    pub builder_key: Option<BuilderKey>,
    /// One-off commands allowed at once, per user and in all.
    pub run_limits: RunLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            platform_domain: "drydock.local".into(),
            registration: Registration::Enabled,
            password_iterations: drydock_domain::password::DEFAULT_ITERATIONS,
            max_scale: 100,
            run_timeout: Duration::from_secs(600),
            max_log_lines: 10_000,
            max_body_bytes: 512 * 1024,
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            db_retries: 2,
            db_retry_backoff: Duration::from_millis(50),
            login_limits: LoginLimitSettings::default(),
            client_ip_header: None,
            builder_key: None,
            run_limits: RunLimits::default(),
        }
    }
}

/// Shared state, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database for writes (and reads that must see a transaction's own writes).
    pub db: DatabaseConnection,
    /// The database for plain reads: a separate read-only pool on SQLite, the same pool on PostgreSQL.
    pub read: DatabaseConnection,
    /// Caps concurrent CPU-heavy work (password hashing, private key checks) so
    /// it cannot starve other requests of CPU.
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Where releases are applied.
    pub platform: Arc<dyn Platform>,
    /// Behaviour settings.
    pub settings: Arc<Settings>,
    /// Per-app mutexes serialising mutations within this process.
    pub app_locks: AppLocks,
    /// Failed-login counters.
    pub login_limiter: Arc<LoginLimiter>,
    /// One-off commands running now.
    pub run_slots: RunSlots,
}

impl AppState {
    /// Bundles the parts.
    pub fn new(dbs: Databases, platform: Arc<dyn Platform>, settings: Settings) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            db: dbs.writer,
            read: dbs.reader,
            hashing: Arc::new(tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1))),
            platform,
            login_limiter: Arc::new(LoginLimiter::new(settings.login_limits)),
            run_slots: RunSlots::new(settings.run_limits),
            settings: Arc::new(settings),
            app_locks: AppLocks::default(),
        }
    }
}

/// One async mutex per app name, created on demand.
#[derive(Clone, Default)]
pub struct AppLocks(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

impl AppLocks {
    /// The mutex for `app`; hold its guard for the whole mutation.
    pub fn get(&self, app: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, m| Arc::strong_count(m) > 1);
        }
        map.entry(app.to_owned()).or_default().clone()
    }
}
