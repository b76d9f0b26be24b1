//! Live state of each mailbox poller, shown by `/healthz` and the admin pages.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// What a mailbox poller is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailboxState {
    Idle,
    Syncing,
    BackingOff,
    Failing,
    Disabled,
}

/// The health of one mailbox.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxHealth {
    pub name: String,
    pub state: MailboxState,
    pub last_sync_at: Option<String>,
    pub error: Option<String>,
    pub error_streak: u32,
}

/// Shared registry the pollers write and the web reads.
#[derive(Debug, Clone, Default)]
pub struct Health {
    inner: Arc<RwLock<BTreeMap<String, MailboxHealth>>>,
}

impl Health {
    /// Sets a mailbox's state.
    pub fn set_state(&self, name: &str, state: MailboxState) {
        self.update(name, |h| h.state = state);
    }

    /// Records a successful sync: clears the error streak.
    pub fn synced(&self, name: &str) {
        self.update(name, |h| {
            h.last_sync_at = Some(crate::domain::rfc3339(crate::domain::now()));
            h.error = None;
            h.error_streak = 0;
        });
    }

    /// Records a failure; three in a row count as failing rather than backing off.
    pub fn failed(&self, name: &str, error: String) {
        self.update(name, |h| {
            h.error_streak += 1;
            h.error = Some(error);
            h.state = if h.error_streak >= 3 { MailboxState::Failing } else { MailboxState::BackingOff };
        });
    }

    fn update(&self, name: &str, f: impl FnOnce(&mut MailboxHealth)) {
        let mut map = self.inner.write().expect("health lock");
        let entry = map.entry(name.to_string()).or_insert_with(|| MailboxHealth {
            name: name.to_string(),
            state: MailboxState::Idle,
            last_sync_at: None,
            error: None,
            error_streak: 0,
        });
        f(entry);
    }

    /// Every mailbox's health, by name.
    pub fn snapshot(&self) -> Vec<MailboxHealth> {
        self.inner.read().expect("health lock").values().cloned().collect()
    }

    /// Forgets a mailbox (removed or disabled).
    pub fn remove(&self, name: &str) {
        self.inner.write().expect("health lock").remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_escalate_and_success_clears() {
        let h = Health::default();
        h.failed("support", "login refused".into());
        assert_eq!(h.snapshot()[0].state, MailboxState::BackingOff);
        h.failed("support", "login refused".into());
        h.failed("support", "login refused".into());
        assert_eq!(h.snapshot()[0].state, MailboxState::Failing);
        h.synced("support");
        h.set_state("support", MailboxState::Idle);
        let s = &h.snapshot()[0];
        assert_eq!((s.state, s.error_streak, s.error.is_none()), (MailboxState::Idle, 0, true));
    }
}
