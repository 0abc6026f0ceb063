//! Simulated `dokku run`. No container is started; instead:
//!
//! * Drydock's encoding (`sh -c` [`RUN_SCRIPT`] with `DRYCC_RUN` =
//!   [`RUN_WRAPPER`]) is recognised: `DRYCC_CMD` is decoded and recorded
//!   byte-for-byte in [`SimRun::command`], "executed", and followed by the
//!   wrapper's exit marker line — the container itself exits 0;
//! * any other command line is "executed" directly, its status is the
//!   container's.
//!
//! "Executing" understands a single trivial command: `echo WORDS…` (printed
//! as written, no quote processing), `true`, `false`, `exit N`, `seq N`, and
//! `sleep S` (the reply is delayed; past `--ttl-seconds` the container is
//! killed with status 137). Anything else answers `sh: 1: WORD: not found`
//! with status 127. This is deterministic on purpose: tests check what was
//! sent, not what a shell would print.
//!
//! `run:detached` answers the container's name at once (as Dokku prints it
//! with `--rm`); the command's output appears in `run:logs --container NAME`
//! once its time has passed, and the container stays until `run:stop` (the
//! wrapper lingers after its marker), unless the TTL killed it, in which
//! case `--rm` has removed it and `run:logs` answers Docker's "No such
//! container". Those commands take the daemon lock only for their reply.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{app_mut, fail, options, Ctx, Outcome, Res};
use crate::platform::{EXIT_MARKER, RUN_SCRIPT, RUN_WRAPPER};
use crate::sim::state::SimApp;
use crate::sim::state::{SimDetached, SimRun, SimState};

/// The largest `seq` the sim prints, to keep replies bounded.
const MAX_SEQ: u64 = 1_000_000;

/// A parsed `run`/`run:detached` invocation, "executed"; `killed` when the
/// command outlived `--ttl-seconds`.
struct Invocation {
    app: String,
    output: String,
    status: i32,
    delay: Option<Duration>,
    killed: bool,
}

fn invoke(state: &mut SimState, args: &[String]) -> Result<Invocation, Outcome> {
    let mut env = BTreeMap::new();
    let mut ttl: Option<f64> = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "-e" | "--env" => {
                let pair = args
                    .get(i + 1)
                    .ok_or_else(|| fail("flag needs an argument: -e"))?;
                let (k, v) = pair.split_once('=').unwrap_or((pair.as_str(), ""));
                env.insert(k.to_owned(), v.to_owned());
                i += 2;
            }
            "--ttl-seconds" => {
                let v = args.get(i + 1).and_then(|v| v.parse().ok());
                ttl = Some(v.ok_or_else(|| fail("invalid --ttl-seconds"))?);
                i += 2;
            }
            "--no-tty" => i += 1,
            _ => break,
        }
    }
    let (name, app) = app_mut(state, &args[i..])?;
    if app.deploy.is_none() {
        return Err(fail(format!("App {name} has not been deployed")));
    }
    let argv: Vec<String> = args[i + 1..].to_vec();
    if argv.is_empty() {
        return Err(fail("No command specified"));
    }
    let decode = |key: &str| {
        env.get(key)
            .and_then(|v| STANDARD.decode(v).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let command = decode("DRYCC_CMD");
    let wrapped =
        argv == ["sh", "-c", RUN_SCRIPT] && decode("DRYCC_RUN").as_deref() == Some(RUN_WRAPPER);
    let script = match (&command, wrapped) {
        (Some(c), true) => c.clone(),
        _ => argv.join(" "),
    };
    let (mut output, code, delay) = execute(&script, ttl);
    let killed = code == 137;
    let status = if wrapped {
        output.push_str(&format!("\n{EXIT_MARKER}{code}\n"));
        0
    } else {
        code
    };
    app.runs.push(SimRun {
        args: argv,
        env,
        command,
        exit_code: code,
    });
    Ok(Invocation {
        app: name,
        output,
        status,
        delay,
        killed,
    })
}

/// `run [-e K=V]… [--ttl-seconds S] APP CMD…`: the reply waits for the command.
pub(super) fn run(state: &mut SimState, args: &[String]) -> Res {
    let run = invoke(state, args)?;
    Ok(Outcome {
        output: run.output,
        status: run.status,
        delay: run.delay,
    })
}

/// `run:detached [-e K=V]… [--ttl-seconds S] APP CMD…`: answers the new
/// container's name at once (`APP.run.N`); the output can be read with
/// `run:logs` once the command is done.
pub(super) fn detached(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let run = invoke(state, args)?;
    let app = state
        .apps
        .get_mut(&run.app)
        .ok_or_else(|| fail(format!("App {} does not exist", run.app)))?;
    let name = format!("{}.run.{}", run.app, 1000 + app.runs.len());
    let done = ctx.now + run.delay.unwrap_or_default();
    app.detached.insert(
        name.clone(),
        SimDetached {
            output: if run.killed {
                String::new()
            } else {
                run.output
            },
            ready_at: done,
            gone_at: run.killed.then_some(done),
        },
    );
    Ok(Outcome::ok(name))
}

/// The app and container a `run:logs`/`run:stop` names (`--container NAME`).
fn container<'a>(
    state: &'a mut SimState,
    args: &[String],
) -> Result<(String, &'a mut SimApp), Outcome> {
    let (flags, _) = options(args, &["--container", "--num", "-n"])?;
    let name = flags
        .get("--container")
        .cloned()
        .ok_or_else(|| fail("No container or app specified"))?;
    let app = name.split('.').next().unwrap_or_default().to_owned();
    if name.split('.').nth(1) != Some("run") {
        return Err(fail("Specified container must be a run container"));
    }
    let (_, a) = app_mut(state, &[app])?;
    Ok((name, a))
}

fn no_such(name: &str) -> Outcome {
    Outcome {
        output: format!("Error response from daemon: No such container: {name}"),
        status: 1,
        delay: None,
    }
}

/// `run:logs [APP] --container NAME [--num N] [-q]`: what the container has
/// printed (nothing while its command runs, here).
pub(super) fn logs(state: &mut SimState, ctx: &Ctx, args: &[String]) -> Res {
    let (name, app) = container(state, args)?;
    let Some(run) = app.detached.get(&name) else {
        return Err(no_such(&name));
    };
    if run.gone_at.is_some_and(|g| g <= ctx.now) {
        app.detached.remove(&name);
        return Err(no_such(&name));
    }
    if ctx.now < run.ready_at {
        return Ok(Outcome::ok(""));
    }
    Ok(Outcome::ok(run.output.clone()))
}

/// `run:stop --container NAME`: stops the container, which `--rm` removes.
pub(super) fn stop(state: &mut SimState, args: &[String]) -> Res {
    let (name, app) = container(state, args)?;
    match app.detached.remove(&name) {
        Some(_) => Ok(Outcome::ok("")),
        None => Err(no_such(&name)),
    }
}

/// "Runs" one trivial command: (output, exit status, how long it takes).
fn execute(script: &str, ttl: Option<f64>) -> (String, i32, Option<Duration>) {
    let script = script.trim();
    let (word, rest) = script.split_once([' ', '\t']).unwrap_or((script, ""));
    match word {
        "" | "true" => (String::new(), 0, None),
        "false" => (String::new(), 1, None),
        "echo" => (format!("{rest}\n"), 0, None),
        "exit" => (String::new(), rest.trim().parse().unwrap_or(2), None),
        "seq" => match rest.trim().parse::<u64>() {
            Ok(n) => {
                let lines: Vec<String> = (1..=n.min(MAX_SEQ)).map(|i| i.to_string()).collect();
                (format!("{}\n", lines.join("\n")), 0, None)
            }
            Err(_) => ("seq: invalid argument\n".into(), 1, None),
        },
        "sleep" => match rest.trim().parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 => match ttl {
                Some(limit) if s > limit => {
                    (String::new(), 137, Some(Duration::from_secs_f64(limit)))
                }
                _ => (String::new(), 0, Some(Duration::from_secs_f64(s))),
            },
            _ => ("sleep: invalid time interval\n".into(), 1, None),
        },
        other => (format!("sh: 1: {other}: not found\n"), 127, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trivial_commands() {
        assert_eq!(execute("echo a  'b'", None), ("a  'b'\n".into(), 0, None));
        assert_eq!(execute("exit 3", None).1, 3);
        assert_eq!(execute("seq 3", None).0, "1\n2\n3\n");
        assert_eq!(
            execute("sleep 5", Some(1.0)),
            (String::new(), 137, Some(Duration::from_secs(1)))
        );
        assert_eq!(execute("ls -la", None).1, 127);
    }
}
