//! A simulator and a platform wired together in a temporary directory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use drydock_dokku::sim::{Sim, SimHandle, SimOptions};
use drydock_dokku::{DaemonSettings, DokkuPlatform};
use drydock_domain::name::{AppName, ConfigKey};
use drydock_domain::platform::ReleaseSpec;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// Every command word `DokkuPlatform` may send.
pub const PLATFORM_COMMANDS: &[&str] = &[
    "apps:create",
    "apps:destroy",
    "apps:list",
    "certs:add",
    "certs:remove",
    "certs:report",
    "config:export",
    "config:set",
    "config:unset",
    "docker-options:add",
    "docker-options:remove",
    "docker-options:report",
    "domains:add",
    "domains:remove",
    "domains:report",
    "git:from-archive",
    "logs",
    "nginx:set",
    "proxy:build-config",
    "ps:inspect",
    "ps:report",
    "ps:restart",
    "ps:scale",
    "resource:limit",
    "resource:limit-clear",
    "resource:report",
    "run:detached",
    "run:logs",
    "run:stop",
    "ssh-keys:add",
    "ssh-keys:remove",
];

pub struct TestEnv {
    pub dir: TempDir,
    pub sim: SimHandle,
    pub platform: DokkuPlatform,
}

impl TestEnv {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut DaemonSettings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sim = Sim::start(dir.path().join("dokku.sock"), SimOptions::default())
            .await
            .unwrap();
        let mut settings = settings(&dir);
        tweak(&mut settings);
        let platform = DokkuPlatform::new(settings);
        Self { dir, sim, platform }
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("dokku.sock")
    }

    pub fn spool_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.dir.path().join("spool"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }
}

pub fn settings(dir: &TempDir) -> DaemonSettings {
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    DaemonSettings {
        socket: dir.path().join("dokku.sock"),
        spool_dir: spool,
        connect_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_secs(5),
        deploy_timeout: Duration::from_secs(10),
        ..DaemonSettings::default()
    }
}

pub fn app(name: &str) -> AppName {
    AppName::parse(name).unwrap()
}

pub fn env(pairs: &[(&str, &str)]) -> BTreeMap<ConfigKey, String> {
    pairs
        .iter()
        .map(|(k, v)| (ConfigKey::parse(k).unwrap(), (*v).to_owned()))
        .collect()
}

pub fn release(version: u32, image: Option<&str>, pairs: &[(&str, &str)]) -> ReleaseSpec {
    ReleaseSpec {
        version,
        image: image.map(str::to_owned),
        env: env(pairs),
        replaces: version.checked_sub(1).filter(|v| *v > 0),
        ..ReleaseSpec::default()
    }
}

/// The command word of a logged line (after leading global flags).
pub fn command_word(line: &str) -> &str {
    line.split(' ')
        .find(|w| !w.starts_with("--"))
        .unwrap_or_default()
}

/// A raw connection for protocol tests.
pub struct Raw {
    reader: BufReader<UnixStream>,
}

impl Raw {
    pub async fn connect(socket: &std::path::Path) -> Self {
        Self {
            reader: BufReader::new(UnixStream::connect(socket).await.unwrap()),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.unwrap();
    }

    /// One reply line including its `\n`, or what arrived before EOF.
    pub async fn line(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        tokio::time::timeout(
            Duration::from_secs(5),
            self.reader.read_until(b'\n', &mut buf),
        )
        .await
        .unwrap()
        .unwrap();
        buf
    }

    pub async fn ask(&mut self, line: &str) -> Vec<u8> {
        self.send(format!("{line}\n").as_bytes()).await;
        self.line().await
    }

    pub async fn shutdown_write(&mut self) {
        self.reader.get_mut().shutdown().await.unwrap();
    }
}
