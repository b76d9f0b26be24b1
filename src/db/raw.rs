//! Raw messages, their receipts (which mailbox/UID delivered them) and the bounce log.

use super::{Db, Result};
use sqlx::AnyConnection;

/// Records a raw message by digest; returns `(id, already_known)`.
pub async fn upsert(conn: &mut AnyConnection, sha256: &str, size: i64, path: &str, now: i64) -> Result<(i64, bool)> {
    let inserted: Option<i64> = sqlx::query_scalar(
        "insert into raw_messages (sha256, size, path, created_at) values ($1, $2, $3, $4) on conflict (sha256) do nothing returning id",
    )
    .bind(sha256)
    .bind(size)
    .bind(path)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok((id, false)),
        None => {
            let id = sqlx::query_scalar("select id from raw_messages where sha256 = $1")
                .bind(sha256)
                .fetch_one(&mut *conn)
                .await?;
            Ok((id, true))
        }
    }
}

/// Records every raw message of a batch (content-addressed, so each sha256 once); for each sha256 its id and
/// whether it was stored before. Two queries per 500.
pub async fn upsert_all(
    conn: &mut AnyConnection,
    blobs: &[(&str, i64, &str)],
    now: i64,
) -> Result<std::collections::HashMap<String, (i64, bool)>> {
    let mut out = std::collections::HashMap::new();
    for chunk in super::insert_chunks(blobs, 32) {
        let sql = super::wide_sql(conn, "raw_messages", chunk.len(), || {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", super::marks(4 * i + 1, 4))).collect();
            format!(
                "insert into raw_messages (sha256, size, path, created_at) values {} on conflict (sha256) do nothing \
                 returning sha256, id",
                rows.join(", ")
            )
        });
        let mut q = sqlx::query_as::<_, (String, i64)>(sql);
        for (sha, size, path) in chunk {
            q = q.bind(*sha).bind(*size).bind(*path).bind(now);
        }
        for (sha, id) in q.fetch_all(&mut *conn).await? {
            out.insert(sha, (id, false));
        }
    }
    let known: Vec<&str> = blobs.iter().map(|b| b.0).filter(|sha| !out.contains_key(*sha)).collect();
    for chunk in super::lookup_chunks(&known, 32) {
        let sql = sqlx::AssertSqlSafe(format!(
            "select sha256, id from raw_messages where sha256 in ({})",
            super::marks(1, chunk.len())
        ));
        let mut q = sqlx::query_as::<_, (String, i64)>(sql);
        for sha in chunk {
            q = q.bind(sha);
        }
        for (sha, id) in q.fetch_all(&mut *conn).await? {
            out.insert(sha, (id, true));
        }
    }
    Ok(out)
}

/// Where an earlier copy of a raw message went: `(ticket number, what)`.
pub async fn prior_disposition(conn: &mut AnyConnection, raw_id: i64) -> Result<Option<(Option<i64>, &'static str)>> {
    let ticket: Option<i64> = sqlx::query_scalar(
        "select t.number from messages m join tickets t on t.id = m.ticket_id where m.raw_id = $1 order by m.id limit 1",
    )
    .bind(raw_id)
    .fetch_optional(&mut *conn)
    .await?;
    if ticket.is_some() {
        return Ok(Some((ticket, "already stored")));
    }
    let quarantined: i64 = sqlx::query_scalar("select count(*) from quarantine where raw_id = $1")
        .bind(raw_id)
        .fetch_one(&mut *conn)
        .await?;
    if quarantined > 0 {
        return Ok(Some((None, "already quarantined")));
    }
    let bounce: Option<Option<i64>> = sqlx::query_scalar(
        "select t.number from bounces b left join tickets t on t.id = b.ticket_id where b.raw_id = $1 limit 1",
    )
    .bind(raw_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(bounce.map(|t| (t, "already recorded as a bounce")))
}

/// Whether this IMAP message was imported before.
pub async fn receipt_exists(conn: &mut AnyConnection, mailbox_id: i64, uid_validity: i64, uid: i64) -> Result<bool> {
    let n: i64 =
        sqlx::query_scalar("select count(*) from receipts where mailbox_id = $1 and uid_validity = $2 and uid = $3")
            .bind(mailbox_id)
            .bind(uid_validity)
            .bind(uid)
            .fetch_one(&mut *conn)
            .await?;
    Ok(n > 0)
}

/// Which of these IMAP `(uidvalidity, uid)`s of a mailbox were imported before.
pub async fn receipts_seen(
    conn: &mut AnyConnection,
    mailbox_id: i64,
    uids: &[(i64, i64)],
) -> Result<std::collections::HashSet<(i64, i64)>> {
    let mut out = std::collections::HashSet::new();
    for chunk in super::lookup_chunks(uids, 32) {
        let sql = sqlx::AssertSqlSafe(format!(
            "select uid_validity, uid from receipts where mailbox_id = $1 and uid in ({})",
            super::marks(2, chunk.len())
        ));
        let mut q = sqlx::query_as::<_, (i64, i64)>(sql).bind(mailbox_id);
        for (_, uid) in &chunk {
            q = q.bind(*uid);
        }
        out.extend(q.fetch_all(&mut *conn).await?.into_iter().filter(|seen| chunk.contains(seen)));
    }
    Ok(out)
}

/// A receipt to record: a raw message reached a mailbox (IMAP `(uidvalidity, uid)` or direct), with its outcome.
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub raw_id: i64,
    pub uid: Option<(i64, i64)>,
    pub outcome: &'static str,
}

/// Records a batch's receipts at one mailbox; one query per 500.
pub async fn insert_receipts(
    conn: &mut AnyConnection,
    mailbox_id: i64,
    receipts: &[NewReceipt],
    now: i64,
) -> Result<()> {
    for chunk in super::insert_chunks(receipts, 32) {
        let sql = super::wide_sql(conn, "receipts", chunk.len(), || {
            let rows: Vec<String> = (0..chunk.len()).map(|i| format!("({})", super::marks(6 * i + 1, 6))).collect();
            format!(
                "insert into receipts (raw_id, mailbox_id, uid_validity, uid, outcome, created_at) values {}",
                rows.join(", ")
            )
        });
        let mut q = sqlx::query(sql);
        for r in chunk {
            q = q
                .bind(r.raw_id)
                .bind(mailbox_id)
                .bind(r.uid.map(|u| u.0))
                .bind(r.uid.map(|u| u.1))
                .bind(r.outcome)
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Records that a mailbox delivered a raw message, and what became of it.
pub async fn insert_receipt(
    conn: &mut AnyConnection,
    raw_id: i64,
    mailbox_id: i64,
    uid: Option<(i64, i64)>,
    outcome: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("insert into receipts (raw_id, mailbox_id, uid_validity, uid, outcome, created_at) values ($1, $2, $3, $4, $5, $6)")
        .bind(raw_id)
        .bind(mailbox_id)
        .bind(uid.map(|u| u.0))
        .bind(uid.map(|u| u.1))
        .bind(outcome)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A bounce as logged.
#[derive(Debug, Clone, Default)]
pub struct NewBounce<'a> {
    pub raw_id: i64,
    pub mailbox_id: i64,
    pub ticket_id: Option<i64>,
    pub original_message_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub diagnostic: Option<&'a str>,
    pub recipients: &'a str,
}

/// Logs a bounce.
pub async fn insert_bounce(conn: &mut AnyConnection, b: &NewBounce<'_>, now: i64) -> Result<()> {
    sqlx::query(
        "insert into bounces (raw_id, mailbox_id, ticket_id, original_message_id, status, diagnostic, recipients, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(b.raw_id)
    .bind(b.mailbox_id)
    .bind(b.ticket_id)
    .bind(b.original_message_id)
    .bind(b.status)
    .bind(b.diagnostic)
    .bind(b.recipients)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A logged bounce, as admins see it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct BounceRow {
    pub id: i64,
    pub sha256: String,
    pub mailbox: Option<String>,
    pub ticket: Option<i64>,
    pub original_message_id: Option<String>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
    pub recipients: String,
    pub created_at: i64,
}

impl Db {
    /// The bounce log, newest first: every DSN received, with the ticket when it named our mail.
    pub async fn bounces(&self, limit: i64, offset: i64) -> Result<Vec<BounceRow>> {
        Ok(sqlx::query_as(
            "select b.id, r.sha256, m.name as mailbox, t.number as ticket, b.original_message_id, b.status, b.diagnostic, \
             b.recipients, b.created_at from bounces b join raw_messages r on r.id = b.raw_id \
             left join mailboxes m on m.id = b.mailbox_id left join tickets t on t.id = b.ticket_id \
             order by b.id desc limit $1 offset $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?)
    }

    /// The digest of a logged bounce's raw report; `None` when there is no such bounce.
    pub async fn bounce_sha256(&self, id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("select r.sha256 from bounces b join raw_messages r on r.id = b.raw_id where b.id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }
}
