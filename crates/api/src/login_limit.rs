//! Failed-login throttling, per username and per client address.
//!
//! Only failures count: a team behind one NAT address that logs in all day is
//! never locked out, while someone guessing passwords is stopped after a few
//! misses until the window has passed. An attempt is counted as it starts
//! and taken back when it succeeds; a success also clears its username's count.
//! Counters live in this process; each instance of a multi-instance deployment
//! counts on its own, so the effective limit there is per instance.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Usernames longer than this cannot exist, so longer guesses share one key
/// instead of costing memory per distinct string.
const MAX_KEY_CHARS: usize = 151;

/// Entries are swept of expired windows once the table grows past this.
const SWEEP_AT: usize = 10_000;

/// How many failures are allowed, and for how long they are remembered.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimitSettings {
    /// Failures per username within `window`; 0 turns the limit off.
    pub per_username: u32,
    /// Failures per client address within `window`; 0 turns the limit off.
    pub per_address: u32,
    /// How long a run of failures is remembered, from the first one.
    pub window: Duration,
}

impl Default for LoginLimitSettings {
    fn default() -> Self {
        Self {
            per_username: 5,
            per_address: 20,
            window: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Addr(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    failures: u32,
}

/// The failure counters of one server process.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    settings: LoginLimitSettings,
    windows: Mutex<HashMap<Key, Window>>,
}

impl LoginLimiter {
    /// A limiter with these limits.
    pub fn new(settings: LoginLimitSettings) -> Self {
        Self {
            settings,
            windows: Mutex::default(),
        }
    }

    fn keys(&self, username: &str, addr: Option<IpAddr>) -> Vec<(Key, u32)> {
        let user = username.chars().take(MAX_KEY_CHARS).collect();
        let mut keys = vec![(Key::User(user), self.settings.per_username)];
        if let Some(a) = addr {
            keys.push((Key::Addr(a), self.settings.per_address));
        }
        keys.retain(|(_, limit)| *limit > 0);
        keys
    }

    /// Starts an attempt: `Err(wait)` when the username or the address has
    /// used up its failures (refuse before any password is checked);
    /// otherwise the attempt is counted as a failure right away, in the same
    /// critical section, so a burst of parallel guesses cannot all pass the
    /// check before any of them is counted. [`LoginLimiter::succeeded`] takes
    /// it back.
    pub fn attempt(&self, username: &str, addr: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let window = self.settings.window;
        let keys = self.keys(username, addr);
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let wait = keys
            .iter()
            .filter_map(|(key, limit)| {
                let w = windows.get(key)?;
                let ends = w.started + window;
                (w.failures >= *limit && ends > now).then(|| ends - now)
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        if windows.len() > SWEEP_AT {
            windows.retain(|_, w| w.started + window > now);
        }
        for (key, _) in keys {
            let w = windows.entry(key).or_insert(Window {
                started: now,
                failures: 0,
            });
            if w.started + window <= now {
                *w = Window {
                    started: now,
                    failures: 0,
                };
            }
            w.failures = w.failures.saturating_add(1);
        }
        Ok(())
    }

    /// The attempt proved who the caller is: the username's failures are
    /// forgotten and the address gets its attempt back, so successes never
    /// count against a team sharing one address.
    pub fn succeeded(&self, username: &str, addr: Option<IpAddr>) {
        let user: String = username.chars().take(MAX_KEY_CHARS).collect();
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        windows.remove(&Key::User(user));
        if let Some(w) = addr.and_then(|a| windows.get_mut(&Key::Addr(a))) {
            w.failures = w.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_username: u32, per_address: u32) -> LoginLimiter {
        LoginLimiter::new(LoginLimitSettings {
            per_username,
            per_address,
            window: Duration::from_secs(60),
        })
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn refuses_after_the_username_limit_and_says_how_long() {
        let l = limiter(3, 100);
        for _ in 0..3 {
            assert!(l.attempt("bob", HOME).is_ok());
        }
        let wait = l.attempt("bob", HOME).expect_err("fourth attempt refused");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(55));
        assert!(l.attempt("alice", HOME).is_ok(), "other users unaffected");
    }

    #[test]
    fn the_address_limit_spans_usernames() {
        let l = limiter(100, 4);
        for name in ["a", "b", "c", "d"] {
            assert!(l.attempt(name, HOME).is_ok());
        }
        assert!(l.attempt("e", HOME).is_err());
        assert!(l.attempt("e", None).is_ok());
    }

    #[test]
    fn successes_are_taken_back() {
        let l = limiter(2, 3);
        for _ in 0..10 {
            assert!(l.attempt("bob", HOME).is_ok());
            l.succeeded("bob", HOME);
        }
        assert!(l.attempt("bob", HOME).is_ok());
        assert!(l.attempt("bob", HOME).is_ok());
        assert!(l.attempt("bob", None).is_err(), "two failures for bob");
        l.succeeded("bob", None);
        assert!(l.attempt("bob", None).is_ok());
        assert!(
            l.attempt("carol", HOME).is_ok(),
            "two failures from HOME so far"
        );
        assert!(l.attempt("dave", HOME).is_err(), "three failures from HOME");
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let l = limiter(0, 0);
        for _ in 0..50 {
            assert!(l.attempt("bob", HOME).is_ok());
        }
    }
}
