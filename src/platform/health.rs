//! Live state of each mailbox poller and of its OAuth2 grant, shown by `/healthz` and the admin pages.

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
    /// The OAuth2 grant of a mailbox that signs in with access tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthHealth>,
}

/// Whether a mailbox's access tokens can be refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthState {
    Ok,
    Failing,
}

/// The state of a mailbox's OAuth2 grant.
#[derive(Debug, Clone, Serialize)]
pub struct OAuthHealth {
    pub state: OAuthState,
    /// Why the last refresh failed.
    pub error: Option<String>,
    pub last_refresh_at: Option<String>,
    pub access_expires_at: Option<String>,
    pub failing_since: Option<String>,
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

    /// Records a refreshed access token valid until `expires_at` (unix seconds).
    pub fn oauth_refreshed(&self, name: &str, expires_at: i64) {
        let now = crate::domain::rfc3339(crate::domain::now());
        self.update(name, |h| {
            h.oauth = Some(OAuthHealth {
                state: OAuthState::Ok,
                error: None,
                last_refresh_at: Some(now),
                access_expires_at: Some(crate::domain::rfc3339(expires_at)),
                failing_since: None,
            })
        });
    }

    /// Records a failed refresh: the mailbox shows as failing with this error until a refresh succeeds.
    pub fn oauth_failed(&self, name: &str, error: String) {
        let now = crate::domain::rfc3339(crate::domain::now());
        self.update(name, |h| {
            let before = h.oauth.take();
            let since = before.as_ref().and_then(|o| o.failing_since.clone()).unwrap_or_else(|| now.clone());
            h.oauth = Some(OAuthHealth {
                state: OAuthState::Failing,
                error: Some(error),
                last_refresh_at: before.as_ref().and_then(|o| o.last_refresh_at.clone()),
                access_expires_at: before.and_then(|o| o.access_expires_at),
                failing_since: Some(since),
            })
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
            oauth: None,
        });
        f(entry);
    }

    /// Every mailbox's health, by name. A mailbox whose grant cannot be refreshed is failing, with that error
    /// (unless the poller has one of its own).
    pub fn snapshot(&self) -> Vec<MailboxHealth> {
        let map = self.inner.read().expect("health lock");
        map.values()
            .cloned()
            .map(|mut h| {
                if let Some(o) = h.oauth.as_ref().filter(|o| o.state == OAuthState::Failing) {
                    h.state = MailboxState::Failing;
                    h.error = h.error.or_else(|| o.error.as_ref().map(|e| format!("OAuth2: {e}")));
                }
                h
            })
            .collect()
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

    #[test]
    fn a_failing_grant_makes_the_mailbox_failing_until_a_refresh_succeeds() {
        let h = Health::default();
        h.set_state("gmail", MailboxState::Idle);
        h.oauth_refreshed("gmail", 2_000_000_000);
        assert_eq!(h.snapshot()[0].state, MailboxState::Idle);
        h.oauth_failed("gmail", "invalid_grant: Token has been revoked".into());
        h.oauth_failed("gmail", "invalid_grant: Token has been revoked".into());
        let s = &h.snapshot()[0];
        assert_eq!(s.state, MailboxState::Failing);
        assert_eq!(s.error.as_deref(), Some("OAuth2: invalid_grant: Token has been revoked"));
        let o = s.oauth.as_ref().unwrap();
        assert!(o.failing_since.is_some() && o.last_refresh_at.is_some());
        h.oauth_refreshed("gmail", 2_000_000_000);
        let s = &h.snapshot()[0];
        assert_eq!((s.state, s.error.is_none()), (MailboxState::Idle, true));
    }
}
