//! How to reach dokku-daemon and how long to wait for it.
//!
//! One plain struct so the binary can fill it from its own layered config and
//! tests can shorten every timeout. No parsing or IO here.

use std::path::PathBuf;
use std::time::Duration;

/// The daemon's default socket path (dokku-daemon's `DOKKU_SOCK_PATH`).
pub const DEFAULT_SOCKET: &str = "/var/run/dokku-daemon/dokku-daemon.sock";
/// Where Drydock writes files for Dokku to read unless configured otherwise.
pub const DEFAULT_SPOOL_DIR: &str = "/var/lib/drydock/spool";

/// Connection and timing settings for the Dokku adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonSettings {
    /// The dokku-daemon Unix socket.
    pub socket: PathBuf,
    /// A directory visible to Drydock and to Dokku at the same absolute path,
    /// for archives, certificates and keys Dokku must read. Only
    /// `A-Z a-z 0-9 / . _ -` are allowed in it (it travels as a command argument).
    pub spool_dir: PathBuf,
    /// How long to wait for the socket to accept a connection.
    pub connect_timeout: Duration,
    /// How long a quick command (reports, config, domains, …) may take, including
    /// the wait for the daemon's global lock.
    pub command_timeout: Duration,
    /// How long a deploy-class command (archive deploy, restart, scale, destroy) may take.
    pub deploy_timeout: Duration,
    /// The longest reply line accepted; longer replies are a protocol error.
    pub max_reply_bytes: usize,
    /// How much output of a one-off `run` is returned; the rest is cut with a marker.
    pub run_output_cap: usize,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        Self {
            socket: PathBuf::from(DEFAULT_SOCKET),
            spool_dir: PathBuf::from(DEFAULT_SPOOL_DIR),
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(30),
            deploy_timeout: Duration::from_secs(600),
            max_reply_bytes: 64 << 20,
            run_output_cap: 1 << 20,
        }
    }
}
