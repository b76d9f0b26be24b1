//! The sender worker: claim due deliveries with a lease, send outside any transaction, record the result.

use super::mailer::{self, SendError, Transport};
use crate::config::{ImapSettings, OutboundSettings, SmtpSettings};
use crate::db::outbox::{Attempt, Claimed};
use crate::db::{Db, DbError};
use crate::secretbox::{SecretBox, load_mailbox_settings};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Sends in flight at once.
pub const CONCURRENCY: usize = 16;
/// Deliveries claimed per step (four rounds of sends keep the pipe full); a claimed row whose send could no longer
/// finish within the lease is given back unattempted.
const CLAIM: i64 = 4 * CONCURRENCY as i64;

/// The longest one send may take (connect, TLS, AUTH and the SMTP dialogue, each with its own timeout); with a
/// short lease, half of it.
const SEND_BUDGET_SECS: i64 = 90;

/// How one mailbox sends during a step: its transport (or why it cannot) and, with `smtp.save_sent`, the IMAP
/// account and folder for the copy.
struct Route {
    transport: Result<Transport, SendError>,
    sent_copy: Option<(ImapSettings, String)>,
}

/// Transports by mailbox id, with the settings they were built from.
type TransportCache = HashMap<i64, (String, Transport)>;

/// The sender of one process.
#[derive(Clone)]
pub struct Sender {
    pub db: Db,
    pub settings: OutboundSettings,
    pub owner: String,
    pub wake: Arc<tokio::sync::Notify>,
    /// Decrypts mailbox passwords entered in the dashboard.
    pub secrets: SecretBox,
    transports: Arc<Mutex<TransportCache>>,
}

impl Sender {
    pub fn new(db: Db, settings: OutboundSettings, wake: Arc<tokio::sync::Notify>, secrets: SecretBox) -> Self {
        let owner = format!("sender:{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Self { db, settings, owner, wake, secrets, transports: Arc::default() }
    }

    /// One step: claims due deliveries and sends them; each result is recorded as soon as it is known,
    /// so a crash re-sends at most the mails in flight. Returns how many were attempted.
    pub async fn try_send(&self) -> Result<usize, DbError> {
        let now = crate::domain::now();
        let lease_until = now + self.settings.lease_secs as i64;
        let budget = SEND_BUDGET_SECS.min(self.settings.lease_secs as i64 / 2);
        let claimed = self.db.claim_deliveries(&self.owner, now, lease_until, CLAIM).await?;
        let n = claimed.len();
        let routes = &self.routes(&claimed).await;
        let saved = Mutex::new(std::collections::HashSet::new());
        let results: Vec<Result<(), DbError>> = futures::stream::iter(claimed)
            .map(|c| {
                let saved = &saved;
                let route = &routes[&c.mailbox_id];
                async move {
                    // A send that could outlive the lease is left for the next claim: another instance could
                    // take the row over meanwhile and send it a second time.
                    if crate::domain::now() + budget > lease_until {
                        return self.db.release_delivery(c.id, &self.owner).await;
                    }
                    let result = match &route.transport {
                        Ok(transport) => mailer::send(transport, &c.sender, &c.recipient, &c.raw).await,
                        Err(e) => Err(e.clone()),
                    };
                    let now = crate::domain::now();
                    let attempt = self.attempt(&c, result, now);
                    metrics::counter!("deskmail_outbound_attempts_total", "result" => attempt_name(&attempt))
                        .increment(1);
                    let recorded = self.db.record_attempt(c.id, &self.owner, &attempt, now).await?;
                    if !recorded {
                        // A bounce, an admin's retry or a lost lease changed the row meanwhile: theirs stands.
                        tracing::warn!(delivery = c.id, result = attempt_name(&attempt), "attempt result not recorded");
                    }
                    // The Sent-folder copy comes after the result is recorded: it may take a while and is optional.
                    let first_success = attempt == Attempt::Sent
                        && c.saved_at.is_none()
                        && saved.lock().expect("saved set").insert(c.outbound_id);
                    if let Some((imap, folder)) = route.sent_copy.as_ref().filter(|_| first_success) {
                        self.save_sent(&c, imap, folder).await;
                    }
                    Ok(())
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        results.into_iter().collect::<Result<Vec<()>, DbError>>()?;
        Ok(n)
    }

    fn attempt(&self, c: &Claimed, result: Result<(), SendError>, now: i64) -> Attempt {
        match result {
            Ok(()) => Attempt::Sent,
            Err(SendError::Permanent(error)) => {
                tracing::warn!(delivery = c.id, recipient = %c.recipient, %error, "delivery failed permanently");
                Attempt::Failed { error }
            }
            Err(SendError::Transient(error)) => {
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

    /// How each mailbox of the claimed deliveries sends: its settings are read (and decrypted) once per step.
    async fn routes(&self, claimed: &[Claimed]) -> HashMap<i64, Route> {
        let mut ids: Vec<i64> = claimed.iter().map(|c| c.mailbox_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut routes = HashMap::with_capacity(ids.len());
        for id in ids {
            routes.insert(id, self.route(id).await);
        }
        routes
    }

    async fn route(&self, mailbox_id: i64) -> Route {
        // Settings that do not work here (no SMTP yet, an unset password variable, an unreadable file) may be fixed
        // without touching the mail: retry with backoff rather than fail it, and build again next time.
        let unusable = |error: String| Route { transport: Err(SendError::Transient(error)), sent_copy: None };
        let json = match sqlx::query_scalar::<_, String>("select settings_json from mailboxes where id = $1")
            .bind(mailbox_id)
            .fetch_optional(self.db.pool())
            .await
        {
            Ok(json) => json.unwrap_or_default(),
            Err(e) => return unusable(format!("database: {e}")),
        };
        let settings = match load_mailbox_settings(&json, &self.secrets) {
            Ok(settings) => settings,
            Err(e) => return unusable(e.to_string()),
        };
        let Some(smtp) = settings.smtp else { return unusable("the mailbox has no SMTP settings".into()) };
        let sent_copy = settings.imap.filter(|_| smtp.save_sent).map(|imap| (imap, smtp.sent_folder.clone()));
        Route { transport: self.transport(mailbox_id, json, &smtp), sent_copy }
    }

    /// The mailbox's pooled transport, kept while its settings stay the same.
    fn transport(&self, mailbox_id: i64, json: String, smtp: &SmtpSettings) -> Result<Transport, SendError> {
        let mut cache = self.transports.lock().expect("transport cache");
        if let Some((cached_json, t)) = cache.get(&mailbox_id)
            && *cached_json == json
        {
            return Ok(t.clone());
        }
        let built = mailer::transport(smtp).map_err(|e| SendError::Transient(e.to_string()))?;
        cache.insert(mailbox_id, (json, built.clone()));
        Ok(built)
    }

    /// Appends the sent mail to the mailbox's Sent folder (best effort, logged).
    async fn save_sent(&self, c: &Claimed, imap: &ImapSettings, folder: &str) {
        match append_sent(imap, folder, &c.raw).await {
            Ok(()) => {
                let _ = self.db.mark_saved(c.outbound_id, crate::domain::now()).await;
            }
            Err(e) => {
                tracing::warn!(outbound = c.outbound_id, error = %crate::telemetry::chain(&e), "could not save the sent copy")
            }
        }
    }

    /// Runs until `cancel`: steps while there is work, otherwise waits for a wake-up or two seconds.
    pub async fn run(self, cancel: CancellationToken) {
        let mut failures = 0u32;
        while !cancel.is_cancelled() {
            let wait = match self.try_send().await {
                Ok(n) if n > 0 => {
                    failures = 0;
                    continue;
                }
                Ok(_) => Duration::from_secs(2),
                Err(e) => {
                    failures += 1;
                    tracing::error!(error = %crate::telemetry::chain(&e), "sender step failed");
                    Duration::from_secs(u64::from(failures.min(30)))
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {},
                _ = tokio::time::sleep(wait) => {},
                _ = cancel.cancelled() => {},
            }
        }
    }
}

async fn append_sent(imap: &ImapSettings, folder: &str, raw: &[u8]) -> Result<(), crate::ingest::imap::ImapError> {
    let timeout = Duration::from_secs(60);
    let mut session = crate::ingest::imap::connect::connect(imap, timeout).await?;
    let append = session.append(folder, Some("(\\Seen)"), None, raw);
    crate::ingest::imap::connect::within(timeout, "APPEND", append)
        .await?
        .map_err(crate::ingest::imap::ImapError::Protocol)?;
    let _ = session.logout().await;
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
