//! The sender worker: claim a mailbox's due deliveries with a lease, send outside any transaction, record each
//! result. Each mailbox sends in its own lane (see `lanes`), so a stalled server holds up only its own mail.

use super::recorder::Recorder;
use crate::db::outbox::{Attempt, Claimed};
use crate::db::{Db, DbError};
use crate::net::oauth::{OAuthTokens, TokenSource};
use crate::net::smtp::{SendError, SmtpClient};
use crate::platform::config::{ImapSettings, OutboundSettings, SmtpSettings};
use crate::platform::secretbox::{SecretBox, load_mailbox_settings};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Rounds of sends claimed per step: the lease budget, not the claim size, keeps sends inside the lease.
const ROUNDS: i64 = 8;

/// The longest one send may take (every step has its own timeout too); with a short lease, half of it. A send
/// still running then is abandoned and retried like a 4xx: the lease must not run out under it.
const SEND_BUDGET_SECS: i64 = 90;

/// How one mailbox sends during a step: its client (or why it cannot) and, with `smtp.save_sent`, the IMAP
/// account and folder for the copy.
struct Route {
    client: Result<SmtpClient, SendError>,
    sent_copy: Option<(ImapSettings, String)>,
    /// Access tokens of a mailbox signing in with OAuth2 (also for the Sent copy).
    tokens: Option<Arc<TokenSource>>,
}

/// One step's claimed deliveries and what its sessions share.
struct Step<'a> {
    queue: Mutex<VecDeque<Claimed>>,
    route: Route,
    lease_until: i64,
    /// Outbound mails already copied to the Sent folder in this step (one copy for several recipients).
    saved: Mutex<HashSet<i64>>,
    recorder: Recorder<'a>,
}

/// Whether a session goes on to the next delivery.
enum Flow {
    Next,
    Stop,
}

/// Clients by mailbox id, with the settings they were built from.
type ClientCache = HashMap<i64, (String, SmtpClient)>;

/// The sender of one process.
#[derive(Clone)]
pub struct Sender {
    pub db: Db,
    pub settings: OutboundSettings,
    pub owner: String,
    pub wake: Arc<tokio::sync::Notify>,
    /// Decrypts mailbox passwords entered in the dashboard.
    pub secrets: SecretBox,
    /// Access tokens of the mailboxes that sign in with OAuth2 (shared with their pollers).
    pub oauth: OAuthTokens,
    /// Cancelled a few seconds after shutdown began: sends still running then are given back unattempted.
    pub(super) abort: CancellationToken,
    clients: Arc<Mutex<ClientCache>>,
}

impl Sender {
    pub fn new(
        db: Db,
        settings: OutboundSettings,
        wake: Arc<tokio::sync::Notify>,
        secrets: SecretBox,
        oauth: OAuthTokens,
    ) -> Self {
        let owner = format!("sender:{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Self { db, settings, owner, wake, secrets, oauth, abort: CancellationToken::new(), clients: Arc::default() }
    }

    /// One step over every mailbox with due mail (each as in [`Sender::try_send_mailbox`], side by side).
    pub async fn try_send(&self) -> Result<usize, DbError> {
        let due = self.db.mailboxes_with_due_deliveries(crate::domain::now()).await?;
        let steps = futures::future::join_all(due.into_iter().map(|id| self.try_send_mailbox(id))).await;
        steps.into_iter().try_fold(0, |sum, n| Ok(sum + n?))
    }

    /// One step of one mailbox: claims its due deliveries and sends them over the mailbox's sessions, each session
    /// taking the next delivery when its last result is recorded (results that coincide share one transaction), so
    /// a crash re-sends at most the mails in flight. Returns how many were claimed.
    pub async fn try_send_mailbox(&self, mailbox_id: i64) -> Result<usize, DbError> {
        let route = self.route(mailbox_id).await;
        let concurrency = route.client.as_ref().map_or(1, SmtpClient::concurrency);
        let now = crate::domain::now();
        let lease_until = now + self.settings.lease_secs as i64;
        let limit = ROUNDS * concurrency as i64;
        let claimed = self.db.claim_deliveries_of(Some(mailbox_id), &self.owner, now, lease_until, limit).await?;
        let n = claimed.len();
        let step = Step {
            queue: Mutex::new(claimed.into()),
            route,
            lease_until,
            saved: Mutex::default(),
            recorder: Recorder::new(&self.db, &self.owner),
        };
        let sessions = (0..concurrency.min(n)).map(|_| self.session(&step));
        let results = futures::future::join_all(sessions).await;
        // Deliveries left when every session stopped (the server took no more, the database failed) go back.
        let left: Vec<Claimed> = step.queue.into_inner().expect("step queue").into();
        for c in left {
            self.db.release_delivery(c.id, &self.owner).await?;
        }
        results.into_iter().collect::<Result<Vec<()>, DbError>>()?;
        Ok(n)
    }

    /// One session's share of a step: the next delivery until none is left or the session must stop.
    async fn session(&self, step: &Step<'_>) -> Result<(), DbError> {
        loop {
            let Some(c) = step.queue.lock().expect("step queue").pop_front() else { return Ok(()) };
            if let Flow::Stop = self.deliver(c, step).await? {
                return Ok(());
            }
        }
    }

    /// Sends one claimed delivery within what is left of its lease and records the result.
    async fn deliver(&self, c: Claimed, step: &Step<'_>) -> Result<Flow, DbError> {
        let budget = SEND_BUDGET_SECS.min(self.settings.lease_secs as i64 / 2);
        // A send that could outlive the lease is left for the next claim: another instance could take the row over
        // meanwhile and send it a second time.
        if crate::domain::now() + budget > step.lease_until || self.abort.is_cancelled() {
            self.db.release_delivery(c.id, &self.owner).await?;
            return Ok(Flow::Next);
        }
        let send = async {
            match &step.route.client {
                Ok(client) => client.send(&c.sender, &c.recipient, &c.raw).await,
                Err(e) => Err(e.clone()),
            }
        };
        let result = tokio::select! {
            r = tokio::time::timeout(Duration::from_secs(budget as u64), send) => r.unwrap_or_else(|_| {
                Err(SendError::Transient(format!("abandoned: no result within {budget} s; the lease must not run out")))
            }),
            _ = self.abort.cancelled() => {
                self.db.release_delivery(c.id, &self.owner).await?;
                return Ok(Flow::Stop);
            }
        };
        if let Err(SendError::Busy(why)) = &result {
            // Not attempted: the sessions still open send it.
            tracing::debug!(delivery = c.id, %why, "the server takes no more sessions");
            step.queue.lock().expect("step queue").push_front(c);
            return Ok(Flow::Stop);
        }
        let now = crate::domain::now();
        let attempt = self.attempt(&c, result, now);
        metrics::counter!("deskmail_outbound_attempts_total", "result" => attempt_name(&attempt)).increment(1);
        let sent = attempt == Attempt::Sent;
        match step.recorder.record(c.id, attempt).await? {
            None => return Ok(Flow::Stop),
            // A bounce, an admin's retry or a lost lease changed the row meanwhile: theirs stands.
            Some(false) => tracing::warn!(delivery = c.id, sent, "attempt result not recorded"),
            Some(true) => {}
        }
        // The Sent-folder copy comes after the result is recorded: it may take a while and is optional.
        let first_success = sent && c.saved_at.is_none() && step.saved.lock().expect("saved set").insert(c.outbound_id);
        if let Some((imap, folder)) = step.route.sent_copy.as_ref().filter(|_| first_success) {
            self.save_sent(&c, imap, folder, step.route.tokens.as_deref()).await;
        }
        Ok(Flow::Next)
    }

    fn attempt(&self, c: &Claimed, result: Result<(), SendError>, now: i64) -> Attempt {
        match result {
            Ok(()) => Attempt::Sent,
            Err(SendError::Permanent(error)) => {
                tracing::warn!(delivery = c.id, recipient = %c.recipient, %error, "delivery failed permanently");
                Attempt::Failed { error }
            }
            Err(SendError::Transient(error) | SendError::Busy(error)) => {
                let attempts = c.attempts as u32 + 1;
                let at =
                    now + retry_delay(attempts, self.settings.retry_initial_secs, self.settings.retry_cap_secs) as i64;
                let deadline = c.queued_at + self.settings.retry_max_hours as i64 * 3600;
                if at > deadline {
                    let error = format!("gave up after {attempts} attempts: {error}");
                    tracing::warn!(delivery = c.id, recipient = %c.recipient, %error, "delivery failed");
                    Attempt::Failed { error }
                } else {
                    tracing::info!(delivery = c.id, recipient = %c.recipient, %error, retry_in = at - now, "delivery deferred");
                    Attempt::Retry { at, error }
                }
            }
        }
    }

    /// How a mailbox sends: its settings are read (and decrypted) once per step.
    async fn route(&self, mailbox_id: i64) -> Route {
        // Settings that do not work here (no SMTP yet, an unset password variable, an unreadable file) may be fixed
        // without touching the mail: retry with backoff rather than fail it, and build again next time.
        let unusable =
            |error: String| Route { client: Err(SendError::Transient(error)), sent_copy: None, tokens: None };
        let (name, json) = match self.db.mailbox_by_id(mailbox_id).await {
            Ok(row) => (row.name, row.settings_json),
            Err(e) => return unusable(format!("database: {e}")),
        };
        let settings = match load_mailbox_settings(&json, &self.secrets) {
            Ok(settings) => settings,
            Err(e) => return unusable(e.to_string()),
        };
        let tokens = match self.oauth.source(mailbox_id, &name, &settings) {
            Ok(tokens) => tokens,
            Err(e) => return unusable(e),
        };
        let Some(smtp) = settings.smtp else { return unusable("the mailbox has no SMTP settings".into()) };
        let sent_copy = settings.imap.filter(|_| smtp.save_sent).map(|imap| (imap, smtp.sent_folder.clone()));
        Route { client: self.client(mailbox_id, json, &smtp, tokens.clone()), sent_copy, tokens }
    }

    /// The mailbox's client (and its pool of sessions), kept while its settings stay the same.
    fn client(
        &self,
        mailbox_id: i64,
        json: String,
        smtp: &SmtpSettings,
        tokens: Option<Arc<TokenSource>>,
    ) -> Result<SmtpClient, SendError> {
        let mut cache = self.clients.lock().expect("client cache");
        if let Some((cached_json, client)) = cache.get(&mailbox_id)
            && *cached_json == json
        {
            return Ok(client.clone());
        }
        let built = SmtpClient::new(smtp, tokens)?;
        cache.insert(mailbox_id, (json, built.clone()));
        Ok(built)
    }

    /// Appends the sent mail to the mailbox's Sent folder (best effort, logged).
    async fn save_sent(&self, c: &Claimed, imap: &ImapSettings, folder: &str, tokens: Option<&TokenSource>) {
        match append_sent(imap, folder, &c.raw, tokens).await {
            Ok(()) => {
                let _ = self.db.mark_saved(c.outbound_id, crate::domain::now()).await;
            }
            Err(e) => {
                tracing::warn!(outbound = c.outbound_id, error = %crate::platform::telemetry::chain(&e), "could not save the sent copy")
            }
        }
    }
}

async fn append_sent(
    imap: &ImapSettings,
    folder: &str,
    raw: &[u8],
    tokens: Option<&TokenSource>,
) -> Result<(), crate::net::imap::ImapNetError> {
    use crate::net::imap::{ImapNetError, connect_with, within};
    let timeout = Duration::from_secs(30);
    let mut session = connect_with(imap, timeout, tokens).await?;
    let append = session.append(folder, Some("(\\Seen)"), None, raw);
    within(timeout, "APPEND", append).await?.map_err(ImapNetError::Protocol)?;
    let _ = within(timeout, "LOGOUT", session.logout()).await;
    Ok(())
}

fn attempt_name(a: &Attempt) -> &'static str {
    match a {
        Attempt::Sent => "sent",
        Attempt::Retry { .. } => "retry",
        Attempt::Failed { .. } => "failed",
    }
}

/// Seconds before attempt `n + 1`: `initial` doubling, capped.
pub fn retry_delay(attempts: u32, initial: u64, cap: u64) -> u64 {
    initial.saturating_mul(1u64 << attempts.saturating_sub(1).min(40)).min(cap.max(initial))
}

#[cfg(test)]
mod tests {
    use super::retry_delay;

    #[test]
    fn retries_double_from_a_minute_to_six_hours() {
        assert_eq!(retry_delay(1, 60, 21600), 60);
        assert_eq!(retry_delay(2, 60, 21600), 120);
        assert_eq!(retry_delay(9, 60, 21600), 15360);
        assert_eq!(retry_delay(10, 60, 21600), 21600);
        assert_eq!(retry_delay(64, 60, 21600), 21600);
    }
}
