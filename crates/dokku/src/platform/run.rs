//! One-off commands (`dokku run`) that run exactly as typed, without
//! holding dokku-daemon for their whole duration.
//!
//! The daemon runs one command at a time for the whole host (§1.6), so an
//! attached `run` of ten minutes would freeze every tenant's Dokku commands
//! for ten minutes. The command is started with `run:detached` instead, and
//! its output is collected with short `run:logs --container` calls, each
//! taking the lock for a moment, until the exit marker appears or the
//! timeout passes; then `run:stop` ends the container, which `--rm` removes.
//!
//! The daemon splits arguments on blanks and has no quoting (§1.3), so the
//! user's command travels base64-encoded in the container environment
//! (`DRYCC_CMD`), next to a fixed wrapper script (`DRYCC_RUN`, see
//! [`RUN_WRAPPER`]). The container runs `sh -c` [`RUN_SCRIPT`], one vetted
//! token that decodes and evaluates the wrapper; the wrapper evaluates the
//! decoded command in a subshell and prints [`EXIT_MARKER`] with its exit
//! status, since nothing else reports it, then lingers so that its logs can
//! still be read (a detached container is removed as soon as it exits). The
//! output is capped (the newest part is kept) with a clear marker line.

use std::time::{Duration, Instant};

use drydock_domain::name::{AppName, PodName};
use drydock_domain::platform::{PlatformError, RunOutput};

use super::{Class, DokkuPlatform};
use crate::command::Command;

/// The `sh -c` argument: decodes `$DRYCC_RUN` and evaluates it. One token
/// with no blank, glob character, `<`, `>` or backslash (checked by the
/// command builder like every other token).
pub const RUN_SCRIPT: &str = r#"eval${IFS}"$(echo${IFS}$DRYCC_RUN|base64${IFS}-d)""#;

/// The wrapper (sent base64-encoded as `DRYCC_RUN`): runs the user's command
/// in a subshell, so even `exit 3` or a syntax error leaves the marker line,
/// then waits to be stopped (at most [`LINGER`]) so its output stays readable.
/// The marker always follows a newline of its own, which `finish` removes, so
/// the command's output keeps its exact ending (with or without a final newline).
pub const RUN_WRAPPER: &str = "(eval \"$(echo \"$DRYCC_CMD\" | base64 -d)\")\nrc=$?\necho\necho \"__DRYDOCK_EXIT__=$rc\"\nexec sleep 900\n";

/// How long a finished container waits to be read and stopped (the
/// wrapper's `sleep`) if Drydock goes away before it does.
pub const LINGER: Duration = Duration::from_secs(900);

/// Printed by the wrapper after the command, followed by the exit status.
pub const EXIT_MARKER: &str = "__DRYDOCK_EXIT__=";

/// The exit status reported for a command stopped at the timeout (SIGKILL's).
pub const KILLED: i32 = 137;

/// First pause between two reads of a running command's output; it doubles up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(100);
/// Longest pause between two reads.
const MAX_POLL: Duration = Duration::from_secs(2);

pub(super) async fn run(
    p: &DokkuPlatform,
    app: &AppName,
    command: &str,
    timeout: Duration,
) -> Result<RunOutput, PlatformError> {
    let start = Command::new("run:detached")
        .literal("-e")
        .encoded_env("DRYCC_CMD", command.as_bytes())
        .literal("-e")
        .encoded_env("DRYCC_RUN", RUN_WRAPPER.as_bytes())
        .literal("--ttl-seconds")
        .number(timeout.as_secs().max(1) + LINGER.as_secs())
        .app(app)
        .literal("sh")
        .literal("-c")
        .literal(RUN_SCRIPT);
    let reply = p.send(start, Class::Quick).await?;
    let container = container_name(app, &reply.output())?;
    let result = collect(p, &container, timeout).await;
    let stop = Command::new("run:stop")
        .literal("--container")
        .container(&container);
    if let Err(e) = p.send(stop, Class::Quick).await {
        tracing::warn!(container = %container, error = %e, "could not stop a one-off container; it stops by itself");
    }
    result
}

/// Reads the container's output until the exit marker appears, the
/// container is gone, or `timeout` has passed.
async fn collect(
    p: &DokkuPlatform,
    container: &PodName,
    timeout: Duration,
) -> Result<RunOutput, PlatformError> {
    let cap = p.client.settings().run_output_cap;
    let quick = p.client.settings().command_timeout;
    let deadline = Instant::now() + timeout;
    let read = Command::new("run:logs")
        .literal("--container")
        .container(container)
        .literal("--num")
        .literal("all")
        .literal("-q")
        .build()?;
    let mut pause = FIRST_POLL;
    let mut seen = String::new();
    loop {
        tokio::time::sleep(pause.min(deadline.saturating_duration_since(Instant::now()))).await;
        pause = (pause * 2).min(MAX_POLL);
        let logs = p.client.execute(&read, quick).await?;
        if !logs.ok() {
            // Gone: it died (or its TTL came) before its output was read.
            return Ok(RunOutput {
                exit_code: KILLED,
                output: cap_output(&seen, cap),
            });
        }
        seen = logs.output();
        if let Some((code, output)) = split_marker(&seen) {
            return Ok(RunOutput {
                exit_code: code,
                output: cap_output(output, cap),
            });
        }
        if Instant::now() >= deadline {
            return Ok(RunOutput {
                exit_code: KILLED,
                output: cap_output(&seen, cap),
            });
        }
    }
}

/// The container `run:detached` started: the last line it printed, which
/// must be `<app>.run.<number>`.
fn container_name(app: &AppName, output: &str) -> Result<PodName, PlatformError> {
    let name = output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let ok = name
        .strip_prefix(app.as_str())
        .and_then(|rest| rest.strip_prefix(".run."))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    match PodName::parse(name) {
        Ok(pod) if ok => Ok(pod),
        _ => Err(PlatformError::Protocol {
            message: format!("run:detached did not name a run container of {app}"),
            raw: output.as_bytes().to_vec(),
        }),
    }
}

/// The exit status after the last marker, and the output before it (without
/// the newline the wrapper puts before the marker).
fn split_marker(text: &str) -> Option<(i32, &str)> {
    let i = text.rfind(EXIT_MARKER)?;
    let code: i32 = text[i + EXIT_MARKER.len()..].trim_end().parse().ok()?;
    let before = &text[..i];
    Some((code, before.strip_suffix('\n').unwrap_or(before)))
}

/// Keeps the last `cap` bytes (on a character boundary) behind a marker line.
fn cap_output(output: &str, cap: usize) -> String {
    if output.len() <= cap {
        return output.to_owned();
    }
    let mut start = output.len() - cap;
    while !output.is_char_boundary(start) {
        start += 1;
    }
    format!(
        "[drydock: output truncated, the first {start} bytes were dropped]\n{}",
        &output[start..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_token_is_vetted() {
        let line = Command::new("run")
            .literal("sh")
            .literal("-c")
            .literal(RUN_SCRIPT)
            .build();
        assert!(line.is_ok());
        assert!(!RUN_SCRIPT.contains(|c: char| c.is_whitespace() || "*?[<>\\".contains(c)));
    }

    #[test]
    fn exit_marker_is_split_off() {
        assert_eq!(
            split_marker("hello\nworld\n\n__DRYDOCK_EXIT__=3"),
            Some((3, "hello\nworld\n"))
        );
        assert_eq!(
            split_marker("no newline\n__DRYDOCK_EXIT__=0\n"),
            Some((0, "no newline"))
        );
        assert_eq!(
            split_marker("__DRYDOCK_EXIT__=9\n__DRYDOCK_EXIT__=0"),
            Some((0, "__DRYDOCK_EXIT__=9"))
        );
        assert_eq!(split_marker("still running"), None);
    }

    #[test]
    fn only_a_run_container_of_the_app_is_accepted() {
        let shop = AppName::parse("shop").unwrap();
        assert_eq!(
            container_name(&shop, "-----> starting\nshop.run.4242")
                .unwrap()
                .as_str(),
            "shop.run.4242"
        );
        for bad in [
            "",
            "shop.web.1",
            "other.run.1",
            "shop.run.",
            "shop.run.1;id",
            "shop.run.x",
        ] {
            assert!(container_name(&shop, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn output_is_capped_with_a_marker() {
        let capped = cap_output(&"é".repeat(10), 5);
        assert!(capped.starts_with("[drydock: output truncated"));
        assert!(capped.ends_with("éé"));
        assert_eq!(cap_output("short", 5), "short");
    }
}
