//! Simulated processes: formation, containers, restarts, reports, inspect
//! data and container logs (docker-local scheduler).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{app_mut, fail, options, Ctx, Outcome, Res};
use crate::sim::gojson;
use crate::sim::state::{SimApp, SimContainer, SimLogLine, SimState};

/// Log colours Dokku cycles through per container.
const COLORS: [u8; 5] = [36, 33, 32, 35, 31];
/// Env prefixes `ps:inspect` shows unmasked.
const ENV_WHITELIST: [&str; 7] = [
    "CACHE_PATH=",
    "DOCKER_",
    "DOKKU_",
    "DYNO=",
    "PATH=",
    "PORT=",
    "USER=",
];

/// An app's container log keeps the newest half of this many lines once full:
/// every restart adds lines, and only current containers' lines are shown.
const APP_LOG_CAP: usize = 2_000;

/// Starts container `index` of type `t` with the app's current config and deploy labels.
fn start_container(
    app_name: &str,
    app: &mut SimApp,
    t: &str,
    index: u32,
    now: DateTime<Utc>,
) -> SimContainer {
    let name = format!("{app_name}.{t}.{index}");
    let mut labels: BTreeMap<String, String> = app
        .docker_options
        .get("deploy")
        .into_iter()
        .flatten()
        .filter_map(|o| o.strip_prefix("--label="))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    labels.insert("com.dokku.app-name".into(), app_name.into());
    labels.insert("com.dokku.container-type".into(), "deploy".into());
    labels.insert("com.dokku.dyno".into(), format!("{t}.{index}"));
    labels.insert("com.dokku.process-type".into(), t.into());
    let release = labels
        .get("com.drycc.release")
        .and_then(|v| v.strip_prefix('v'))
        .and_then(|v| v.parse().ok());
    let seed = format!(
        "{name}|{}|{}|{}",
        now.timestamp_nanos_opt().unwrap_or_default(),
        app.deploy_count,
        app.restarts
    );
    let id: String = Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if app.logs.len() >= APP_LOG_CAP {
        app.logs.drain(..APP_LOG_CAP / 2);
    }
    app.logs.push(SimLogLine {
        container_id: id.clone(),
        dyno: format!("{t}.{index}"),
        timestamp: now,
        text: format!(
            "Starting {t} (release {})",
            release.map_or_else(|| "unknown".to_owned(), |r: u32| format!("v{r}"))
        ),
    });
    let mut env = app.config.clone();
    env.insert("DYNO".into(), format!("{t}.{index}"));
    SimContainer {
        name,
        process_type: t.into(),
        index,
        id,
        status: "running".into(),
        started_at: now,
        labels,
        release,
        env,
    }
}

/// Replaces the containers of `types` (all when `None`) with fresh ones,
/// as a deploy or restart does; other types keep theirs.
pub(super) fn restart_types(
    app_name: &str,
    app: &mut SimApp,
    types: Option<&[String]>,
    now: DateTime<Utc>,
) {
    let Some(deploy) = &app.deploy else {
        return;
    };
    let formation = deploy.process_types();
    let targeted = |t: &str| types.is_none_or(|ts| ts.iter().any(|x| x == t));
    let mut kept: Vec<SimContainer> = app
        .containers
        .drain(..)
        .filter(|c| formation.contains(&c.process_type) && !targeted(&c.process_type))
        .collect();
    for t in formation.iter().filter(|t| targeted(t)) {
        let count = app.scale.get(t).copied().unwrap_or(0);
        for index in 1..=count {
            kept.push(start_container(app_name, app, t, index, now));
        }
    }
    kept.sort_by(|a, b| (&a.process_type, a.index).cmp(&(&b.process_type, b.index)));
    app.containers = kept;
}

pub(super) fn report(state: &mut SimState, args: &[String]) -> Res {
    let (_, app) = app_mut(state, args)?;
    let deployed = app.deploy.is_some().to_string();
    let running = app
        .containers
        .iter()
        .any(|c| c.status == "running")
        .to_string();
    let processes = app.containers.len().to_string();
    match args.get(1).map(String::as_str) {
        Some("--deployed") => Ok(Outcome::ok(deployed)),
        Some("--running") => Ok(Outcome::ok(running)),
        Some("--processes") => Ok(Outcome::ok(processes)),
        Some("--format") if args.get(2).map(String::as_str) == Some("json") => {
            let mut entries: Vec<(String, String)> = vec![
                ("deployed".into(), deployed),
                ("processes".into(), processes),
                ("restore".into(), "true".into()),
                ("running".into(), running),
            ];
            for c in &app.containers {
                entries.push((
                    format!("status-{}.{}", c.process_type, c.index),
                    format!("{} (CID: {})", c.status, &c.id[..11]),
                ));
            }
            entries.sort();
            Ok(Outcome::ok(gojson::object(
                entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            )))
        }
        _ => Err(fail(
            "Invalid flag passed, valid flags: --deployed --processes --restore --running",
        )),
    }
}

pub(super) fn scale(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (_, positional) = options(args, &[])?;
    let (name, app) = app_mut(state, &positional)?;
    let mut changes = Vec::new();
    for pair in &positional[1..] {
        let (t, n) = pair
            .split_once('=')
            .ok_or_else(|| fail(format!("Invalid scale pair: {pair}")))?;
        let n: u32 = n
            .parse()
            .map_err(|_| fail(format!("Invalid scale quantity: {pair}")))?;
        if let Some(deploy) = &app.deploy {
            if !deploy.process_types().iter().any(|x| x == t) {
                return Err(fail(format!("{t} is not a valid process name to scale up")));
            }
        }
        changes.push((t.to_owned(), n));
    }
    if changes.is_empty() {
        let lines: Vec<String> = app.scale.iter().map(|(t, n)| format!("{t}: {n}")).collect();
        return Ok(Outcome::ok(lines.join("\n")));
    }
    let changed: Vec<String> = changes.iter().map(|(t, _)| t.clone()).collect();
    for (t, n) in changes {
        app.scale.insert(t, n);
    }
    restart_types(&name, app, Some(&changed), ctx.now);
    Ok(Outcome::ok(ctx.info(&format!(
        "Scaling {name} processes: {}",
        positional[1..].join(" ")
    ))))
}

pub(super) fn restart(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (_, positional) = options(args, &["--parallel"])?;
    let (name, app) = app_mut(state, &positional)?;
    let Some(deploy) = &app.deploy else {
        return Err(fail(format!("App {name} has not been deployed")));
    };
    let types: Option<Vec<String>> = positional.get(1).map(|t| vec![t.clone()]);
    if let Some(t) = positional.get(1) {
        if !deploy.process_types().contains(t) {
            return Err(fail(format!("Process type {t} not found in {name}")));
        }
    }
    app.restarts += 1;
    restart_types(&name, app, types.as_deref(), ctx.now);
    Ok(Outcome::ok(ctx.info(&format!("Releasing {name}..."))))
}

pub(super) fn inspect(state: &mut SimState, args: &[String]) -> Res {
    let (_, app) = app_mut(state, args)?;
    if app.containers.is_empty() {
        return Err(Outcome {
            output:
                "\"docker inspect\" requires at least 1 argument.\nSee 'docker inspect --help'."
                    .into(),
            status: 1,
            delay: None,
        });
    }
    let data: Vec<Value> = app.containers.iter().map(inspect_json).collect();
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&data, &mut ser).map_err(|e| fail(e.to_string()))?;
    Ok(Outcome::ok(String::from_utf8_lossy(&out).into_owned()))
}

fn inspect_json(c: &SimContainer) -> Value {
    let env: Vec<String> = c
        .env
        .iter()
        .map(|(k, v)| {
            let pair = format!("{k}={v}");
            if ENV_WHITELIST.iter().any(|w| pair.starts_with(w)) {
                pair
            } else {
                format!("{k}=XXXXXX")
            }
        })
        .collect();
    json!({
        "Config": {"Env": env, "Labels": c.labels},
        "Id": c.id,
        "Name": format!("/{}", c.name),
        "State": {
            "ExitCode": 0,
            "Restarting": c.status == "restarting",
            "Running": c.status == "running",
            "StartedAt": c.started_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
            "Status": c.status,
        }
    })
}

pub(super) fn logs(state: &mut SimState, args: &[String]) -> Res {
    let (flags, positional) = options(args, &["-n", "--num", "-p", "--ps"])?;
    if flags.contains_key("-t") || flags.contains_key("--tail") {
        return Err(fail(
            "sim: refusing to follow logs (-t would hold the daemon lock forever)",
        ));
    }
    let (name, app) = app_mut(state, &positional)?;
    if app.deploy.is_none() {
        return Err(fail(format!("App {name} has not been deployed")));
    }
    let num: usize = flags
        .get("-n")
        .or_else(|| flags.get("--num"))
        .map_or(Ok(100), |n| n.parse())
        .map_err(|_| fail("Invalid number of lines"))?;
    let only = flags.get("-p").or_else(|| flags.get("--ps"));
    let quiet = flags.contains_key("-q") || flags.contains_key("--quiet");
    let mut out = Vec::new();
    for (i, c) in app
        .containers
        .iter()
        .filter(|c| only.is_none_or(|t| *t == c.process_type))
        .enumerate()
    {
        let dyno = format!("{}.{}", c.process_type, c.index);
        let lines: Vec<&SimLogLine> = app.logs.iter().filter(|l| l.container_id == c.id).collect();
        let color = COLORS[i % COLORS.len()];
        for l in &lines[lines.len().saturating_sub(num)..] {
            if quiet {
                out.push(l.text.clone());
            } else {
                let ts = l.timestamp.to_rfc3339_opts(SecondsFormat::Nanos, true);
                out.push(format!(
                    "\u{1b}[{color}m{ts} app[{dyno}]:\u{1b}[0m {}",
                    l.text
                ));
            }
        }
    }
    Ok(Outcome::ok(out.join("\n")))
}
