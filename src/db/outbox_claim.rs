//! Claiming due deliveries with a lease, and recording what their attempts gave (one transaction for many).

use super::super::{Backend, Db, Result};
use sqlx::AnyConnection;

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub outbound_id: i64,
    pub recipient: String,
    pub attempts: i64,
    pub queued_at: i64,
    pub mailbox_id: i64,
    pub sender: String,
    pub raw: Vec<u8>,
    pub saved_at: Option<i64>,
    pub ticket_id: Option<i64>,
}

/// The outcome of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Try again at this time.
    Retry {
        at: i64,
        error: String,
    },
    Failed {
        error: String,
    },
}

/// Due queued deliveries (of one mailbox when `$5` is not 0), earliest due first (then oldest), leased to `$1` until
/// `$2`. In the order of the `deliveries_due` index, so a claim reads about as many rows as it takes, however long
/// the queue (ordered by id, a 2,000-mail backlog was read and sorted whole by every claim, inside the write lock).
const CLAIM: &str = "update deliveries set status = 'sending', lease_owner = $1, lease_until = $2, updated_at = $3 \
     where id in (select d.id from deliveries d join outbound_mails o on o.id = d.outbound_id \
     where d.status = 'queued' and d.next_attempt_at <= $3 and (d.lease_until is null or d.lease_until < $3) \
     and ($5 = 0 or o.mailbox_id = $5) order by d.next_attempt_at, d.id limit $4";

/// Deliveries whose sending lease ran out at `$1` (their instance died or stalled mid-send) back to the queue, so
/// the claim that follows in the same transaction takes them with the rest.
const REQUEUE_EXPIRED: &str = "update deliveries set status = 'queued', lease_owner = null, lease_until = null \
     where id in (select id from deliveries where status = 'sending' and lease_until < $1";

/// What sending a claimed delivery needs, for the ids `$2…` still leased to `$1`.
const CLAIMED: &str = "select d.id, d.outbound_id, d.recipient, d.attempts, d.queued_at, o.mailbox_id, o.sender, o.raw, \
     o.saved_at, o.ticket_id from deliveries d join outbound_mails o on o.id = d.outbound_id where d.lease_owner = $1 and d.id in";

/// The statements of a claim on `backend`: expired leases back to the queue (bound: now), then the claim itself
/// (bound: owner, lease end, now, limit, mailbox id or 0), which returns the ids it leased.
pub fn claim_sql(backend: Backend) -> (String, String) {
    match backend {
        Backend::Sqlite => (format!("{REQUEUE_EXPIRED})"), format!("{CLAIM}) returning id")),
        Backend::Postgres => (
            format!("{REQUEUE_EXPIRED} for update skip locked)"),
            format!("{CLAIM} for update of d skip locked) returning id"),
        ),
    }
}

impl Db {
    /// Claims up to `limit` due deliveries for `owner` until `lease_until` (SKIP LOCKED on PostgreSQL).
    pub async fn claim_deliveries(&self, owner: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Claimed>> {
        self.claim_deliveries_of(None, owner, now, lease_until, limit).await
    }

    /// Like [`Db::claim_deliveries`], only deliveries of mail from one mailbox when `mailbox_id` is given. The rows
    /// are read in one query after the claim commits, oldest first.
    pub async fn claim_deliveries_of(
        &self,
        mailbox_id: Option<i64>,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>> {
        let (requeue, sql) = claim_sql(self.backend());
        let mut tx = self.begin().await?;
        sqlx::query(sqlx::AssertSqlSafe(requeue)).bind(now).execute(&mut *tx).await?;
        let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .bind(mailbox_id.unwrap_or(0))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = (2..ids.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let sql = sqlx::AssertSqlSafe(format!("{CLAIMED} ({list}) order by d.id"));
        let query = ids.iter().fold(sqlx::query_as(sql).bind(owner), |q, id| q.bind(*id));
        Ok(query.fetch_all(self.pool()).await?)
    }

    /// The mailboxes with deliveries due now and not leased: each gets its own sending lane.
    pub async fn mailboxes_with_due_deliveries(&self, now: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "select distinct o.mailbox_id from deliveries d join outbound_mails o on o.id = d.outbound_id \
             where d.status in ('queued', 'sending') and d.next_attempt_at <= $1 and (d.lease_until is null or d.lease_until < $1)",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?)
    }

    /// Records the result of an attempt, only while the lease is still ours and no bounce or admin changed the
    /// delivery meanwhile; false when the result was not recorded.
    pub async fn record_attempt(&self, id: i64, owner: &str, attempt: &Attempt, now: i64) -> Result<bool> {
        let done = self.record_attempts(owner, &[(id, attempt.clone())], now).await?;
        Ok(done.first().copied().unwrap_or(false))
    }

    /// Records several attempts' results in one transaction (as [`Db::record_attempt`] each); for each, whether it
    /// was recorded.
    pub async fn record_attempts(&self, owner: &str, results: &[(i64, Attempt)], now: i64) -> Result<Vec<bool>> {
        let mut tx = self.begin().await?;
        let done = record_attempts_in(&mut tx, owner, results, now).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Gives a claimed delivery back unattempted, for the next claim (this or another instance).
    pub async fn release_delivery(&self, id: i64, owner: &str) -> Result<()> {
        sqlx::query(
            "update deliveries set status = 'queued', lease_owner = null, lease_until = null \
             where id = $1 and lease_owner = $2 and status = 'sending'",
        )
        .bind(id)
        .bind(owner)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }
}

/// Records attempts' results in the caller's transaction (see [`Db::record_attempts`]).
pub async fn record_attempts_in(
    conn: &mut AnyConnection,
    owner: &str,
    results: &[(i64, Attempt)],
    now: i64,
) -> Result<Vec<bool>> {
    let mut done = Vec::with_capacity(results.len());
    for (id, attempt) in results {
        done.push(record(&mut *conn, *id, owner, attempt, now).await?);
    }
    Ok(done)
}

async fn record(conn: &mut AnyConnection, id: i64, owner: &str, attempt: &Attempt, now: i64) -> Result<bool> {
    let (status, next, error, sent_at) = match attempt {
        Attempt::Sent => ("sent", now, None, Some(now)),
        Attempt::Retry { at, error } => ("queued", *at, Some(error.as_str()), None),
        Attempt::Failed { error } => ("failed", now, Some(error.as_str()), None),
    };
    let done = sqlx::query(
        "update deliveries set status = $3, attempts = attempts + 1, next_attempt_at = $4, last_error = $5, sent_at = $6, \
         lease_owner = null, lease_until = null, updated_at = $7 where id = $1 and lease_owner = $2 and status = 'sending'",
    )
    .bind(id)
    .bind(owner)
    .bind(status)
    .bind(next)
    .bind(error)
    .bind(sent_at)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
