//! Ordering `dokku logs` output.
//!
//! `logs APP -n N` prints the last N lines *per container*, containers run in
//! parallel and concatenated (dokku: scheduler-docker-local/scheduler-logs),
//! with coloured `TIMESTAMP app[TYPE.N]:` prefixes. Here colours and `\r` are
//! stripped, lines are merged by their timestamps when every line has one
//! (the sort is stable, so ties keep Dokku's order), and the newest `lines`
//! are returned oldest first. Never `-t`: following would hold the daemon's
//! global lock forever.

use chrono::{DateTime, FixedOffset};

use crate::reply::strip_terminal_codes;

pub(super) fn newest_last(output: &str, lines: u32) -> Vec<String> {
    let plain = strip_terminal_codes(output);
    let mut all: Vec<&str> = plain.lines().filter(|l| !l.trim().is_empty()).collect();
    let stamps: Option<Vec<DateTime<FixedOffset>>> = all.iter().map(|l| timestamp(l)).collect();
    if let Some(stamps) = stamps {
        let mut paired: Vec<(DateTime<FixedOffset>, &str)> = stamps.into_iter().zip(all).collect();
        paired.sort_by_key(|(t, _)| *t);
        all = paired.into_iter().map(|(_, l)| l).collect();
    }
    let keep = usize::try_from(lines).unwrap_or(usize::MAX);
    let skip = all.len().saturating_sub(keep);
    all.into_iter().skip(skip).map(str::to_owned).collect()
}

fn timestamp(line: &str) -> Option<DateTime<FixedOffset>> {
    line.split_whitespace()
        .next()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_containers_by_time() {
        let out = "\u{1b}[36m2024-01-01T00:00:03Z app[web.1]:\u{1b}[0m c\n\
                   \u{1b}[36m2024-01-01T00:00:01Z app[web.1]:\u{1b}[0m a\n\
                   \u{1b}[33m2024-01-01T00:00:02Z app[worker.1]:\u{1b}[0m b";
        assert_eq!(
            newest_last(out, 2),
            vec![
                "2024-01-01T00:00:02Z app[worker.1]: b",
                "2024-01-01T00:00:03Z app[web.1]: c"
            ]
        );
    }

    #[test]
    fn keeps_order_without_timestamps() {
        assert_eq!(newest_last("b\na\n\n", 10), vec!["b", "a"]);
        assert!(newest_last("", 10).is_empty());
    }
}
