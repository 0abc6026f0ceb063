//! Faults the simulator can inject, set from the handle, the binary's flags,
//! or a control line on the socket (`sim:fault …`, which real dokku-daemon
//! would answer with `Invalid command`).
//!
//! Control lines: `sim:fault refuse SECONDS`, `sim:fault hang SECONDS`,
//! `sim:fault fail COUNT [PREFIX]`, `sim:fault garbage`, `sim:fault die`,
//! `sim:clear`.

use std::time::Duration;

/// The message of a [`Fault::FailNext`] set without one.
pub const DEFAULT_FAILURE: &str = "Simulated failure";

/// One injected misbehaviour; at most one is active at a time.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Stop listening (connecting gets `ECONNREFUSED`, the socket file stays)
    /// and drop every open connection.
    Refuse,
    /// Every command that reaches dokku waits this long first, holding the
    /// daemon's global lock; clearing the fault releases waiting commands.
    Hang(Duration),
    /// The next `count` commands whose words (after leading global flags)
    /// start with `prefix` fail with ` !     message`, without running.
    FailNext {
        /// How many commands fail; the fault clears itself after the last.
        count: u32,
        /// Only commands starting with this text; `None` for all.
        prefix: Option<String>,
        /// The error text Dokku prints.
        message: String,
    },
    /// Every command is answered with a line that is not a daemon reply, without running.
    Garbage,
    /// Every command runs, then the connection closes halfway through its reply.
    DieMidReply,
}

/// Parses the words of a `sim:fault` control line into the fault and, for
/// `refuse`, how long until it clears itself (nobody could connect to clear it).
pub fn parse(words: &[&str]) -> Result<(Fault, Option<Duration>), String> {
    let seconds = |w: Option<&&str>| -> Result<Duration, String> {
        w.and_then(|s| s.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| "expected a number of seconds".to_owned())
    };
    let fault = match words.first().copied() {
        Some("refuse") => return Ok((Fault::Refuse, Some(seconds(words.get(1))?))),
        Some("hang") => Fault::Hang(seconds(words.get(1))?),
        Some("fail") => {
            let count = words
                .get(1)
                .and_then(|c| c.parse().ok())
                .ok_or("expected a count")?;
            Fault::FailNext {
                count,
                prefix: words.get(2).map(|p| (*p).to_owned()),
                message: DEFAULT_FAILURE.to_owned(),
            }
        }
        Some("garbage") => Fault::Garbage,
        Some("die") => Fault::DieMidReply,
        _ => return Err(
            "usage: sim:fault refuse SECONDS | hang SECONDS | fail COUNT [PREFIX] | garbage | die"
                .into(),
        ),
    };
    Ok((fault, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_control_words() {
        assert_eq!(
            parse(&["hang", "1.5"]),
            Ok((Fault::Hang(Duration::from_millis(1500)), None))
        );
        assert_eq!(
            parse(&["refuse", "2"]),
            Ok((Fault::Refuse, Some(Duration::from_secs(2))))
        );
        assert_eq!(
            parse(&["fail", "2", "git:from-archive"]),
            Ok((
                Fault::FailNext {
                    count: 2,
                    prefix: Some("git:from-archive".into()),
                    message: DEFAULT_FAILURE.into()
                },
                None
            ))
        );
        assert_eq!(parse(&["garbage"]), Ok((Fault::Garbage, None)));
        assert_eq!(parse(&["die"]), Ok((Fault::DieMidReply, None)));
        assert!(parse(&["hang"]).is_err());
        assert!(parse(&["nope"]).is_err());
    }
}
