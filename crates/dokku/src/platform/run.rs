//! One-off commands (`dokku run`) that run exactly as typed.
//!
//! The daemon splits arguments on blanks and has no quoting (§1.3), so the
//! user's command travels base64-encoded in the container environment
//! (`DRYCC_CMD`), next to a fixed wrapper script (`DRYCC_RUN`, see
//! [`RUN_WRAPPER`]). The container runs `sh -c` [`RUN_SCRIPT`], one vetted
//! token that decodes and evaluates the wrapper; the wrapper evaluates the
//! decoded command in a subshell and prints [`EXIT_MARKER`] with its exit
//! status, since the daemon transmits only a boolean `ok`. The output is
//! capped (the newest part is kept) with a clear marker line.

use std::time::Duration;

use drydock_domain::name::AppName;
use drydock_domain::platform::{PlatformError, RunOutput};

use super::DokkuPlatform;
use crate::client::rejected;
use crate::command::Command;
use crate::reply::{has_error_line, Reply};

/// The `sh -c` argument: decodes `$DRYCC_RUN` and evaluates it. One token
/// with no blank, glob character, `<`, `>` or backslash (checked by the
/// command builder like every other token).
pub const RUN_SCRIPT: &str = r#"eval${IFS}"$(echo${IFS}$DRYCC_RUN|base64${IFS}-d)""#;

/// The wrapper (sent base64-encoded as `DRYCC_RUN`): runs the user's command
/// in a subshell, so even `exit 3` or a syntax error leaves the marker line.
/// The marker always follows a newline of its own, which `finish` removes, so
/// the command's output keeps its exact ending (with or without a final newline).
pub const RUN_WRAPPER: &str =
    "(eval \"$(echo \"$DRYCC_CMD\" | base64 -d)\")\nrc=$?\necho\necho \"__DRYDOCK_EXIT__=$rc\"\n";

/// Printed by the wrapper after the command, followed by the exit status.
pub const EXIT_MARKER: &str = "__DRYDOCK_EXIT__=";

pub(super) async fn run(
    p: &DokkuPlatform,
    app: &AppName,
    command: &str,
    timeout: Duration,
) -> Result<RunOutput, PlatformError> {
    let line = Command::new("run")
        .literal("-e")
        .encoded_env("DRYCC_CMD", command.as_bytes())
        .literal("-e")
        .encoded_env("DRYCC_RUN", RUN_WRAPPER.as_bytes())
        .literal("--ttl-seconds")
        .number(timeout.as_secs().max(1))
        .app(app)
        .literal("sh")
        .literal("-c")
        .literal(RUN_SCRIPT)
        .build()?;
    // Dokku stops the container at the TTL; allow it a quick command's time to report back.
    let budget = timeout + p.client.settings().command_timeout;
    let reply = p.client.execute(&line, budget).await?;
    finish(&reply, p.client.settings().run_output_cap)
}

/// Splits the exit marker off the output and caps what is left.
fn finish(reply: &Reply, cap: usize) -> Result<RunOutput, PlatformError> {
    let text = reply.output();
    let marked = text.rfind(EXIT_MARKER).and_then(|i| {
        let code = &text[i + EXIT_MARKER.len()..];
        let code: i32 = code.trim_end().parse().ok()?;
        Some((code, &text[..i]))
    });
    let (exit_code, output) = match marked {
        Some((code, before)) => (code, before.strip_suffix('\n').unwrap_or(before)),
        None if !reply.ok() && has_error_line(&text) => return Err(rejected(reply)),
        None => (if reply.ok() { 0 } else { 1 }, text.as_str()),
    };
    Ok(RunOutput {
        exit_code,
        output: cap_output(output, cap),
    })
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

    fn reply(ok: bool, body: &str) -> Reply {
        let line = format!(r#"{{"ok":{ok},"output":"{body}"}}"#);
        Reply::parse(line.as_bytes()).unwrap()
    }

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
        let out = finish(&reply(true, r"hello\nworld\n__DRYDOCK_EXIT__=3"), 100).unwrap();
        assert_eq!(
            out,
            RunOutput {
                exit_code: 3,
                output: "hello\nworld".into()
            }
        );
        let out = finish(&reply(true, "no newline__DRYDOCK_EXIT__=0"), 100).unwrap();
        assert_eq!(out.output, "no newline");
        let out = finish(&reply(true, r"__DRYDOCK_EXIT__=9\n__DRYDOCK_EXIT__=0"), 100).unwrap();
        assert_eq!(
            out,
            RunOutput {
                exit_code: 0,
                output: "__DRYDOCK_EXIT__=9".into()
            }
        );
    }

    #[test]
    fn dokku_failures_are_rejections() {
        let e = finish(&reply(false, r" !     App shop has not been deployed"), 100).unwrap_err();
        assert_eq!(
            e,
            PlatformError::Rejected("App shop has not been deployed".into())
        );
        let out = finish(&reply(false, "sh: not found"), 100).unwrap();
        assert_eq!(out.exit_code, 1);
    }

    #[test]
    fn output_is_capped_with_a_marker() {
        let capped = cap_output(&"é".repeat(10), 5);
        assert!(capped.starts_with("[drydock: output truncated"));
        assert!(capped.ends_with("éé"));
        assert_eq!(cap_output("short", 5), "short");
    }
}
