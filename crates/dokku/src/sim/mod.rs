//! `dokku-sim`: a simulated dokku-daemon for tests and the demo mode.
//!
//! It listens on a Unix socket and speaks the daemon's protocol byte for
//! byte ([`daemon`]: blank splitting without quoting, optional globbing in the
//! socket directory, the buggy flag validation, `Invalid command`,
//! `Requires --force flag`, `<`/`>` redirections with the stale `ok`, the
//! encoder that escapes only `\n` and `"`), keeps an in-memory Dokku
//! ([`SimState`]) changed only by the commands Drydock sends, logs every
//! received line, and injects [`Fault`]s.
//!
//! ```no_run
//! # async fn demo() -> Result<(), drydock_dokku::sim::SimError> {
//! use drydock_dokku::sim::{Fault, Sim, SimOptions};
//! let sim = Sim::start("/tmp/dokku.sock", SimOptions::default()).await?;
//! // … drive DokkuPlatform against /tmp/dokku.sock …
//! let state = sim.state();
//! let config = &state.app("shop").map(|a| a.config.clone());
//! sim.set_fault(Fault::Garbage);
//! sim.clear_fault();
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

pub mod daemon;
pub mod dokku;
pub mod fault;
mod gojson;
mod server;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::task::JoinHandle;

pub use fault::Fault;
pub use state::{
    SimApp, SimCert, SimContainer, SimDeploy, SimDetached, SimLogLine, SimRun, SimSshKey, SimState,
};

use server::Shared;

/// How the simulator behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// A fault active from the start.
    pub fault: Option<Fault>,
    /// Whether tokens with `*` or `?` are globbed against the socket directory, as the daemon does.
    pub glob: bool,
    /// The longest request line accepted; a longer one ends the connection.
    pub max_line_bytes: usize,
    /// How long a session survives its client closing (socat's 0.5 s).
    pub close_grace: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            fault: None,
            glob: true,
            max_line_bytes: 16 << 20,
            close_grace: server::CLOSE_GRACE,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, Error)]
pub enum SimError {
    /// The socket could not be created.
    #[error("cannot listen on {path}: {source}")]
    Bind {
        /// The socket path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Starts simulators.
#[derive(Debug, Clone, Copy)]
pub struct Sim;

impl Sim {
    /// Listens on `socket` (replacing a stale file) and serves until the
    /// handle is shut down or dropped. Must be called inside a tokio runtime.
    pub async fn start(
        socket: impl Into<PathBuf>,
        options: SimOptions,
    ) -> Result<SimHandle, SimError> {
        let socket = socket.into();
        let listener = server::bind(&socket).map_err(|source| SimError::Bind {
            path: socket.clone(),
            source,
        })?;
        let initial = options.fault.clone();
        let shared = Arc::new(Shared::new(socket, options));
        if initial.is_some() {
            shared.set_fault(initial);
        }
        let task = tokio::spawn(server::listen(Arc::clone(&shared), listener));
        Ok(SimHandle {
            shared,
            task: Some(task),
        })
    }
}

/// A running simulator: read its state, inject faults, stop it.
pub struct SimHandle {
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("socket", &self.shared.socket)
            .finish()
    }
}

impl SimHandle {
    /// The socket it listens on.
    pub fn socket_path(&self) -> &Path {
        &self.shared.socket
    }

    /// A snapshot of the simulated Dokku.
    pub fn state(&self) -> SimState {
        self.shared.lock().state.clone()
    }

    /// Every line received (after the daemon's trimming), except `sim:` control lines.
    pub fn commands(&self) -> Vec<String> {
        self.shared.lock().commands.clone()
    }

    /// Changes the simulated Dokku behind Drydock's back (drift, out-of-band deploys).
    pub fn update_state(&self, change: impl FnOnce(&mut SimState)) {
        change(&mut self.shared.lock().state);
    }

    /// Makes `fault` the active fault.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.set_fault(Some(fault));
    }

    /// Removes the active fault (and releases commands hanging because of it).
    pub fn clear_fault(&self) {
        self.shared.set_fault(None);
    }

    /// Stops listening, ends every connection and removes the socket file.
    pub async fn shutdown(mut self) {
        self.shared.signal_shutdown();
        if let Some(task) = self.task.take() {
            if let Err(e) = task.await {
                tracing::warn!(error = %e, "dokku-sim listener ended abnormally");
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.shared.signal_shutdown();
        }
    }
}
