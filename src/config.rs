//! Settings from flags or `DRYDOCK_*` environment variables, with defaults that
//! run on a fresh machine: SQLite under `./data/`, the daemon's standard socket.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use drydock_api::{Registration, Settings};
use drydock_dokku::DaemonSettings;

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
    /// Only admins may register others.
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
            ..Settings::default()
        }
    }
}

/// `DRYDOCK_*` variables this program knows.
const KNOWN_ENV: &[&str] = &[
    "DRYDOCK_BIND",
    "DRYDOCK_DB_POOL",
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
