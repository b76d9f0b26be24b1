//! Quarantine: mail kept raw with a reason, for admins to inspect, retry or turn into tickets.

use super::{Db, Result};
use sqlx::AnyConnection;

/// A quarantined message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuarantineRow {
    pub id: i64,
    pub raw_id: Option<i64>,
    pub sha256: Option<String>,
    pub mailbox: Option<String>,
    pub reason: String,
    pub headers: String,
    pub size: i64,
    pub status: String,
    pub uid: Option<i64>,
    pub created_at: i64,
}

/// Fields of a quarantine entry.
#[derive(Debug, Clone, Default)]
pub struct NewQuarantine<'a> {
    pub raw_id: Option<i64>,
    pub mailbox_id: Option<i64>,
    pub reason: &'a str,
    pub headers: &'a str,
    pub size: i64,
    pub uid_validity: Option<i64>,
    pub uid: Option<i64>,
}

/// Stores a quarantine entry; returns its id.
pub async fn insert(conn: &mut AnyConnection, q: &NewQuarantine<'_>, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "insert into quarantine (raw_id, mailbox_id, reason, headers, size, uid_validity, uid, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
    )
    .bind(q.raw_id)
    .bind(q.mailbox_id)
    .bind(q.reason)
    .bind(q.headers)
    .bind(q.size)
    .bind(q.uid_validity)
    .bind(q.uid)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

impl Db {
    /// Held quarantine entries, newest first.
    pub async fn quarantine(&self, limit: i64, offset: i64) -> Result<(Vec<QuarantineRow>, i64)> {
        let total =
            sqlx::query_scalar("select count(*) from quarantine where status = 'held'").fetch_one(self.pool()).await?;
        let rows = sqlx::query_as(
            "select q.id, q.raw_id, r.sha256, m.name as mailbox, q.reason, q.headers, q.size, q.status, q.uid, q.created_at \
             from quarantine q left join raw_messages r on r.id = q.raw_id left join mailboxes m on m.id = q.mailbox_id \
             where q.status = 'held' order by q.id desc limit $1 offset $2",
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        Ok((rows, total))
    }
}
