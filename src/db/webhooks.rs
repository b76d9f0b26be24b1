//! Webhook deliveries: queued by rules in their own transaction, claimed with a lease, retried with backoff.

use super::{Backend, Db, Result};
use sqlx::AnyConnection;

/// A webhook call to queue; the body and its signature are fixed here and sent unchanged on every attempt.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub rule_id: Option<i64>,
    pub ticket_id: Option<i64>,
    pub event_id: Option<i64>,
    pub url: &'a str,
    pub body: &'a str,
    /// The `X-Deskmail-Signature` value (`sha256=<hex>`).
    pub signature: &'a str,
}

/// Queues a delivery, due at once, in the caller's transaction; returns its id. Wake the sender after commit.
pub async fn enqueue(conn: &mut AnyConnection, d: &NewDelivery<'_>, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into webhook_deliveries (rule_id, ticket_id, event_id, url, body, signature, status, attempts, \
         next_attempt_at, created_at) values ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $7) returning id",
    )
    .bind(d.rule_id)
    .bind(d.ticket_id)
    .bind(d.event_id)
    .bind(d.url)
    .bind(d.body)
    .bind(d.signature)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

/// A claimed delivery with what posting it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedWebhook {
    pub id: i64,
    pub url: String,
    pub body: String,
    pub signature: String,
    /// Attempts before this one.
    pub attempts: i64,
}

/// The result of one attempt; `status` is the HTTP status when the endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAttempt {
    Sent {
        status: i64,
    },
    /// Try again at `at`.
    Retry {
        at: i64,
        status: Option<i64>,
        error: String,
    },
    /// No further attempts.
    Failed {
        status: Option<i64>,
        error: String,
    },
}

/// Due deliveries (queued, or sending under an expired lease), longest waiting first, leased to `$1` until `$2`.
const CLAIM: &str = "update webhook_deliveries set status = 'sending', lease_owner = $1, lease_until = $2 \
     where id in (select id from webhook_deliveries where status in ('queued', 'sending') and next_attempt_at <= $3 \
     and (lease_until is null or lease_until < $3) order by next_attempt_at, id limit $4";

impl Db {
    /// Claims up to `limit` due deliveries for `owner` until `lease_until` (SKIP LOCKED on PostgreSQL).
    pub async fn claim_webhooks(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<ClaimedWebhook>> {
        let sql = sqlx::AssertSqlSafe(match self.backend() {
            Backend::Sqlite => format!("{CLAIM}) returning id, url, body, signature, attempts"),
            Backend::Postgres => {
                format!("{CLAIM} for update skip locked) returning id, url, body, signature, attempts")
            }
        });
        let mut tx = self.begin().await?;
        let mut rows: Vec<ClaimedWebhook> =
            sqlx::query_as(sql).bind(owner).bind(lease_until).bind(now).bind(limit).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        // `returning` follows no order; oldest first keeps logs and tests readable.
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Whether a delivery is due and not leased (a read, so an idle sender takes no write lock).
    pub async fn webhooks_due(&self, now: i64) -> Result<bool> {
        let due: Option<i64> = sqlx::query_scalar(
            "select id from webhook_deliveries where status in ('queued', 'sending') and next_attempt_at <= $1 \
             and (lease_until is null or lease_until < $1) limit 1",
        )
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        Ok(due.is_some())
    }

    /// Records an attempt while the lease is still ours (an admin's retry meanwhile stands); false when not recorded.
    pub async fn record_webhook(&self, id: i64, owner: &str, attempt: &WebhookAttempt, now: i64) -> Result<bool> {
        let (status, next, code, error, sent_at) = match attempt {
            WebhookAttempt::Sent { status } => ("sent", now, Some(*status), None, Some(now)),
            WebhookAttempt::Retry { at, status, error } => ("queued", *at, *status, Some(error.as_str()), None),
            WebhookAttempt::Failed { status, error } => ("failed", now, *status, Some(error.as_str()), None),
        };
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update webhook_deliveries set status = $3, attempts = attempts + 1, next_attempt_at = $4, last_status = $5, \
             last_error = $6, sent_at = $7, lease_owner = null, lease_until = null \
             where id = $1 and lease_owner = $2 and status = 'sending'",
        )
        .bind(id)
        .bind(owner)
        .bind(status)
        .bind(next)
        .bind(code)
        .bind(error)
        .bind(sent_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// Gives a claimed delivery back unattempted (shutdown), for the next claim.
    pub async fn release_webhook(&self, id: i64, owner: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "update webhook_deliveries set status = 'queued', lease_owner = null, lease_until = null \
             where id = $1 and lease_owner = $2 and status = 'sending'",
        )
        .bind(id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a queued or failed delivery due now; a failed one starts a new series of attempts. False when there is
    /// no such delivery or it was sent or is being sent.
    pub async fn retry_webhook(&self, id: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update webhook_deliveries set next_attempt_at = $2, \
             attempts = case when status = 'failed' then 0 else attempts end, status = 'queued' \
             where id = $1 and status in ('queued', 'failed')",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The latest deliveries, newest first, with their rule's name and ticket number when they still exist.
    pub async fn webhook_deliveries(&self, limit: i64) -> Result<Vec<WebhookRow>> {
        Ok(sqlx::query_as(
            "select d.id, d.rule_id, r.name as rule_name, t.number as ticket_number, d.event_id, d.url, d.status, \
             d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.sent_at \
             from webhook_deliveries d left join rules r on r.id = d.rule_id left join tickets t on t.id = d.ticket_id \
             order by d.id desc limit $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }
}

/// A delivery as listed for admins.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub rule_id: Option<i64>,
    pub rule_name: Option<String>,
    pub ticket_number: Option<i64>,
    pub event_id: Option<i64>,
    pub url: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}
