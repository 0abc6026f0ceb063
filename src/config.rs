//! Settings from flags or `DRYDOCK_*` environment variables, with defaults that
//! run on a fresh machine: SQLite under `./data/`, the daemon's standard socket.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use drydock_api::login_limit::LoginLimitSettings;
use drydock_api::{Registration, Settings};
use drydock_dokku::DaemonSettings;
use drydock_domain::token::BuilderKey;
use drydock_entity::store::connect::PoolSettings;

/// Where and how to keep state.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Database URL: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://./data/drydock.db?mode=rwc",
        hide_env_values = true
    )]
    pub database_url: String,
    /// PostgreSQL pool size (SQLite always uses one connection).
    #[arg(long, env = "DRYDOCK_DB_POOL", default_value_t = 32)]
    pub db_pool: u32,
    /// Seconds to wait for the database to accept a new connection.
    #[arg(long, env = "DRYDOCK_DB_CONNECT_TIMEOUT", default_value_t = 5)]
    pub db_connect_timeout: u64,
    /// Seconds a request waits for a free pooled connection before a 503.
    #[arg(long, env = "DRYDOCK_DB_ACQUIRE_TIMEOUT", default_value_t = 10)]
    pub db_acquire_timeout: u64,
    /// Seconds an idle pooled connection is kept.
    #[arg(long, env = "DRYDOCK_DB_IDLE_TIMEOUT", default_value_t = 300)]
    pub db_idle_timeout: u64,
    /// Times a GET is retried on a fresh connection when its connection breaks (0: never).
    #[arg(long, env = "DRYDOCK_DB_RETRIES", default_value_t = 2)]
    pub db_retries: u32,
    /// Milliseconds before the first such retry; doubled for each further one.
    #[arg(long, env = "DRYDOCK_DB_RETRY_BACKOFF_MS", default_value_t = 50)]
    pub db_retry_backoff_ms: u64,
}

impl DbArgs {
    /// The pool's settings.
    pub fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_pool,
            connect_timeout: Duration::from_secs(self.db_connect_timeout),
            acquire_timeout: Duration::from_secs(self.db_acquire_timeout),
            idle_timeout: Duration::from_secs(self.db_idle_timeout),
        }
    }
}

/// How to reach Dokku.
#[derive(Debug, Clone, Args)]
pub struct DokkuArgs {
    /// dokku-daemon's Unix socket.
    #[arg(long, env = "DRYDOCK_DOKKU_SOCKET", default_value = drydock_dokku::settings::DEFAULT_SOCKET)]
    pub dokku_socket: PathBuf,
    /// Directory shared with Dokku (same path on both sides) for archives, certs and keys.
    #[arg(long, env = "DRYDOCK_SPOOL_DIR", default_value = drydock_dokku::settings::DEFAULT_SPOOL_DIR)]
    pub spool_dir: PathBuf,
    /// Seconds a quick Dokku command may take.
    #[arg(long, env = "DRYDOCK_DOKKU_TIMEOUT", default_value_t = 30)]
    pub dokku_timeout: u64,
    /// Seconds a deploy may take.
    #[arg(long, env = "DRYDOCK_DEPLOY_TIMEOUT", default_value_t = 600)]
    pub deploy_timeout: u64,
    /// Start an in-process dokku-sim on a temporary socket instead of talking to Dokku (demos, tests).
    #[arg(long, env = "DRYDOCK_DOKKU_SIM", default_value_t = false)]
    pub dokku_sim: bool,
}

impl DokkuArgs {
    /// The adapter's settings.
    pub fn daemon_settings(&self) -> DaemonSettings {
        DaemonSettings {
            socket: self.dokku_socket.clone(),
            spool_dir: self.spool_dir.clone(),
            command_timeout: Duration::from_secs(self.dokku_timeout),
            deploy_timeout: Duration::from_secs(self.deploy_timeout),
            ..DaemonSettings::default()
        }
    }
}

/// Registration policy, as written in configuration.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RegistrationArg {
    /// Anyone may register.
    Enabled,
    /// Nobody may register.
    Disabled,
    /// Only admins may register others (`admin_only` as the reference spells it).
    #[value(alias = "admin_only")]
    AdminOnly,
}

/// Log line format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything `serve` needs.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DRYDOCK_BIND", default_value = "127.0.0.1:8000")]
    pub bind: String,
    /// Apps are served at `<app>.<domain>`.
    #[arg(long, env = "DRYDOCK_PLATFORM_DOMAIN", default_value = "drydock.local")]
    pub platform_domain: String,
    /// Who may register.
    #[arg(
        long,
        env = "DRYDOCK_REGISTRATION",
        value_enum,
        default_value = "enabled"
    )]
    pub registration: RegistrationArg,
    /// PBKDF2 iterations for new password hashes.
    #[arg(long, env = "DRYDOCK_PASSWORD_ITERATIONS", default_value_t = drydock_domain::password::DEFAULT_ITERATIONS)]
    pub password_iterations: u32,
    /// Largest container count per process type.
    #[arg(long, env = "DRYDOCK_MAX_SCALE", default_value_t = 100)]
    pub max_scale: u32,
    /// Seconds a one-off `run` may take.
    #[arg(long, env = "DRYDOCK_RUN_TIMEOUT", default_value_t = 600)]
    pub run_timeout: u64,
    /// One-off commands one user may run at once.
    #[arg(long, env = "DRYDOCK_RUN_PER_USER", default_value_t = 2)]
    pub run_per_user: usize,
    /// One-off commands the whole server may run at once.
    #[arg(long, env = "DRYDOCK_RUN_CONCURRENCY", default_value_t = 8)]
    pub run_concurrency: usize,
    /// Largest request body, in bytes.
    #[arg(long, env = "DRYDOCK_MAX_BODY_BYTES", default_value_t = 512 * 1024)]
    pub max_body_bytes: usize,
    /// Seconds a client may take to send a request body.
    #[arg(long, env = "DRYDOCK_BODY_TIMEOUT", default_value_t = 30)]
    pub body_timeout: u64,
    /// Seconds a client may take to send a request head; idle keep-alive connections close after it too.
    #[arg(long, env = "DRYDOCK_HEADER_TIMEOUT", default_value_t = 30)]
    pub header_timeout: u64,
    /// Failed logins allowed per username within the window (0: no limit).
    #[arg(long, env = "DRYDOCK_LOGIN_FAILURES_PER_USER", default_value_t = 5)]
    pub login_failures_per_user: u32,
    /// Failed logins allowed per client address within the window (0: no limit).
    #[arg(long, env = "DRYDOCK_LOGIN_FAILURES_PER_ADDRESS", default_value_t = 20)]
    pub login_failures_per_address: u32,
    /// Seconds failed logins are remembered.
    #[arg(long, env = "DRYDOCK_LOGIN_WINDOW", default_value_t = 300)]
    pub login_window: u64,
    /// Header a trusted reverse proxy sets to the client address (e.g. `X-Forwarded-For`);
    /// unset, the TCP peer address is used. Only set it when every request comes through that proxy.
    #[arg(long, env = "DRYDOCK_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// The secret the Dokku plugin sends in `X-Drycc-Builder-Auth` to use the
    /// builder hooks (at least 32 characters); unset, the hooks answer 404.
    #[arg(long, env = "DRYDOCK_BUILDER_KEY", hide_env_values = true)]
    pub builder_key: Option<BuilderKey>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub dokku: DokkuArgs,
}

impl ServeArgs {
    /// The API's settings.
    pub fn api_settings(&self) -> Settings {
        Settings {
            platform_domain: self.platform_domain.clone(),
            registration: match self.registration {
                RegistrationArg::Enabled => Registration::Enabled,
                RegistrationArg::Disabled => Registration::Disabled,
                RegistrationArg::AdminOnly => Registration::AdminOnly,
            },
            password_iterations: self.password_iterations,
            max_scale: self.max_scale,
            run_timeout: Duration::from_secs(self.run_timeout),
            max_body_bytes: self.max_body_bytes,
            body_timeout: Duration::from_secs(self.body_timeout),
            header_timeout: Duration::from_secs(self.header_timeout),
            db_retries: self.db.db_retries,
            db_retry_backoff: Duration::from_millis(self.db.db_retry_backoff_ms),
            login_limits: LoginLimitSettings {
                per_username: self.login_failures_per_user,
                per_address: self.login_failures_per_address,
                window: Duration::from_secs(self.login_window),
            },
            client_ip_header: self.client_ip_header.clone(),
            builder_key: self.builder_key.clone(),
            run_limits: drydock_api::run_slots::RunLimits {
                per_user: self.run_per_user,
                total: self.run_concurrency,
            },
            ..Settings::default()
        }
    }
}

/// `DRYDOCK_*` variables this program knows.
const KNOWN_ENV: &[&str] = &[
    "DRYDOCK_BIND",
    "DRYDOCK_DB_POOL",
    "DRYDOCK_DB_CONNECT_TIMEOUT",
    "DRYDOCK_DB_ACQUIRE_TIMEOUT",
    "DRYDOCK_DB_IDLE_TIMEOUT",
    "DRYDOCK_DB_RETRIES",
    "DRYDOCK_DB_RETRY_BACKOFF_MS",
    "DRYDOCK_MAX_BODY_BYTES",
    "DRYDOCK_BODY_TIMEOUT",
    "DRYDOCK_HEADER_TIMEOUT",
    "DRYDOCK_LOGIN_FAILURES_PER_USER",
    "DRYDOCK_LOGIN_FAILURES_PER_ADDRESS",
    "DRYDOCK_LOGIN_WINDOW",
    "DRYDOCK_CLIENT_IP_HEADER",
    "DRYDOCK_BUILDER_KEY",
    "DRYDOCK_DOKKU_SOCKET",
    "DRYDOCK_SPOOL_DIR",
    "DRYDOCK_DOKKU_TIMEOUT",
    "DRYDOCK_DEPLOY_TIMEOUT",
    "DRYDOCK_DOKKU_SIM",
    "DRYDOCK_PLATFORM_DOMAIN",
    "DRYDOCK_REGISTRATION",
    "DRYDOCK_PASSWORD_ITERATIONS",
    "DRYDOCK_MAX_SCALE",
    "DRYDOCK_RUN_TIMEOUT",
    "DRYDOCK_RUN_PER_USER",
    "DRYDOCK_RUN_CONCURRENCY",
    "DRYDOCK_LOG_FORMAT",
];

/// Warns about `DRYDOCK_*` variables that nothing reads (usually a typo).
pub fn warn_unknown_env() {
    for (k, _) in std::env::vars() {
        if k.starts_with("DRYDOCK_") && !KNOWN_ENV.contains(&k.as_str()) {
            tracing::warn!(variable = %k, "unknown DRYDOCK_ environment variable ignored");
        }
    }
}

/// The database URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
