//! The poller of one mailbox: lease, connect, sync, then IDLE or sleep; exponential backoff with jitter on failure.

use super::ImapError;
use super::after_import::Caps;
use super::share::LeaseShare;
use super::sync::{FetchFailures, SyncContext, sync_once};
use crate::db::{Db, MailboxRow, mailboxes};
use crate::ingest::Pipeline;
use crate::net::imap::{connect_with, within};
use crate::net::oauth::TokenSource;
use crate::platform::config::{ImapDefaults, ImapSettings};
use crate::platform::health::{Health, MailboxState};
use rand::Rng;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Everything one mailbox's poller needs.
#[derive(Clone)]
pub struct Poller {
    pub pipeline: Pipeline,
    pub db: Db,
    pub mailbox: MailboxRow,
    pub imap: ImapSettings,
    pub defaults: ImapDefaults,
    pub max_message_bytes: u64,
    pub health: Health,
    /// This process's lease identity and fair share.
    pub share: LeaseShare,
    /// Access tokens, for a mailbox that signs in with OAuth2.
    pub tokens: Option<std::sync::Arc<TokenSource>>,
}

/// How a session ended without error.
pub(super) enum SessionEnd {
    Stopped,
    LeaseLost,
    /// This process holds more than its share: the lease goes to a less busy instance.
    HandBack,
}

/// This machine's name, for lease owners.
pub(super) fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "host".into())
}

impl Poller {
    pub(super) fn lease_secs(&self) -> u64 {
        self.defaults.lease_secs.max(3)
    }

    /// Renews this mailbox's lease, or takes it when free and this process may (its fair share).
    pub async fn try_lease(&self) -> Result<bool, ImapError> {
        let (now, id, owner) = (crate::domain::now(), self.mailbox.id, self.share.owner());
        let (pool, secs) = (self.db.pool(), self.lease_secs() as i64);
        if mailboxes::renew_lease(&mut *self.db.writer().await?, id, owner, now + secs).await? {
            return Ok(true);
        }
        match mailboxes::lease_of(pool, id).await? {
            Some((_, expires_at)) if expires_at >= now => return Ok(false),
            // Freed within the last lease period: a process short of its share gets it first. Later it is anyone's,
            // so a mailbox no short instance can poll is not left alone.
            Some((_, expires_at)) if expires_at >= now - secs && !self.share.split(&self.db, now).await?.may_take() => {
                return Ok(false);
            }
            _ => {}
        }
        Ok(mailboxes::acquire_lease(&mut *self.db.writer().await?, id, owner, now, now + secs).await?)
    }

    /// Runs until `cancel`: the thin loop around [`Poller::run_session`].
    pub async fn run(self, cancel: CancellationToken) {
        let name = self.mailbox.name.clone();
        let mut streak: u32 = 0;
        let mut failures = FetchFailures::new();
        self.health.set_state(&name, MailboxState::Idle);
        while !cancel.is_cancelled() {
            let result = match self.try_lease().await {
                // A session gets a short grace after shutdown began (to finish a batch, leave IDLE, log out);
                // then it is dropped: nothing it did not commit is lost, the next start fetches it again.
                Ok(true) => tokio::select! {
                    r = self.run_session(&cancel, &mut failures, &mut streak) => r,
                    _ = cancelled_for(&cancel, SHUTDOWN_GRACE) => Ok(SessionEnd::Stopped),
                },
                Ok(false) => {
                    // Another instance polls this mailbox; check again before its lease can expire.
                    sleep_or_cancel(Duration::from_secs(self.lease_secs() / 2), &cancel).await;
                    continue;
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(SessionEnd::Stopped) => break,
                Ok(SessionEnd::LeaseLost) => tracing::warn!(mailbox = %name, "lease lost to another instance"),
                Ok(SessionEnd::HandBack) => match self.hand_back_lease().await {
                    Ok(()) => tracing::info!(mailbox = %name, "lease handed back for a fair share"),
                    Err(e) => {
                        tracing::warn!(mailbox = %name, error = &e as &dyn std::error::Error, "cannot hand the lease back")
                    }
                },
                Err(e) => {
                    streak += 1;
                    let error = crate::platform::telemetry::chain(&e);
                    tracing::warn!(mailbox = %name, error = %error, attempt = streak, "IMAP sync failed; backing off");
                    metrics::counter!("deskmail_imap_sync_errors_total", "mailbox" => name.clone()).increment(1);
                    self.health.failed(&name, error);
                    // A mailbox connected anew (OAuth2) is tried at once rather than after the backoff.
                    let connected = async {
                        match &self.tokens {
                            Some(tokens) => tokens.connected().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        _ = sleep_or_cancel(backoff(streak, self.defaults.backoff_cap_secs), &cancel) => {},
                        _ = connected => {},
                    }
                }
            }
        }
        let _ = self.release_lease().await;
        self.health.set_state(&name, MailboxState::Disabled);
    }

    /// Gives the lease up for a fair share: free for an instance short of its share first.
    async fn hand_back_lease(&self) -> Result<(), crate::db::DbError> {
        let now = crate::domain::now();
        mailboxes::hand_back_lease(&mut *self.db.writer().await?, self.mailbox.id, self.share.owner(), now).await
    }

    /// Gives the lease up on stopping, so another instance can take the mailbox at once.
    async fn release_lease(&self) -> Result<(), crate::db::DbError> {
        mailboxes::release_lease(&mut *self.db.writer().await?, self.mailbox.id, self.share.owner()).await
    }

    /// Connects and keeps syncing until an error, a lost lease or `cancel`.
    async fn run_session(
        &self,
        cancel: &CancellationToken,
        failures: &mut FetchFailures,
        streak: &mut u32,
    ) -> Result<SessionEnd, ImapError> {
        let timeout = Duration::from_secs(self.defaults.command_timeout_secs);
        self.health.set_state(&self.mailbox.name, MailboxState::Syncing);
        // A session whose access token expires lives on (the server checked it at sign-in) until the server ends
        // it; the next connection then signs in with a fresh token.
        let mut session = connect_with(&self.imap, timeout, self.tokens.as_deref()).await?;
        let caps = Caps::read(&mut session, timeout).await?;
        tracing::debug!(mailbox = %self.mailbox.name, ?caps, "connected");
        let cx = SyncContext {
            pipeline: &self.pipeline,
            db: &self.db,
            mailbox: &self.mailbox,
            imap: &self.imap,
            caps,
            max_message_bytes: self.max_message_bytes,
            batch: self.defaults.fetch_batch as usize,
            timeout,
            lease: Some((self.share.owner().to_string(), self.lease_secs())),
        };
        // The session's one renewal clock: IDLE and polling renew the lease when it comes, whatever woke them before.
        let mut renew_at = self.first_renewal();
        loop {
            self.health.set_state(&self.mailbox.name, MailboxState::Syncing);
            let started = Instant::now();
            // What the server announced so far is seen by this sync; what it announces from here on (during the
            // sync, or while IDLE is being entered) makes the next IDLE return at once.
            while session.unsolicited_responses.try_recv().is_ok() {}
            let report = sync_once(&mut session, &cx, failures).await?;
            metrics::histogram!("deskmail_imap_sync_duration_seconds", "mailbox" => self.mailbox.name.clone())
                .record(started.elapsed().as_secs_f64());
            if report.fetched > 0 || report.skipped > 0 {
                tracing::info!(mailbox = %self.mailbox.name, fetched = report.fetched, created = report.created, skipped = report.skipped, "synced");
            }
            *streak = 0;
            self.health.synced(&self.mailbox.name);
            self.health.set_state(&self.mailbox.name, MailboxState::Idle);
            // A safe point: everything fetched is committed and no command is under way.
            if self.share.hand_back_due(&self.db, crate::domain::now()).await? {
                let _ = within(timeout, "LOGOUT", session.logout()).await;
                return Ok(SessionEnd::HandBack);
            }
            let (next, end) = if caps.idle && self.imap.idle {
                self.idle(session, &mut renew_at, cancel, timeout).await?
            } else {
                let end = self.poll_wait(&mut session, &mut renew_at, cancel, timeout).await?;
                (session, end)
            };
            session = next;
            if let Some(end) = end {
                let _ = within(timeout, "LOGOUT", session.logout()).await;
                return Ok(end);
            }
        }
    }
}

/// How long an IMAP session may go on after shutdown began.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Resolves `grace` after `cancel` was cancelled.
async fn cancelled_for(cancel: &CancellationToken, grace: Duration) {
    cancel.cancelled().await;
    tokio::time::sleep(grace).await;
}

/// Sleeps unless cancelled first; returns whether it was cancelled.
pub(super) async fn sleep_or_cancel(d: Duration, cancel: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = cancel.cancelled() => true,
    }
}

/// Exponential backoff from 1 s, capped, with jitter (50–100 % of the step).
pub fn backoff(attempt: u32, cap_secs: u64) -> Duration {
    let step = 1u64.checked_shl(attempt.saturating_sub(1).min(30)).unwrap_or(u64::MAX).min(cap_secs.max(1));
    let jitter = rand::rng().random_range(0.5..=1.0);
    Duration::from_secs_f64(step as f64 * jitter)
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        for (attempt, step) in [(1, 1.0), (2, 2.0), (4, 8.0), (20, 300.0)] {
            let d = backoff(attempt, 300).as_secs_f64();
            assert!(d >= step * 0.5 && d <= step, "attempt {attempt}: {d}");
        }
    }
}
