//! Rule webhooks: the signature, and the sender — claim due deliveries with a lease, POST each outside any
//! transaction within a bounded time, record the result (2xx: sent; any other answer, a timeout or a connection
//! error: retried with backoff, then failed). The loop (`webhook_loop`) keeps a few requests in flight.

use crate::db::webhooks::{ClaimedWebhook, WebhookAttempt};
use crate::db::{Db, DbError};
use crate::platform::config::WebhookSettings;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The header carrying [`sign`]'s value.
pub const SIGNATURE_HEADER: &str = "X-Deskmail-Signature";
/// The header carrying the delivery's id (the same on every attempt: receivers can drop repeats).
pub const DELIVERY_HEADER: &str = "X-Deskmail-Delivery";

/// Seconds before the next attempt, after the 1st, 2nd, … failed one; the last repeats.
const RETRY_DELAYS: [u64; 5] = [30, 120, 600, 3600, 6 * 3600];

/// How much of an error answer's body is read (for the error text); the rest is never read.
const ERROR_BODY_CAP: usize = 512;

/// `sha256=<hex of HMAC-SHA256(secret, body)>`, the `X-Deskmail-Signature` value.
pub fn sign(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac accepts any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Seconds to wait after `attempts` attempts that failed (30 s, 2 min, 10 min, 1 h, then 6 h).
pub fn retry_delay(attempts: u32) -> u64 {
    RETRY_DELAYS[(attempts.max(1) as usize - 1).min(RETRY_DELAYS.len() - 1)]
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing was due.
    EmptyQueue,
    /// The deliveries attempted (id and result), oldest first. A delivery given back unattempted
    /// at shutdown is left out.
    Attempted(Vec<(i64, WebhookAttempt)>),
}

/// The webhook sender of one process. Cheap to clone.
#[derive(Clone)]
pub struct WebhookSender {
    pub db: Db,
    pub settings: WebhookSettings,
    /// This process's name on leases.
    pub owner: String,
    /// Notified after a commit that queued (or an admin retried) a delivery.
    pub wake: Arc<tokio::sync::Notify>,
    client: reqwest::Client,
    /// Cancelled a little after shutdown began: requests still running then are given back unattempted.
    pub(super) abort: CancellationToken,
}

/// Why a POST did not succeed.
enum PostError {
    /// The endpoint answered something other than 2xx.
    Answer { status: u16, error: String },
    /// No answer: a timeout, a refused connection, TLS, a broken response.
    Transport(String),
    /// The request cannot be made at all (a malformed URL): retrying would not help.
    Invalid(String),
}

impl WebhookSender {
    /// A sender posting with the timeouts of `settings`; woken by `wake`.
    pub fn new(db: Db, settings: WebhookSettings, wake: Arc<tokio::sync::Notify>) -> Result<Self, String> {
        let timeout = Duration::from_secs(settings.timeout_secs.max(1));
        let connect = Duration::from_secs((settings.timeout_secs / 2).max(1));
        let client = crate::net::http::client(connect, timeout, concat!("deskmail/", env!("CARGO_PKG_VERSION")))?;
        let owner = format!("webhooks:{}:{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Ok(Self { db, settings, owner, wake, client, abort: CancellationToken::new() })
    }

    /// Wakes the loop (after a commit that queued a delivery, or an admin's retry).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// One step: claims up to `concurrency` due deliveries and posts them side by side; each result is recorded as
    /// soon as it is known, so a slow endpoint delays nobody else's record.
    pub async fn try_deliver(&self) -> Result<Outcome, DbError> {
        let claimed = self.claim(self.settings.concurrency.max(1)).await?;
        if claimed.is_empty() {
            return Ok(Outcome::EmptyQueue);
        }
        let done = futures::future::join_all(claimed.into_iter().map(|c| self.deliver(c))).await;
        let done: Vec<Option<(i64, WebhookAttempt)>> = done.into_iter().collect::<Result<_, _>>()?;
        Ok(Outcome::Attempted(done.into_iter().flatten().collect()))
    }

    /// Claims up to `limit` due deliveries, leased for longer than one request may take.
    pub(super) async fn claim(&self, limit: usize) -> Result<Vec<ClaimedWebhook>, DbError> {
        let now = crate::domain::now();
        let lease_until = now + self.settings.timeout_secs as i64 * 2 + 30;
        self.db.claim_webhooks(&self.owner, now, lease_until, limit as i64).await
    }

    /// Posts one claimed delivery and records the result; `None` when it was given back (shutdown).
    pub(super) async fn deliver(&self, c: ClaimedWebhook) -> Result<Option<(i64, WebhookAttempt)>, DbError> {
        // The client's own timeout ends the request; this one only guards against a step that ignores it.
        let budget = Duration::from_secs(self.settings.timeout_secs.max(1) + 2);
        let result = tokio::select! {
            r = tokio::time::timeout(budget, self.post(&c)) => r.unwrap_or_else(|_| Err(PostError::Transport(self.timed_out()))),
            _ = self.abort.cancelled() => {
                self.db.release_webhook(c.id, &self.owner).await?;
                return Ok(None);
            }
        };
        let now = crate::domain::now();
        let attempt = self.attempt(&c, result, now);
        metrics::counter!("deskmail_webhook_attempts_total", "result" => attempt_name(&attempt)).increment(1);
        if !self.db.record_webhook(c.id, &self.owner, &attempt, now).await? {
            // An admin's retry or a lost lease changed the row meanwhile: theirs stands.
            tracing::warn!(delivery = c.id, result = attempt_name(&attempt), "webhook result not recorded");
        }
        Ok(Some((c.id, attempt)))
    }

    /// One POST of the stored body with its signature; the 2xx status on success.
    #[tracing::instrument(skip_all, fields(delivery = c.id))]
    async fn post(&self, c: &ClaimedWebhook) -> Result<u16, PostError> {
        let request = self
            .client
            .post(c.url.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, c.signature.as_str())
            .header(DELIVERY_HEADER, c.id.to_string())
            .body(c.body.clone());
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(status.as_u16());
        }
        let prefix = crate::net::http::body_prefix(response, ERROR_BODY_CAP).await;
        Err(PostError::Answer { status: status.as_u16(), error: answer_error(status, &prefix) })
    }

    fn transport_error(&self, e: reqwest::Error) -> PostError {
        let e = e.without_url();
        if e.is_builder() {
            PostError::Invalid(format!("invalid request: {}", crate::platform::telemetry::chain(&e)))
        } else if e.is_timeout() {
            PostError::Transport(self.timed_out())
        } else if e.is_connect() {
            PostError::Transport(format!("cannot connect: {}", crate::platform::telemetry::chain(&e)))
        } else {
            PostError::Transport(format!("request failed: {}", crate::platform::telemetry::chain(&e)))
        }
    }

    fn timed_out(&self) -> String {
        format!("timed out: no complete answer within {} s", self.settings.timeout_secs.max(1))
    }

    /// The result to record: sent, retried after the backoff, or failed (a bad URL, or the last attempt).
    fn attempt(&self, c: &ClaimedWebhook, result: Result<u16, PostError>, now: i64) -> WebhookAttempt {
        let (status, error) = match result {
            Ok(status) => return WebhookAttempt::Sent { status: i64::from(status) },
            Err(PostError::Invalid(error)) => {
                tracing::warn!(delivery = c.id, %error, "webhook failed");
                return WebhookAttempt::Failed { status: None, error };
            }
            Err(PostError::Answer { status, error }) => (Some(i64::from(status)), error),
            Err(PostError::Transport(error)) => (None, error),
        };
        let attempts = u32::try_from(c.attempts).unwrap_or(u32::MAX).saturating_add(1);
        if attempts >= self.settings.max_attempts.max(1) {
            let error = format!("gave up after {attempts} attempts: {error}");
            tracing::warn!(delivery = c.id, %error, "webhook failed");
            return WebhookAttempt::Failed { status, error };
        }
        let at = now + retry_delay(attempts) as i64;
        tracing::info!(delivery = c.id, %error, retry_in = at - now, "webhook deferred");
        WebhookAttempt::Retry { at, status, error }
    }
}

/// `HTTP 500 Internal Server Error: {the start of the body}`, on one line.
fn answer_error(status: reqwest::StatusCode, body: &[u8]) -> String {
    let mut error = format!("HTTP {status}");
    if status.is_redirection() {
        error.push_str(" (redirects are not followed)");
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !text.is_empty() {
        error.push_str(": ");
        error.push_str(&text);
    }
    error
}

fn attempt_name(a: &WebhookAttempt) -> &'static str {
    match a {
        WebhookAttempt::Sent { .. } => "sent",
        WebhookAttempt::Retry { .. } => "retry",
        WebhookAttempt::Failed { .. } => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        let want = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(sign("Jefe", "what do ya want for nothing?"), want);
    }

    #[test]
    fn retries_wait_thirty_seconds_then_longer_up_to_six_hours() {
        let delays: Vec<u64> = (1..=7).map(retry_delay).collect();
        assert_eq!(delays, [30, 120, 600, 3600, 21600, 21600, 21600]);
        assert_eq!(retry_delay(0), 30);
    }

    #[test]
    fn an_error_answer_is_one_short_line() {
        let e = answer_error(reqwest::StatusCode::BAD_GATEWAY, b"upstream\r\n  down\x00");
        assert_eq!(e, "HTTP 502 Bad Gateway: upstream down");
        let e = answer_error(reqwest::StatusCode::MOVED_PERMANENTLY, b"");
        assert_eq!(e, "HTTP 301 Moved Permanently (redirects are not followed)");
    }
}
