//! [`DokkuPlatform`]: the `Platform` trait implemented with the Dokku commands
//! of dokku-commands §2, sent through [`DaemonClient`].
//!
//! Every command line comes from [`Command`]; every file Dokku reads goes
//! through the spool directory. The bigger operations live in submodules: releases
//! (config, limits, labels, archive deploy), pods, one-off runs and logs.

mod logs;
mod pods;
mod release;
mod reports;
mod run;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use drydock_domain::name::{AppName, DomainName, ProcessType, SshKeyName};
use drydock_domain::platform::{
    Platform, PlatformError, Pod, ReleaseSpec, RestartTarget, RunOutput,
};

use crate::client::DaemonClient;
use crate::command::{Command, GlobalFlag};
use crate::process_types;
use crate::reply::Reply;
use crate::settings::DaemonSettings;
use crate::spool::{Spool, PRIVATE_MODE, PUBLIC_MODE};

pub use run::{EXIT_MARKER, RUN_SCRIPT, RUN_WRAPPER};

/// Drydock's Dokku backend.
#[derive(Debug)]
pub struct DokkuPlatform {
    client: DaemonClient,
    spool: Spool,
    /// Per app, what this process last applied (see `release::Applied`): a
    /// release that changes no image, process type or health check is applied
    /// with `ps:restart` instead of a new archive deploy, and without reading
    /// Dokku's state back first. Forgotten after any failure.
    applied: std::sync::Mutex<std::collections::HashMap<String, release::Applied>>,
    /// Per app, the pods this process last read from Dokku: answered instead
    /// of an error while the daemon is busy with another command (one app's
    /// slow deploy holds it for every app), so that reads stay reads.
    pods_seen: std::sync::Mutex<std::collections::HashMap<String, Vec<Pod>>>,
}

/// How long a command may take.
#[derive(Debug, Clone, Copy)]
enum Class {
    /// Reports, config, domains: `command_timeout`.
    Quick,
    /// Deploys, restarts, scaling, destroy: `deploy_timeout`.
    Deploy,
}

impl DokkuPlatform {
    /// A platform talking to the daemon and spool directory in `settings`;
    /// nothing is connected until the first operation.
    pub fn new(settings: DaemonSettings) -> Self {
        let spool = Spool::new(settings.spool_dir.clone());
        Self {
            client: DaemonClient::new(settings),
            spool,
            applied: Default::default(),
            pods_seen: Default::default(),
        }
    }

    /// Removes spool files a crash left behind (release archives, private
    /// keys): those older than twice the deploy timeout, which no command
    /// still running in any Drydock process can be reading.
    pub fn sweep_spool(&self) -> usize {
        self.spool.sweep(self.client.settings().deploy_timeout * 2)
    }

    /// Checks that dokku-daemon answers, with its `commands` built-in, which
    /// takes no lock and so answers even while a deploy runs (for readiness probes).
    pub async fn ping(&self) -> Result<(), PlatformError> {
        self.send(Command::new("commands"), Class::Quick)
            .await
            .map(drop)
    }

    /// Builds, sends and requires `ok:true`.
    async fn send(&self, command: Command, class: Class) -> Result<Reply, PlatformError> {
        let line = command.build()?;
        let settings = self.client.settings();
        let timeout = match class {
            Class::Quick => settings.command_timeout,
            Class::Deploy => settings.deploy_timeout,
        };
        self.client.execute_ok(&line, timeout).await
    }

    /// Whether the app's current deploy runs Drycc's `cmd` as Dokku's `web`.
    async fn web_is_cmd(&self, app: &AppName) -> Result<bool, PlatformError> {
        let options = reports::deploy_options(self, app).await?;
        Ok(options.iter().any(|o| o == process_types::WEB_IS_CMD_LABEL))
    }

    /// Whether Dokku has deployed the app at least once.
    async fn is_deployed(&self, app: &AppName) -> Result<bool, PlatformError> {
        let reply = self
            .send(
                Command::new("ps:report").app(app).literal("--deployed"),
                Class::Quick,
            )
            .await?;
        Ok(reply.output().trim() == "true")
    }
}

#[async_trait]
impl Platform for DokkuPlatform {
    #[tracing::instrument(skip_all, fields(app = %app))]
    async fn create_app(&self, app: &AppName) -> Result<(), PlatformError> {
        let cmd = Command::new("apps:create")
            .global(GlobalFlag::Quiet)
            .app(app);
        match self.send(cmd, Class::Quick).await {
            Ok(_) => Ok(()),
            Err(PlatformError::Rejected(m)) if m.contains("already taken") => {
                Err(PlatformError::AlreadyExists(format!(
                    "An app called {app} already exists on this Dokku host and is not managed by Drydock; ask the operator to adopt or remove it"
                )))
            }
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(app = %app))]
    async fn destroy_app(&self, app: &AppName) -> Result<(), PlatformError> {
        release::forget(self, app);
        self.pods_seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(app.as_str());
        let cmd = Command::new("apps:destroy")
            .global(GlobalFlag::Force)
            .app(app);
        self.send(cmd, Class::Deploy).await.map(drop)
    }

    async fn list_apps(&self) -> Result<Vec<AppName>, PlatformError> {
        let reply = self
            .send(
                Command::new("apps:list").global(GlobalFlag::Quiet),
                Class::Quick,
            )
            .await?;
        Ok(reply
            .output()
            .lines()
            .filter_map(|l| AppName::parse(l.trim()).ok())
            .collect())
    }

    #[tracing::instrument(skip_all, fields(app = %app, version = release.version))]
    async fn apply_release(
        &self,
        app: &AppName,
        release: &ReleaseSpec,
    ) -> Result<(), PlatformError> {
        release::apply(self, app, release).await
    }

    async fn deployed_release(&self, app: &AppName) -> Result<Option<u32>, PlatformError> {
        let pods = pods::list(self, app).await?;
        Ok(pods
            .iter()
            .filter(|p| p.release.is_some())
            .max_by_key(|p| p.started)
            .and_then(|p| p.release))
    }

    #[tracing::instrument(skip_all, fields(app = %app))]
    async fn scale(
        &self,
        app: &AppName,
        counts: &BTreeMap<ProcessType, u32>,
    ) -> Result<(), PlatformError> {
        if counts.is_empty() {
            return Ok(());
        }
        let web_is_cmd = counts.contains_key(&ProcessType::cmd()) && self.web_is_cmd(app).await?;
        let mut cmd = Command::new("ps:scale").app(app);
        for (t, n) in counts {
            cmd = cmd.scale(&process_types::to_dokku(t, web_is_cmd), *n);
        }
        self.send(cmd, Class::Deploy).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(app = %app))]
    async fn restart(&self, app: &AppName, target: &RestartTarget) -> Result<(), PlatformError> {
        let cmd = Command::new("ps:restart").app(app);
        let cmd = match target {
            RestartTarget::All => cmd,
            RestartTarget::Type(t) => {
                let web_is_cmd = *t == ProcessType::cmd() && self.web_is_cmd(app).await?;
                cmd.process_type(&process_types::to_dokku(t, web_is_cmd))
            }
            RestartTarget::Pod(pod) => cmd.process_type(&pods::type_of_pod(app, pod)?),
        };
        self.send(cmd, Class::Deploy).await.map(drop)
    }

    async fn list_pods(&self, app: &AppName) -> Result<Vec<Pod>, PlatformError> {
        let seen = || {
            self.pods_seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(app.as_str())
                .cloned()
        };
        match pods::list(self, app).await {
            Ok(pods) => {
                self.pods_seen
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(app.as_str().to_owned(), pods.clone());
                Ok(pods)
            }
            Err(PlatformError::Unavailable(why)) if why.starts_with(crate::client::NO_ANSWER) => {
                match seen() {
                    Some(pods) => {
                        tracing::info!(app = %app, reason = %why, "dokku-daemon is busy; answering the pods last read");
                        Ok(pods)
                    }
                    None => Err(PlatformError::Unavailable(why)),
                }
            }
            Err(e) => Err(e),
        }
    }

    #[tracing::instrument(skip_all, fields(app = %app, domain = %domain))]
    async fn add_domain(&self, app: &AppName, domain: &DomainName) -> Result<(), PlatformError> {
        let cmd = Command::new("domains:add")
            .global(GlobalFlag::Quiet)
            .app(app)
            .domain(domain);
        self.send(cmd, Class::Quick).await.map(drop)
    }

    async fn domains(&self, app: &AppName) -> Result<Vec<String>, PlatformError> {
        let cmd = Command::new("domains:report")
            .app(app)
            .literal("--domains-app-vhosts");
        let reply = self.send(cmd, Class::Quick).await?;
        Ok(reply
            .output()
            .split_whitespace()
            .map(str::to_owned)
            .collect())
    }

    #[tracing::instrument(skip_all, fields(app = %app, domain = %domain))]
    async fn remove_domain(&self, app: &AppName, domain: &DomainName) -> Result<(), PlatformError> {
        let cmd = Command::new("domains:remove")
            .global(GlobalFlag::Quiet)
            .app(app)
            .domain(domain);
        self.send(cmd, Class::Quick).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(app = %app))]
    async fn install_certificate(
        &self,
        app: &AppName,
        chain_pem: &str,
        key_pem: &str,
    ) -> Result<(), PlatformError> {
        let crt = self.spool.write("crt", chain_pem.as_bytes(), PUBLIC_MODE)?;
        let key = self.spool.write("key", key_pem.as_bytes(), PRIVATE_MODE)?;
        let cmd = Command::new("certs:add")
            .app(app)
            .spool_path(&crt)
            .spool_path(&key);
        self.send(cmd, Class::Quick).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(app = %app))]
    async fn remove_certificate(&self, app: &AppName) -> Result<(), PlatformError> {
        let report = Command::new("certs:report")
            .app(app)
            .literal("--ssl-enabled");
        if self.send(report, Class::Quick).await?.output().trim() != "true" {
            return Ok(());
        }
        self.send(Command::new("certs:remove").app(app), Class::Quick)
            .await
            .map(drop)
    }

    #[tracing::instrument(skip_all, fields(app = %app, enforced))]
    async fn set_https_enforced(&self, app: &AppName, enforced: bool) -> Result<(), PlatformError> {
        let value = if enforced { "true" } else { "false" };
        let set = Command::new("nginx:set")
            .app(app)
            .literal("hsts")
            .literal(value);
        self.send(set, Class::Quick).await?;
        let build = Command::new("proxy:build-config").app(app);
        self.send(build, Class::Quick).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(name = %name))]
    async fn add_ssh_key(&self, name: &SshKeyName, public_key: &str) -> Result<(), PlatformError> {
        let line = public_key.trim_end_matches(['\n', '\r']);
        if line.is_empty() || line.contains(['\n', '\r', '\0']) {
            return Err(PlatformError::InvalidArgument(
                "an ssh public key must be exactly one line".into(),
            ));
        }
        let file = self
            .spool
            .write("pub", format!("{line}\n").as_bytes(), PUBLIC_MODE)?;
        let cmd = Command::new("ssh-keys:add")
            .ssh_key_name(name)
            .spool_path(&file);
        self.send(cmd, Class::Quick).await.map(drop)
    }

    #[tracing::instrument(skip_all, fields(name = %name))]
    async fn remove_ssh_key(&self, name: &SshKeyName) -> Result<(), PlatformError> {
        let cmd = Command::new("ssh-keys:remove").ssh_key_name(name);
        self.send(cmd, Class::Quick).await.map(drop)
    }

    async fn logs(&self, app: &AppName, lines: u32) -> Result<Vec<String>, PlatformError> {
        let cmd = Command::new("logs")
            .app(app)
            .literal("-n")
            .number(u64::from(lines));
        let reply = self.send(cmd, Class::Quick).await?;
        Ok(logs::newest_last(&reply.output(), lines))
    }

    #[tracing::instrument(skip_all, fields(app = %app))]
    async fn run(
        &self,
        app: &AppName,
        command: &str,
        timeout: Duration,
    ) -> Result<RunOutput, PlatformError> {
        run::run(self, app, command, timeout).await
    }
}
