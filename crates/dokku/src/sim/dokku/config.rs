//! Simulated environment (`config:*`), resource limits (`resource:*`) and
//! docker options (`docker-options:*`).

use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use regex::Regex;

use super::{app_mut, fail, options, ps, Ctx, Outcome, Res};
use crate::sim::gojson;
use crate::sim::state::SimState;

static KEY_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z_][a-zA-Z0-9_]*$").expect("static regex"));

/// Resources `resource:limit` accepts (docker-local), as `--<name> VALUE`.
const RESOURCES: [&str; 4] = ["cpu", "memory", "memory-swap", "nvidia-gpu"];
/// Docker option phases.
const PHASES: [&str; 3] = ["build", "deploy", "run"];

pub(super) fn export(state: &mut SimState, args: &[String]) -> Res {
    let (flags, positional) = options(args, &["--format"])?;
    if flags.get("--format").map(String::as_str) != Some("json") {
        return Err(fail("sim: only config:export --format json is simulated"));
    }
    let (_, app) = app_mut(state, &positional)?;
    Ok(Outcome::ok(gojson::object(
        app.config.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )))
}

pub(super) fn set(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (flags, positional) = options(args, &[])?;
    let encoded = flags.contains_key("--encoded");
    let now = ctx.now;
    let (name, app) = app_mut(state, &positional)?;
    if positional.len() < 2 {
        return Err(fail("At least one env pair must be given"));
    }
    let mut pairs = Vec::new();
    for pair in &positional[1..] {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| fail(format!("Invalid env pair: {pair}")))?;
        if !KEY_RE.is_match(key) {
            return Err(fail(format!("Invalid key name: '{key}'")));
        }
        let value = if encoded {
            let bytes = STANDARD
                .decode(value)
                .map_err(|_| fail(format!("Unable to decode value for key {key}")))?;
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            value.to_owned()
        };
        pairs.push((key.to_owned(), value));
    }
    let mut out = ctx.info("Setting config vars");
    for (k, v) in pairs {
        if !ctx.quiet {
            out.push_str(&format!("       {k}:  {v}\n"));
        }
        app.config.insert(k, v);
    }
    if !flags.contains_key("--no-restart") && app.deploy.is_some() {
        ps::restart_types(&name, app, None, now);
        out.push_str(&ctx.info(&format!("Restarting app {name}")));
    }
    Ok(Outcome::ok(out))
}

pub(super) fn unset(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (flags, positional) = options(args, &[])?;
    let now = ctx.now;
    let (name, app) = app_mut(state, &positional)?;
    if positional.len() < 2 {
        return Err(fail("At least one key must be given"));
    }
    let mut out = ctx.info("Unsetting config vars");
    for key in &positional[1..] {
        if app.config.remove(key).is_none() {
            out.push_str(&format!(
                "Skipping {key}, it is not set in the environment\n"
            ));
        }
    }
    if !flags.contains_key("--no-restart") && app.deploy.is_some() {
        ps::restart_types(&name, app, None, now);
    }
    Ok(Outcome::ok(out))
}

pub(super) fn resource_limit(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let valued: Vec<String> = RESOURCES
        .iter()
        .map(|r| format!("--{r}"))
        .chain(["--process-type".to_owned()])
        .collect();
    let valued: Vec<&str> = valued.iter().map(String::as_str).collect();
    let (flags, positional) = options(args, &valued)?;
    let (_, app) = app_mut(state, &positional)?;
    let process_type = flags
        .get("--process-type")
        .cloned()
        .unwrap_or_else(|| "_default_".into());
    let entry = app.limits.entry(process_type.clone()).or_default();
    for (flag, value) in &flags {
        let Some(resource) = flag.strip_prefix("--").filter(|r| RESOURCES.contains(r)) else {
            if flag == "--process-type" {
                continue;
            }
            return Err(fail(format!("unknown flag: {flag}")));
        };
        if value == "clear" {
            entry.remove(resource);
        } else {
            entry.insert(resource.to_owned(), value.clone());
        }
    }
    Ok(Outcome::ok(ctx.info(&format!(
        "Setting resource limits for {process_type}"
    ))))
}

pub(super) fn resource_limit_clear(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (flags, positional) = options(args, &["--process-type"])?;
    let (_, app) = app_mut(state, &positional)?;
    let process_type = flags
        .get("--process-type")
        .cloned()
        .unwrap_or_else(|| "_default_".into());
    app.limits.remove(&process_type);
    Ok(Outcome::ok(ctx.info(&format!(
        "Clearing resource limits for {process_type}"
    ))))
}

pub(super) fn resource_report(state: &mut SimState, args: &[String]) -> Res {
    let (flags, positional) = options(args, &["--format"])?;
    if flags.get("--format").map(String::as_str) != Some("json") {
        return Err(fail("sim: only resource:report --format json is simulated"));
    }
    let (_, app) = app_mut(state, &positional)?;
    let mut types: Vec<&str> = app.limits.keys().map(String::as_str).collect();
    if !types.contains(&"_default_") {
        types.push("_default_");
    }
    let mut entries: Vec<(String, String)> = Vec::new();
    for t in types {
        for r in RESOURCES {
            let value = app
                .limits
                .get(t)
                .and_then(|l| l.get(r))
                .cloned()
                .unwrap_or_default();
            entries.push((format!("{t}.limit.{r}"), value));
        }
    }
    entries.sort();
    Ok(Outcome::ok(gojson::object(
        entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )))
}

/// Parses `APP PHASES OPTION…` of `docker-options:add/remove`.
fn docker_option_args(args: &[String]) -> Result<(Vec<String>, String), Outcome> {
    let phases = args.get(1).ok_or_else(|| fail("Please specify phase(s)"))?;
    let phases: Vec<String> = phases.split(',').map(str::to_owned).collect();
    if let Some(bad) = phases.iter().find(|p| !PHASES.contains(&p.as_str())) {
        return Err(fail(format!(
            "Phase must be one of build, deploy, run; got {bad}"
        )));
    }
    if args.len() < 3 {
        return Err(fail("Please specify docker options"));
    }
    Ok((phases, args[2..].join(" ")))
}

pub(super) fn docker_options_add(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (phases, option) = docker_option_args(args)?;
    let (_, app) = app_mut(state, args)?;
    for phase in phases {
        let list = app.docker_options.entry(phase).or_default();
        if !list.contains(&option) {
            list.push(option.clone());
        }
    }
    Ok(Outcome::ok(ctx.info("Adding docker options")))
}

pub(super) fn docker_options_remove(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (phases, option) = docker_option_args(args)?;
    let (_, app) = app_mut(state, args)?;
    for phase in phases {
        if let Some(list) = app.docker_options.get_mut(&phase) {
            list.retain(|o| *o != option);
        }
    }
    Ok(Outcome::ok(ctx.info("Removing docker options")))
}

/// Reports both key shapes, as Dokku 0.38.x does (`deploy` and `docker-options-deploy`).
pub(super) fn docker_options_report(state: &mut SimState, args: &[String]) -> Res {
    let (flags, positional) = options(args, &["--format"])?;
    if flags.get("--format").map(String::as_str) != Some("json") {
        return Err(fail(
            "sim: only docker-options:report --format json is simulated",
        ));
    }
    let (_, app) = app_mut(state, &positional)?;
    let mut entries: Vec<(String, String)> = Vec::new();
    for phase in PHASES {
        let value = app
            .docker_options
            .get(phase)
            .map(|l| l.join(" "))
            .unwrap_or_default();
        entries.push((phase.to_owned(), value.clone()));
        entries.push((format!("docker-options-{phase}"), value));
    }
    entries.sort();
    Ok(Outcome::ok(gojson::object(
        entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )))
}
