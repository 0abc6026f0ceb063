//! The simulated `dokku` executable: the commands Drydock sends, acting on
//! [`SimState`], with Dokku's output conventions (` !     ` errors on exit 1,
//! `-----> ` info lines suppressed by `--quiet`).
//!
//! [`COMMANDS`] is also the daemon's command cache, so anything else is
//! `Invalid command` at the daemon; a line that slips through its loose
//! validation gets Dokku's "is not a dokku command". Handlers are synchronous
//! and fast; a command that should take time (`run … sleep`) returns a delay
//! for the server to wait out while holding the daemon lock.

mod apps;
mod config;
mod deploy;
mod ps;
mod run;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::state::{SimApp, SimState};

/// Every command the simulator implements (the daemon's command cache).
pub const COMMANDS: &[&str] = &[
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
    "run",
    "run:detached",
    "run:logs",
    "run:stop",
    "ssh-keys:add",
    "ssh-keys:remove",
];

/// What one dokku invocation produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Merged stdout and stderr.
    pub output: String,
    /// Exit status.
    pub status: i32,
    /// How long the command "runs" before its output is available.
    pub delay: Option<Duration>,
}

impl Outcome {
    fn ok(output: impl Into<String>) -> Self {
        Self {
            output: output.into(),
            status: 0,
            delay: None,
        }
    }
}

/// A Dokku failure: ` !     message`, exit 1.
fn fail(message: impl AsRef<str>) -> Outcome {
    Outcome {
        output: format!(" !     {}", message.as_ref()),
        status: 1,
        delay: None,
    }
}

/// Handlers return their failure as `Err` so `?` can end them early.
type Res = Result<Outcome, Outcome>;

/// Global flags and the environment of one invocation.
#[derive(Debug, Clone)]
struct Ctx {
    quiet: bool,
    force: bool,
    stdin: Option<Vec<u8>>,
    now: DateTime<Utc>,
}

impl Ctx {
    /// An info line (`-----> text`), or nothing under `--quiet`.
    fn info(&self, text: &str) -> String {
        if self.quiet {
            String::new()
        } else {
            format!("-----> {text}\n")
        }
    }
}

/// Runs `dokku WORDS…` with `stdin` (from a `<` redirection) at time `now`.
pub fn execute(
    state: &mut SimState,
    words: &[String],
    stdin: Option<Vec<u8>>,
    now: DateTime<Utc>,
) -> Outcome {
    let mut ctx = Ctx {
        quiet: false,
        force: false,
        stdin,
        now,
    };
    let mut rest: Vec<String> = words.to_vec();
    let mut app_flag = None;
    while let Some(first) = rest.first().cloned() {
        match first.as_str() {
            "--quiet" => ctx.quiet = true,
            "--force" => ctx.force = true,
            "--trace" | "--rm" | "--rm-container" | "--detach" => {}
            "--app" if rest.len() >= 2 => {
                app_flag = Some(rest.remove(1));
            }
            _ => break,
        }
        rest.remove(0);
    }
    let Some(command) = rest.first().cloned() else {
        return Outcome::ok(
            "Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]",
        );
    };
    let mut args: Vec<String> = rest[1..].to_vec();
    if let Some(app) = app_flag {
        args.insert(0, app);
    }
    let result = match command.as_str() {
        "apps:create" => apps::create(state, &ctx, &args),
        "apps:destroy" => apps::destroy(state, &ctx, &args),
        "apps:list" => apps::list(state, &ctx),
        "domains:add" => apps::domains_add(state, &ctx, &args),
        "domains:remove" => apps::domains_remove(state, &ctx, &args),
        "domains:report" => apps::domains_report(state, &args),
        "certs:add" => apps::certs_add(state, &ctx, &args),
        "certs:remove" => apps::certs_remove(state, &ctx, &args),
        "certs:report" => apps::certs_report(state, &args),
        "nginx:set" => apps::nginx_set(state, &ctx, &args),
        "proxy:build-config" => apps::proxy_build_config(state, &ctx, &args),
        "ssh-keys:add" => apps::ssh_keys_add(state, &args),
        "ssh-keys:remove" => apps::ssh_keys_remove(state, &args),
        "config:export" => config::export(state, &args),
        "config:set" => config::set(state, &ctx, &args),
        "config:unset" => config::unset(state, &ctx, &args),
        "resource:limit" => config::resource_limit(state, &ctx, &args),
        "resource:limit-clear" => config::resource_limit_clear(state, &ctx, &args),
        "resource:report" => config::resource_report(state, &args),
        "docker-options:add" => config::docker_options_add(state, &ctx, &args),
        "docker-options:remove" => config::docker_options_remove(state, &ctx, &args),
        "docker-options:report" => config::docker_options_report(state, &args),
        "git:from-archive" => deploy::from_archive(state, &ctx, &args),
        "ps:report" => ps::report(state, &args),
        "ps:scale" => ps::scale(state, &ctx, &args),
        "ps:restart" => ps::restart(state, &ctx, &args),
        "ps:inspect" => ps::inspect(state, &args),
        "logs" => ps::logs(state, &args),
        "run" => run::run(state, &args),
        "run:detached" => run::detached(state, &ctx, &args),
        "run:logs" => run::logs(state, &ctx, &args),
        "run:stop" => run::stop(state, &args),
        other => Err(fail(format!("`{other}` is not a dokku command."))),
    };
    result.unwrap_or_else(|e| e)
}

/// The app named by the first argument.
fn app_mut<'a>(
    state: &'a mut SimState,
    args: &[String],
) -> Result<(String, &'a mut SimApp), Outcome> {
    let name = args
        .first()
        .ok_or_else(|| fail("Please specify an app to run the command on"))?;
    match state.apps.get_mut(name) {
        Some(app) => Ok((name.clone(), app)),
        None => Err(fail(format!("App {name} does not exist"))),
    }
}

/// Splits `--flag [value]` options (those in `valued` take a value) from positional words.
fn options(
    args: &[String],
    valued: &[&str],
) -> Result<(BTreeMap<String, String>, Vec<String>), Outcome> {
    let mut flags = BTreeMap::new();
    let mut positional = Vec::new();
    let mut iter = args.iter();
    while let Some(a) = iter.next() {
        if a.starts_with('-') && a.len() > 1 {
            let value = if valued.contains(&a.as_str()) {
                iter.next()
                    .cloned()
                    .ok_or_else(|| fail(format!("flag needs an argument: {a}")))?
            } else {
                String::new()
            };
            flags.insert(a.clone(), value);
        } else {
            positional.push(a.clone());
        }
    }
    Ok((flags, positional))
}
