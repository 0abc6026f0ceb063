//! Applying a release: environment, resource limits, the release label, then
//! a deploy of the release archive (or a restart for a config-only release).
//!
//! Everything that can be checked without Dokku (image reference, Procfile,
//! archive) is checked first, so an invalid release changes nothing. Config
//! is reconciled as a diff against `config:export`, never with `--replace`,
//! because Dokku keeps its own keys in the same environment (§2.2).

use std::collections::{BTreeMap, BTreeSet};

use drydock_domain::limits::{CpuLimit, Limits, MemoryLimit};
use drydock_domain::name::{AppName, ConfigKey, ProcessType};
use drydock_domain::platform::{PlatformError, ReleaseSpec};

use super::reports::{self, Report};
use super::{Class, DokkuPlatform};
use crate::archive::release_archive;
use crate::command::{self, Command, GlobalFlag, MAX_LINE_BYTES, RELEASE_LABEL};
use crate::image::ImageRef;
use crate::process_types::{self, WEB_IS_CMD_LABEL};
use crate::spool::PUBLIC_MODE;

/// Keys Dokku writes into an app's environment; never unset by Drydock.
const DOKKU_OWNED_KEYS: [&str; 2] = ["GIT_REV", "NO_VHOST"];
/// Prefix of Dokku's own variables; never unset by Drydock.
const DOKKU_OWNED_PREFIX: &str = "DOKKU_";
/// Leaves room for the command word, flags and app name in a `config:set` line.
const CONFIG_LINE_BUDGET: usize = MAX_LINE_BYTES - 1024;

/// Whether Dokku owns an environment key.
pub(super) fn is_dokku_owned(key: &str) -> bool {
    DOKKU_OWNED_KEYS.contains(&key) || key.starts_with(DOKKU_OWNED_PREFIX)
}

pub(super) async fn apply(
    p: &DokkuPlatform,
    app: &AppName,
    spec: &ReleaseSpec,
) -> Result<(), PlatformError> {
    let result = apply_inner(p, app, spec).await;
    if result.is_err() {
        forget(p, app);
    }
    result
}

/// What this process last applied to an app: Dokku's environment, limits and
/// deploy options after that apply, and the fingerprint of its last archive deploy.
/// Lets the next release skip reading them back (three `*:report`/`export`
/// commands, each a `dokku` process on a real host).
#[derive(Debug, Clone)]
pub(super) struct Applied {
    version: u32,
    env: BTreeMap<String, String>,
    limits: LimitArgs,
    options: Vec<String>,
    deploy: Option<u64>,
}

/// Drops what this process remembers of an app's deploy (after a failure or
/// a destroy): the next release with an image deploys its archive again.
pub(super) fn forget(p: &DokkuPlatform, app: &AppName) {
    p.applied
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(app.as_str());
}

/// What a deploy depends on besides config, limits and labels.
fn deploy_fingerprint(spec: &ReleaseSpec, image: &str, web_is_cmd: bool) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    image.hash(&mut h);
    spec.procfile.hash(&mut h);
    serde_json::to_string(&spec.healthchecks)
        .unwrap_or_default()
        .hash(&mut h);
    web_is_cmd.hash(&mut h);
    h.finish()
}

async fn apply_inner(
    p: &DokkuPlatform,
    app: &AppName,
    spec: &ReleaseSpec,
) -> Result<(), PlatformError> {
    let image = spec.image.as_deref().map(ImageRef::parse).transpose()?;
    let fingerprint = spec
        .image
        .as_deref()
        .map(|i| deploy_fingerprint(spec, i, spec.procfile.is_empty()));
    let known = p
        .applied
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(app.as_str())
        .filter(|k| spec.replaces == Some(k.version))
        .cloned();
    let unchanged = fingerprint.is_some() && known.as_ref().and_then(|k| k.deploy) == fingerprint;
    let archive = match &image {
        Some(i) if !unchanged => Some(release_archive(spec, i, spec.procfile.is_empty())?),
        _ => None,
    };
    // What Dokku holds now: what this process last applied, or else read back.
    let before = match known {
        Some(k) => k,
        None => Applied {
            env: p
                .send(
                    Command::new("config:export")
                        .literal("--format")
                        .literal("json")
                        .app(app),
                    Class::Quick,
                )
                .await?
                .json()?,
            limits: current_limits(&reports::report(p, "resource:report", app).await?),
            options: reports::deploy_options(p, app).await?,
            deploy: None,
            version: 0,
        },
    };
    let web_is_cmd = match image {
        Some(_) => spec.procfile.is_empty(),
        None => before.options.iter().any(|o| o == WEB_IS_CMD_LABEL),
    };

    let env = sync_config(p, app, &spec.env, before.env).await?;
    let limits = sync_limits(p, app, &spec.limits, web_is_cmd, &before.limits).await?;
    let options = sync_labels(
        p,
        app,
        &before.options,
        spec.version,
        image.is_some().then_some(web_is_cmd),
    )
    .await?;

    let deploy = if let Some(bytes) = archive {
        let file = p.spool.write("tar", &bytes, PUBLIC_MODE)?;
        let deploy = Command::new("git:from-archive").app(app).spool_url(&file);
        p.send(deploy, Class::Deploy).await?;
        fingerprint
    } else {
        if unchanged || p.is_deployed(app).await? {
            p.send(Command::new("ps:restart").app(app), Class::Deploy)
                .await?;
        }
        before.deploy
    };
    let applied = Applied {
        version: spec.version,
        env,
        limits,
        options,
        deploy,
    };
    p.applied
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(app.as_str().to_owned(), applied);
    Ok(())
}

/// Sets and unsets what differs from `current`; returns the environment Dokku then holds.
async fn sync_config(
    p: &DokkuPlatform,
    app: &AppName,
    env: &BTreeMap<ConfigKey, String>,
    mut current: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, PlatformError> {
    let changed: Vec<(&ConfigKey, &String)> = env
        .iter()
        .filter(|(k, v)| current.get(k.as_str()) != Some(*v))
        .collect();
    let mut batch: Vec<(&ConfigKey, &String)> = Vec::new();
    let mut size = 0;
    for (key, value) in changed {
        let pair = key.as_str().len() + 2 + value.len().div_ceil(3) * 4;
        if !batch.is_empty() && size + pair > CONFIG_LINE_BUDGET {
            config_set(p, app, &batch).await?;
            batch.clear();
            size = 0;
        }
        batch.push((key, value));
        size += pair;
    }
    if !batch.is_empty() {
        config_set(p, app, &batch).await?;
    }

    let dropped: Vec<ConfigKey> = current
        .keys()
        .filter(|k| !is_dokku_owned(k))
        .filter_map(|k| ConfigKey::parse(k).ok())
        .filter(|k| !env.contains_key(k))
        .collect();
    if !dropped.is_empty() {
        let mut unset = Command::new("config:unset")
            .global(GlobalFlag::Quiet)
            .literal("--no-restart")
            .app(app);
        for key in &dropped {
            unset = unset.config_key(key);
        }
        p.send(unset, Class::Quick).await?;
    }
    for key in &dropped {
        current.remove(key.as_str());
    }
    for (k, v) in env {
        current.insert(k.as_str().to_owned(), v.clone());
    }
    Ok(current)
}

async fn config_set(
    p: &DokkuPlatform,
    app: &AppName,
    pairs: &[(&ConfigKey, &String)],
) -> Result<(), PlatformError> {
    let mut set = Command::new("config:set")
        .global(GlobalFlag::Quiet)
        .literal("--encoded")
        .literal("--no-restart")
        .app(app);
    for (key, value) in pairs {
        set = set.encoded_pair(key, value.as_bytes());
    }
    p.send(set, Class::Quick).await.map(drop)
}

/// The `(memory, cpu)` arguments per Dokku process type, as `resource:report` shows them.
type LimitArgs = BTreeMap<String, (Option<String>, Option<String>)>;

/// Sets and clears what differs from `current`; returns the limits Dokku then holds.
async fn sync_limits(
    p: &DokkuPlatform,
    app: &AppName,
    limits: &Limits,
    web_is_cmd: bool,
    current: &LimitArgs,
) -> Result<LimitArgs, PlatformError> {
    let mut desired: BTreeMap<ProcessType, (Option<&MemoryLimit>, Option<&CpuLimit>)> =
        BTreeMap::new();
    for (t, m) in &limits.memory {
        desired
            .entry(process_types::to_dokku(t, web_is_cmd))
            .or_default()
            .0 = Some(m);
    }
    for (t, c) in &limits.cpu {
        desired
            .entry(process_types::to_dokku(t, web_is_cmd))
            .or_default()
            .1 = Some(c);
    }

    for t in current.keys().filter_map(|t| ProcessType::parse(t).ok()) {
        if !desired.contains_key(&t) {
            p.send(limit_clear(app, &t), Class::Quick).await?;
        }
    }
    for (t, (memory, cpu)) in &desired {
        let want = (memory.map(command::memory_value), cpu.map(CpuLimit::cores));
        let have = current.get(t.as_str());
        if have == Some(&want) {
            continue;
        }
        if have.is_some() {
            p.send(limit_clear(app, t), Class::Quick).await?;
        }
        let mut cmd = Command::new("resource:limit")
            .literal("--process-type")
            .process_type(t);
        if let Some(m) = memory {
            cmd = cmd.literal("--memory").memory(m);
        }
        if let Some(c) = cpu {
            cmd = cmd.literal("--cpu").cpu(c);
        }
        p.send(cmd.app(app), Class::Quick).await?;
    }
    Ok(desired
        .iter()
        .map(|(t, (m, c))| {
            (
                t.as_str().to_owned(),
                (m.map(command::memory_value), c.map(CpuLimit::cores)),
            )
        })
        .collect())
}

fn limit_clear(app: &AppName, t: &ProcessType) -> Command {
    Command::new("resource:limit-clear")
        .literal("--process-type")
        .process_type(t)
        .app(app)
}

/// Parses `TYPE.limit.memory` / `TYPE.limit.cpu` keys with non-empty values.
fn current_limits(report: &Report) -> LimitArgs {
    let mut out = LimitArgs::new();
    for (key, value) in reports::entries(report, "resource") {
        if value.is_empty() {
            continue;
        }
        if let Some(t) = key.strip_suffix(".limit.memory") {
            out.entry(t.to_owned()).or_default().0 = Some(value.to_owned());
        } else if let Some(t) = key.strip_suffix(".limit.cpu") {
            out.entry(t.to_owned()).or_default().1 = Some(value.to_owned());
        }
    }
    out
}

/// Makes the deploy-phase labels Drydock owns match the release: the release
/// number always, and the `cmd`-as-`web` marker when `web_is_cmd` is known
/// (image releases); a config-only release leaves that marker as it is.
async fn sync_labels(
    p: &DokkuPlatform,
    app: &AppName,
    options: &[String],
    version: u32,
    web_is_cmd: Option<bool>,
) -> Result<Vec<String>, PlatformError> {
    let mut after: Vec<String> = options.to_vec();
    let release_prefix = format!("--label={RELEASE_LABEL}=v");
    let current: BTreeSet<&str> = options
        .iter()
        .map(String::as_str)
        .filter(|o| o.starts_with(&release_prefix) || *o == WEB_IS_CMD_LABEL)
        .collect();
    let wanted = command::release_label(version);

    for old in &current {
        let cmd = Command::new("docker-options:remove")
            .app(app)
            .literal("deploy");
        let cmd = if *old == WEB_IS_CMD_LABEL {
            match web_is_cmd {
                Some(false) => cmd.literal(WEB_IS_CMD_LABEL),
                _ => continue,
            }
        } else if *old == wanted {
            continue;
        } else {
            match old
                .strip_prefix(&release_prefix)
                .and_then(|v| v.parse::<u32>().ok())
            {
                Some(v) => cmd.release_label(v),
                None => {
                    tracing::warn!(option = %old, "leaving an unrecognised release label in place");
                    continue;
                }
            }
        };
        p.send(cmd, Class::Quick).await?;
        after.retain(|o| o != old);
    }
    if !current.contains(wanted.as_str()) {
        let cmd = Command::new("docker-options:add")
            .app(app)
            .literal("deploy")
            .release_label(version);
        p.send(cmd, Class::Quick).await?;
        after.push(wanted.clone());
    }
    if web_is_cmd == Some(true) && !current.contains(WEB_IS_CMD_LABEL) {
        let cmd = Command::new("docker-options:add")
            .app(app)
            .literal("deploy")
            .literal(WEB_IS_CMD_LABEL);
        p.send(cmd, Class::Quick).await?;
        after.push(WEB_IS_CMD_LABEL.to_owned());
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dokku_owned_keys() {
        for k in ["GIT_REV", "NO_VHOST", "DOKKU_APP_TYPE", "DOKKU_PROXY_PORT"] {
            assert!(is_dokku_owned(k), "{k}");
        }
        for k in ["DRYCC_APP", "GIT", "NO_VHOSTS", "dokku_x"] {
            assert!(!is_dokku_owned(k), "{k}");
        }
    }

    #[test]
    fn parses_resource_report() {
        let r = json!({
            "web.limit.memory": "1g", "web.limit.cpu": "0.5",
            "_default_.limit.memory": "", "resource-worker.limit.cpu": "2",
            "web.reserve.memory": "256m"
        });
        let l = current_limits(r.as_object().unwrap());
        assert_eq!(l["web"], (Some("1g".into()), Some("0.5".into())));
        assert_eq!(l["worker"], (None, Some("2".into())));
        assert!(!l.contains_key("_default_"));
    }
}
