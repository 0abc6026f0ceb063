//! What a container platform must do for Drydock, in domain terms.
//!
//! The API's use-cases call this trait and never see Dokku's commands; the
//! Dokku adapter (`drydock-dokku`) implements it over dokku-daemon's socket.
//! Every argument is already a validated newtype, so an implementation never
//! has to ask whether a value is safe.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::limits::{Healthchecks, Limits};
use crate::name::{AppName, ConfigKey, DomainName, PodName, ProcessType, SshKeyName};

/// Why the platform could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlatformError {
    /// The platform could not be reached (socket missing, refused, timed out): the client gets 503.
    #[error("Dokku is unavailable: {0}")]
    Unavailable(String),
    /// The platform was reached and refused the operation; the text is Dokku's own message.
    #[error("{0}")]
    Rejected(String),
    /// The platform already has what was to be created, and Drydock did not
    /// create it (an app of the operator's, or one Drydock does not manage):
    /// it is left untouched and the client gets 409.
    #[error("{0}")]
    AlreadyExists(String),
    /// A value could not be expressed safely as a command argument; nothing was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The platform answered something that could not be understood.
    #[error("unintelligible reply from Dokku: {message}")]
    Protocol {
        /// What was wrong with the reply.
        message: String,
        /// The raw bytes received, for the log.
        raw: Vec<u8>,
    },
}

/// Everything a release needs to run, applied as one unit: the image, its
/// process types, the full environment and the resource settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReleaseSpec {
    /// The release number, so the platform can label containers with it.
    pub version: u32,
    /// The image to run; `None` for a release that only carries config (no build yet).
    pub image: Option<String>,
    /// Process type → command. Empty means the image's own command, run as `cmd`.
    pub procfile: BTreeMap<ProcessType, String>,
    /// The complete environment (not a diff), including `DRYCC_APP` and `DRYCC_RELEASE`.
    pub env: BTreeMap<ConfigKey, String>,
    /// Memory and CPU limits per process type.
    pub limits: Limits,
    /// Health checks per process type.
    pub healthchecks: Healthchecks,
    /// The release this one replaces, as the controller recorded it under the
    /// app's lock (`None` when unknown). An adapter may trust what it remembers
    /// of its own last apply only if that was exactly this release: another
    /// controller process may have applied one since.
    pub replaces: Option<u32>,
}

/// Which containers a restart affects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestartTarget {
    /// Every container of the app.
    All,
    /// Every container of one process type.
    Type(ProcessType),
    /// One container.
    Pod(PodName),
}

/// The lifecycle state of a container, in the reference's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PodState {
    /// Running.
    Up,
    /// Stopped or exited cleanly.
    Down,
    /// Exited with an error or restarting in a loop.
    Crashed,
    /// Created but not yet running.
    Starting,
}

/// One running (or failed) container of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    /// The container's name.
    pub name: String,
    /// Its process type.
    pub process_type: String,
    /// Its state.
    pub state: PodState,
    /// When it started, if it has.
    pub started: Option<DateTime<Utc>>,
    /// The release version it runs, when the platform knows it.
    pub release: Option<u32>,
}

/// The result of a one-off command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunOutput {
    /// The command's exit status.
    pub exit_code: i32,
    /// Its merged stdout and stderr, capped.
    pub output: String,
}

/// The operations Drydock needs from a container platform.
#[async_trait]
pub trait Platform: Send + Sync {
    /// Creates an empty app; [`PlatformError::AlreadyExists`] if the platform has one by that name.
    async fn create_app(&self, app: &AppName) -> Result<(), PlatformError>;
    /// Destroys an app and everything Dokku holds for it.
    async fn destroy_app(&self, app: &AppName) -> Result<(), PlatformError>;
    /// Names of every app the platform knows.
    async fn list_apps(&self) -> Result<Vec<AppName>, PlatformError>;
    /// Makes the platform run exactly `release`: environment, limits, and (when
    /// there is an image) a deploy of it with its process types and health checks.
    async fn apply_release(
        &self,
        app: &AppName,
        release: &ReleaseSpec,
    ) -> Result<(), PlatformError>;
    /// The release version the platform currently runs for the app, if it knows.
    async fn deployed_release(&self, app: &AppName) -> Result<Option<u32>, PlatformError>;
    /// Sets the number of containers for each listed process type.
    async fn scale(
        &self,
        app: &AppName,
        counts: &BTreeMap<ProcessType, u32>,
    ) -> Result<(), PlatformError>;
    /// Restarts containers.
    async fn restart(&self, app: &AppName, target: &RestartTarget) -> Result<(), PlatformError>;
    /// The app's containers.
    async fn list_pods(&self, app: &AppName) -> Result<Vec<Pod>, PlatformError>;
    /// Routes a hostname to the app.
    async fn add_domain(&self, app: &AppName, domain: &DomainName) -> Result<(), PlatformError>;
    /// The hostnames the platform routes to the app (its own, not global ones).
    async fn domains(&self, app: &AppName) -> Result<Vec<String>, PlatformError>;
    /// Stops routing a hostname to the app.
    async fn remove_domain(&self, app: &AppName, domain: &DomainName) -> Result<(), PlatformError>;
    /// Installs the app's one TLS certificate (chain PEM, leaf first) and its private key.
    async fn install_certificate(
        &self,
        app: &AppName,
        chain_pem: &str,
        key_pem: &str,
    ) -> Result<(), PlatformError>;
    /// Removes the app's TLS certificate.
    async fn remove_certificate(&self, app: &AppName) -> Result<(), PlatformError>;
    /// Turns the HTTP→HTTPS redirect (and HSTS) on or off.
    async fn set_https_enforced(&self, app: &AppName, enforced: bool) -> Result<(), PlatformError>;
    /// Authorises a public key for `git push`. `public_key` is one validated OpenSSH line.
    async fn add_ssh_key(&self, name: &SshKeyName, public_key: &str) -> Result<(), PlatformError>;
    /// Revokes a public key.
    async fn remove_ssh_key(&self, name: &SshKeyName) -> Result<(), PlatformError>;
    /// The last `lines` lines of the app's container logs, oldest first.
    async fn logs(&self, app: &AppName, lines: u32) -> Result<Vec<String>, PlatformError>;
    /// Runs `command` (any string, run by a shell in a new container) and waits for it.
    async fn run(
        &self,
        app: &AppName,
        command: &str,
        timeout: Duration,
    ) -> Result<RunOutput, PlatformError>;
}
