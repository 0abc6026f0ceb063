//! The simulated Dokku's data: what tests read back after driving the adapter.
//!
//! Plain, cloneable values with public fields; [`super::SimHandle::state`]
//! returns a snapshot. Behaviour lives in the command modules, not here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Everything the simulated Dokku holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimState {
    /// Apps by name.
    pub apps: BTreeMap<String, SimApp>,
    /// Authorised ssh keys by name.
    pub ssh_keys: BTreeMap<String, SimSshKey>,
}

impl SimState {
    /// The app called `name`, if it exists.
    pub fn app(&self, name: &str) -> Option<&SimApp> {
        self.apps.get(name)
    }
}

/// One app.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SimApp {
    /// Its environment, values decoded (`--encoded` base64 undone).
    pub config: BTreeMap<String, String>,
    /// What the last successful deploy ran, if any.
    pub deploy: Option<SimDeploy>,
    /// How many deploys succeeded.
    pub deploy_count: u32,
    /// Process type → container count.
    pub scale: BTreeMap<String, u32>,
    /// Current containers, ordered by type and index.
    pub containers: Vec<SimContainer>,
    /// Routed hostnames.
    pub domains: Vec<String>,
    /// The app's one TLS certificate.
    pub cert: Option<SimCert>,
    /// `nginx:set` properties (`hsts` → `true`, …).
    pub nginx: BTreeMap<String, String>,
    /// How often `proxy:build-config` ran.
    pub proxy_builds: u32,
    /// Process type (or `_default_`) → resource (`memory`, `cpu`) → value.
    pub limits: BTreeMap<String, BTreeMap<String, String>>,
    /// Phase (`build`, `deploy`, `run`) → docker options.
    pub docker_options: BTreeMap<String, Vec<String>>,
    /// How often the app (or one of its types) was restarted.
    pub restarts: u32,
    /// One-off commands, in order.
    pub runs: Vec<SimRun>,
    /// Detached one-off containers (`run:detached`) not yet stopped, by name.
    pub detached: BTreeMap<String, SimDetached>,
    /// Container log lines, in order of writing.
    pub logs: Vec<SimLogLine>,
}

impl SimApp {
    /// The release number the last deploy's marker named.
    pub fn deployed_release(&self) -> Option<u32> {
        self.deploy.as_ref().and_then(|d| d.release)
    }
}

/// The result of a deploy from an archive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimDeploy {
    /// The image of the Dockerfile's `FROM` line.
    pub image: String,
    /// The whole Dockerfile.
    pub dockerfile: String,
    /// Procfile entries (empty: no Procfile, so only `web` running the image's CMD).
    pub procfile: BTreeMap<String, String>,
    /// The archive's `app.json`, parsed.
    pub app_json: Option<serde_json::Value>,
    /// The archive's release marker, parsed.
    pub marker: Option<serde_json::Value>,
    /// The `release` field of the marker.
    pub release: Option<u32>,
    /// The URL the archive was fetched from.
    pub source_url: String,
    /// The fake git revision of the commit (also set as `GIT_REV`).
    pub git_rev: String,
}

impl SimDeploy {
    /// The process types the deploy runs.
    pub fn process_types(&self) -> Vec<String> {
        if self.procfile.is_empty() {
            vec!["web".into()]
        } else {
            self.procfile.keys().cloned().collect()
        }
    }
}

/// One container, named `APP.TYPE.N` as Dokku names them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimContainer {
    /// `APP.TYPE.N`.
    pub name: String,
    /// Its process type.
    pub process_type: String,
    /// Its index within the type, from 1.
    pub index: u32,
    /// A fake container id.
    pub id: String,
    /// Docker's status word (`running`, `exited`, …).
    pub status: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its labels (Dokku's and those from `docker-options` deploy `--label=`).
    pub labels: BTreeMap<String, String>,
    /// The release number of its `com.drycc.release` label.
    pub release: Option<u32>,
    /// The environment it was started with.
    pub env: BTreeMap<String, String>,
}

/// An installed certificate, as read from the files named in `certs:add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimCert {
    /// The certificate chain PEM.
    pub crt: String,
    /// The private key PEM.
    pub key: String,
}

/// An authorised ssh key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimSshKey {
    /// The key line as read from the file.
    pub key: String,
    /// `SHA256:…` of the key blob.
    pub fingerprint: String,
}

/// One `run` invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimRun {
    /// The words after the app name.
    pub args: Vec<String>,
    /// `-e` variables, values as sent.
    pub env: BTreeMap<String, String>,
    /// `DRYCC_CMD` decoded from base64: the command exactly as the user typed it.
    pub command: Option<String>,
    /// The exit status the sim produced.
    pub exit_code: i32,
}

/// A container started by `run:detached`: its output appears when the
/// command is done; it stays (so its logs can be read) until `run:stop`,
/// unless it was killed at its TTL, when `--rm` removed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimDetached {
    /// Everything the container prints.
    pub output: String,
    /// When that output is there to read.
    pub ready_at: DateTime<Utc>,
    /// When the container is gone (killed at its TTL), if it is.
    pub gone_at: Option<DateTime<Utc>>,
}

/// One line of container log output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimLogLine {
    /// The id of the container that wrote it.
    pub container_id: String,
    /// The container's dyno (`web.1`).
    pub dyno: String,
    /// When it was written.
    pub timestamp: DateTime<Utc>,
    /// The text.
    pub text: String,
}
