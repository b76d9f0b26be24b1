//! The outbox: rendered outbound mails and their per-recipient deliveries, claimed with a lease.

use super::{Db, Result};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Executor};

#[path = "outbox_claim.rs"]
mod claim;
pub use claim::{Attempt, Claimed, claim_sql, record_attempts_in};

/// Fields of a new outbound mail.
#[derive(Debug, Clone)]
pub struct NewOutbound<'a> {
    pub ticket_id: Option<i64>,
    pub message_id: Option<i64>,
    pub mailbox_id: i64,
    pub kind: crate::domain::TemplateKind,
    pub header_message_id: &'a str,
    pub sender: &'a str,
    pub raw: &'a [u8],
    pub automatic: bool,
    /// The first attempt not before this time (else at once).
    pub send_after: Option<i64>,
}

/// The columns of an outbound mail as queued (after its `id`).
const OUTBOUND_COLUMNS: &str = "ticket_id, message_id, mailbox_id, kind, header_message_id, sender, raw, automatic, \
     created_at";

/// Stores an outbound mail and one queued delivery per recipient; returns the mail's id.
pub async fn enqueue(conn: &mut AnyConnection, m: &NewOutbound<'_>, recipients: &[String], now: i64) -> Result<i64> {
    let sql = format!("insert into outbound_mails ({OUTBOUND_COLUMNS}) values ({}) returning id", super::marks(1, 9));
    let row = bind_outbound(sqlx::query(sqlx::AssertSqlSafe(sql)), m, now).fetch_one(&mut *conn).await?;
    let id: i64 = sqlx::Row::try_get(&row, 0)?;
    let next = m.send_after.unwrap_or(now).max(now);
    let deliveries: Vec<(i64, &str, i64)> = recipients.iter().map(|r| (id, r.as_str(), next)).collect();
    insert_deliveries(conn, &deliveries, now).await?;
    Ok(id)
}

/// Stores several outbound mails, each with its queued deliveries (`(mail, recipients)`): ids drawn by
/// [`super::draw_ids`], then one statement per 32 mails and one per 64 deliveries (an ingest batch's
/// acknowledgements, instead of two round trips each).
pub async fn enqueue_all(conn: &mut AnyConnection, mails: &[(NewOutbound<'_>, &[String])], now: i64) -> Result<()> {
    if mails.is_empty() {
        return Ok(());
    }
    let ids = super::draw_ids(conn, super::DrawnIds::Outbound, mails.len(), 0).await?;
    let rows: Vec<(i64, &NewOutbound)> = ids.iter().copied().zip(mails.iter().map(|(m, _)| m)).collect();
    for chunk in super::insert_chunks(&rows, 32) {
        let sql = super::wide_sql(conn, "outbound_mails", chunk.len(), || {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", super::marks(10 * i + 1, 10))).collect();
            format!("insert into outbound_mails (id, {OUTBOUND_COLUMNS}) values {}", rows.join(", "))
        });
        let mut q = sqlx::query(sql);
        for (id, m) in chunk {
            q = bind_outbound(q.bind(*id), m, now);
        }
        q.execute(&mut *conn).await?;
    }
    let deliveries: Vec<(i64, &str, i64)> = ids
        .iter()
        .zip(mails)
        .flat_map(|(id, (m, to))| to.iter().map(move |r| (*id, r.as_str(), m.send_after.unwrap_or(now).max(now))))
        .collect();
    insert_deliveries(conn, &deliveries, now).await
}

/// Binds the values of [`OUTBOUND_COLUMNS`].
fn bind_outbound<'q>(q: Query<'q, Any, AnyArguments>, m: &NewOutbound<'q>, now: i64) -> Query<'q, Any, AnyArguments> {
    q.bind(m.ticket_id)
        .bind(m.message_id)
        .bind(m.mailbox_id)
        .bind(m.kind.as_str())
        .bind(m.header_message_id)
        .bind(m.sender)
        .bind(m.raw.to_vec())
        .bind(i64::from(m.automatic))
        .bind(now)
}

/// Queued deliveries `(outbound mail, recipient, first attempt not before)`; one statement per 64.
async fn insert_deliveries(conn: &mut AnyConnection, deliveries: &[(i64, &str, i64)], now: i64) -> Result<()> {
    for chunk in super::insert_chunks(deliveries, 64) {
        let sql = super::wide_sql(conn, "deliveries", chunk.len(), || {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("({}, 'queued', {})", super::marks(5 * i + 1, 2), super::marks(5 * i + 3, 3)))
                .collect();
            format!(
                "insert into deliveries (outbound_id, recipient, status, next_attempt_at, queued_at, updated_at) \
                 values {}",
                rows.join(", ")
            )
        });
        let mut q = sqlx::query(sql);
        for (outbound, recipient, next) in chunk {
            q = q.bind(*outbound).bind(*recipient).bind(*next).bind(now).bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// How many mails of `kind` went to `recipient` since `since` (rate limits).
pub async fn sent_to_since(
    conn: &mut AnyConnection,
    kind: crate::domain::TemplateKind,
    recipient: &str,
    since: i64,
) -> Result<i64> {
    let sql = sqlx::AssertSqlSafe(sent_to_many_since_sql(1));
    let q = sqlx::query_as::<_, (String, i64)>(sql).bind(kind.as_str()).bind(since).bind(recipient);
    Ok(q.fetch_optional(&mut *conn).await?.map_or(0, |(_, n)| n))
}

/// [`sent_to_since`] for several recipients at once (one statement per 32): recipient → count, none for those
/// with no such mail.
pub async fn sent_to_many_since(
    conn: &mut AnyConnection,
    kind: crate::domain::TemplateKind,
    recipients: &[String],
    since: i64,
) -> Result<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::lookup_chunks(recipients, 32) {
        let sql = sqlx::AssertSqlSafe(sent_to_many_since_sql(chunk.len()));
        let mut q = sqlx::query_as::<_, (String, i64)>(sql).bind(kind.as_str()).bind(since);
        for r in &chunk {
            q = q.bind(r);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// The statement of [`sent_to_since`] and [`sent_to_many_since`] for `count` recipients (`$1` kind, `$2` since,
/// then the recipients). `cross join` makes SQLite start from each recipient's deliveries of the window
/// (`deliveries_recipient_queued`; `queued_at` is never before the mail's `created_at`); left to itself it walked
/// every mail of the kind in the window (`outbound_kind_created`), so each acknowledgement of a busy hour or of a
/// backlog import read all those before it (quadratic: 2,000 new tickets took 3.2 s to ingest instead of 2.1).
/// PostgreSQL treats it as the inner join it is.
pub fn sent_to_many_since_sql(count: usize) -> String {
    format!(
        "select d.recipient, count(*) from deliveries d cross join outbound_mails o \
         where o.id = d.outbound_id and d.recipient in ({}) and d.queued_at >= $2 and o.kind = $1 \
         and o.created_at >= $2 group by d.recipient",
        super::marks(3, count)
    )
}

/// Of `ticket_ids`, those that already have a mail of `kind` (one statement per 32).
pub async fn tickets_having(
    conn: &mut AnyConnection,
    ticket_ids: &[i64],
    kind: crate::domain::TemplateKind,
) -> Result<std::collections::HashSet<i64>> {
    let mut out = std::collections::HashSet::new();
    for chunk in super::lookup_chunks(ticket_ids, 32) {
        let sql = sqlx::AssertSqlSafe(format!(
            "select distinct ticket_id from outbound_mails where kind = $1 and ticket_id in ({})",
            super::marks(2, chunk.len())
        ));
        let mut q = sqlx::query_scalar::<_, i64>(sql).bind(kind.as_str());
        for id in &chunk {
            q = q.bind(*id);
        }
        out.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

impl Db {
    /// Marks an outbound mail as appended to the Sent folder.
    pub async fn mark_saved(&self, outbound_id: i64, now: i64) -> Result<()> {
        sqlx::query("update outbound_mails set saved_at = $2 where id = $1")
            .bind(outbound_id)
            .bind(now)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Puts a failed (or stuck) delivery back in the queue; false when there is no such delivery.
    pub async fn retry_delivery(&self, id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "update deliveries set status = 'queued', next_attempt_at = $2, queued_at = $2, lease_owner = null, lease_until = null, \
             updated_at = $2 where id = $1 and status <> 'sent'",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deliveries, newest first, optionally of one status.
    pub async fn deliveries(&self, status: Option<&str>, limit: i64, offset: i64) -> Result<Vec<DeliveryRow>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{DELIVERY_SELECT} where ($1 = '' or d.status = $1) order by d.id desc limit $2 offset $3"
        ));
        Ok(sqlx::query_as(sql).bind(status.unwrap_or("")).bind(limit).bind(offset).fetch_all(self.pool()).await?)
    }

    /// The deliveries of the outbound mail carrying one message.
    pub async fn message_deliveries(&self, message_id: i64) -> Result<Vec<DeliveryRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{DELIVERY_SELECT} where o.message_id = $1 order by d.id"));
        Ok(sqlx::query_as(sql).bind(message_id).fetch_all(self.pool()).await?)
    }

    /// The deliveries of the outbound mails carrying the messages of a ticket.
    pub async fn ticket_deliveries(&self, ticket_id: i64) -> Result<Vec<DeliveryRow>> {
        let sql = sqlx::AssertSqlSafe(format!("{DELIVERY_SELECT} where o.ticket_id = $1 order by d.id"));
        Ok(sqlx::query_as(sql).bind(ticket_id).fetch_all(self.pool()).await?)
    }
}

/// A delivery as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub outbound_id: i64,
    pub message_id: Option<i64>,
    pub ticket_number: Option<i64>,
    pub kind: String,
    pub header_message_id: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const DELIVERY_SELECT: &str = "select d.id, d.outbound_id, o.message_id, t.number as ticket_number, o.kind, o.header_message_id, \
     d.recipient, d.status, d.attempts, d.next_attempt_at, d.last_error, o.created_at, d.sent_at \
     from deliveries d join outbound_mails o on o.id = d.outbound_id left join tickets t on t.id = o.ticket_id";

/// Marks the deliveries of the mail with this Message-ID to these recipients (the only one when none match and the
/// mail had one recipient) failed by a bounce; returns the ticket id of the mail. A bounce also ends a running
/// attempt's lease, so that attempt's result does not overwrite it.
pub async fn bounce_failed(
    conn: &mut AnyConnection,
    header_message_id: &str,
    recipients: &[String],
    error: &str,
    now: i64,
) -> Result<Option<i64>> {
    let found: Option<(i64, Option<i64>)> =
        sqlx::query_as("select id, ticket_id from outbound_mails where header_message_id = $1")
            .bind(header_message_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((outbound_id, ticket_id)) = found else { return Ok(None) };
    let mut matched = 0;
    for r in recipients {
        matched += set_failed(&mut *conn, outbound_id, Some(r), error, now).await?;
    }
    if matched == 0 {
        // The report names nobody we sent to (aliases, rewriting): only a mail with a single recipient is
        // unambiguous; otherwise one Cc's bounce would mark everyone failed. The ticket event still records it.
        let count: i64 = sqlx::query_scalar("select count(*) from deliveries where outbound_id = $1")
            .bind(outbound_id)
            .fetch_one(&mut *conn)
            .await?;
        if count == 1 {
            set_failed(&mut *conn, outbound_id, None, error, now).await?;
        }
    }
    Ok(ticket_id)
}

async fn set_failed<'e>(
    conn: impl Executor<'e, Database = Any>,
    outbound_id: i64,
    recipient: Option<&str>,
    error: &str,
    now: i64,
) -> Result<u64> {
    let done = sqlx::query(
        "update deliveries set status = 'failed', last_error = $3, updated_at = $4, lease_owner = null, lease_until = null \
         where outbound_id = $1 and ($2 = '' or lower(recipient) = lower($2))",
    )
    .bind(outbound_id)
    .bind(recipient.unwrap_or(""))
    .bind(error)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
