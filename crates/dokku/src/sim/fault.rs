//! Faults the simulator can inject, set from the handle, the binary's flags,
//! or a control line on the socket (`sim:fault …`, which real dokku-daemon
//! would answer with `Invalid command`).
//!
//! Control lines: `sim:fault refuse SECONDS`, `sim:fault hang SECONDS`,
//! `sim:fault fail COUNT [PREFIX]`, `sim:fault garbage`, `sim:fault die`,
//! `sim:fault hang-on SECONDS PREFIX`, `sim:fault die-next COUNT [PREFIX]`,
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
    /// Like [`Fault::Hang`], but only for commands whose words (after leading
    /// global flags) start with `prefix`: the daemon holds that command (and,
    /// through its global lock, every command behind it) until `duration`
    /// passes or the fault is cleared. Lets a test hold exactly the deploy.
    HangOn {
        /// Only commands starting with this text wait.
        prefix: String,
        /// How long each of them waits.
        duration: Duration,
    },
    /// The next `count` commands whose words (after leading global flags)
    /// start with `prefix` run, then the connection closes halfway through
    /// their reply (a daemon that dies once and is restarted); clears itself
    /// after the last.
    DieNext {
        /// How many commands lose their reply.
        count: u32,
        /// Only commands starting with this text; `None` for all.
        prefix: Option<String>,
    },
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
        Some("hang-on") => Fault::HangOn {
            duration: seconds(words.get(1))?,
            prefix: words
                .get(2)
                .map(|p| (*p).to_owned())
                .ok_or("expected a command prefix")?,
        },
        Some("die-next") => Fault::DieNext {
            count: words
                .get(1)
                .and_then(|c| c.parse().ok())
                .ok_or("expected a count")?,
            prefix: words.get(2).map(|p| (*p).to_owned()),
        },
        _ => return Err(
            "usage: sim:fault refuse SECONDS | hang SECONDS | fail COUNT [PREFIX] | garbage | die | hang-on SECONDS PREFIX | die-next COUNT [PREFIX]"
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
        assert_eq!(
            parse(&["hang-on", "2", "git:from-archive"]),
            Ok((
                Fault::HangOn {
                    prefix: "git:from-archive".into(),
                    duration: Duration::from_secs(2)
                },
                None
            ))
        );
        assert!(parse(&["hang-on", "2"]).is_err());
        assert_eq!(
            parse(&["die-next", "1", "ps:restart"]),
            Ok((
                Fault::DieNext {
                    count: 1,
                    prefix: Some("ps:restart".into())
                },
                None
            ))
        );
        assert_eq!(
            parse(&["die-next", "3"]),
            Ok((
                Fault::DieNext {
                    count: 3,
                    prefix: None
                },
                None
            ))
        );
        assert!(parse(&["hang"]).is_err());
        assert!(parse(&["nope"]).is_err());
    }
}
