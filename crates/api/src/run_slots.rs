//! Caps on one-off commands running at once: per user and for the whole
//! server. A `run` no longer holds dokku-daemon, but each one is a container
//! on the host and a stream of short daemon commands; without a cap one
//! tenant could start hundreds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many one-off commands may run at once.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// For one user.
    pub per_user: usize,
    /// For everyone together.
    pub total: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            per_user: 2,
            total: 8,
        }
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_user: HashMap<i32, usize>,
}

/// The running commands, counted.
#[derive(Clone)]
pub struct RunSlots {
    limits: RunLimits,
    counts: Arc<Mutex<Counts>>,
}

/// Why no slot was free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The user already runs `per_user` commands.
    User(usize),
    /// The server already runs `total` commands.
    Server(usize),
}

impl RunSlots {
    /// Slots under `limits`.
    pub fn new(limits: RunLimits) -> Self {
        Self {
            limits,
            counts: Arc::default(),
        }
    }

    /// Takes a slot for `user` until the returned guard is dropped.
    pub fn take(&self, user: i32) -> Result<RunSlot, Full> {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mine = c.by_user.get(&user).copied().unwrap_or(0);
        if mine >= self.limits.per_user {
            return Err(Full::User(self.limits.per_user));
        }
        if c.total >= self.limits.total {
            return Err(Full::Server(self.limits.total));
        }
        c.total += 1;
        *c.by_user.entry(user).or_default() += 1;
        Ok(RunSlot {
            user,
            counts: self.counts.clone(),
        })
    }
}

/// One running command's slot; freed when dropped (also when the request is cancelled).
pub struct RunSlot {
    user: i32,
    counts: Arc<Mutex<Counts>>,
}

impl Drop for RunSlot {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        if let Some(n) = c.by_user.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.by_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_and_total_caps() {
        let slots = RunSlots::new(RunLimits {
            per_user: 2,
            total: 3,
        });
        let a1 = slots.take(1).unwrap();
        let _a2 = slots.take(1).unwrap();
        assert_eq!(slots.take(1).err(), Some(Full::User(2)));
        let _b1 = slots.take(2).unwrap();
        assert_eq!(slots.take(3).err(), Some(Full::Server(3)));
        drop(a1);
        assert!(slots.take(3).is_ok());
    }
}
