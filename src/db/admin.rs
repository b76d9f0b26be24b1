//! Admin pages' queries: dashboard mailboxes (create, edit, enable) and quarantine entries (view, release, delete).

use super::{Db, DbError, MailboxRow, Result, flag};
use crate::platform::config::MailboxSettings;
use sqlx::AnyConnection;

/// One quarantine entry with what the admin page shows about it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuarantineEntry {
    pub id: i64,
    pub raw_id: Option<i64>,
    pub sha256: Option<String>,
    pub mailbox_id: Option<i64>,
    pub mailbox: Option<String>,
    pub reason: String,
    pub headers: String,
    pub size: i64,
    /// `held`, `released` or `deleted`.
    pub status: String,
    /// The ticket it became, once released.
    pub ticket_number: Option<i64>,
    pub created_at: i64,
}

const MAILBOX_SELECT: &str =
    "select id, name, address, display_name, plus_addressing, source, enabled, settings_json from mailboxes";

impl Db {
    /// The mailbox with this id.
    pub async fn mailbox_by_id(&self, id: i64) -> Result<MailboxRow> {
        let sql = sqlx::AssertSqlSafe(format!("{MAILBOX_SELECT} where id = $1"));
        sqlx::query_as(sql).bind(id).fetch_optional(self.pool()).await?.ok_or(DbError::NotFound)
    }

    /// Adds a mailbox from the dashboard; `settings_json` is `settings` with its passwords sealed.
    pub async fn create_dashboard_mailbox(&self, settings: &MailboxSettings, settings_json: &str) -> Result<i64> {
        let now = crate::domain::now();
        Ok(sqlx::query_scalar(
            "insert into mailboxes (name, address, display_name, plus_addressing, source, enabled, settings_json, created_at, updated_at) \
             values ($1, $2, $3, $4, 'dashboard', $5, $6, $7, $7) returning id",
        )
        .bind(&settings.name)
        .bind(settings.address.trim().to_lowercase())
        .bind(crate::domain::DisplayName::new(&settings.display_name).as_str())
        .bind(flag(settings.plus_addressing))
        .bind(flag(settings.enabled))
        .bind(settings_json)
        .bind(now)
        .fetch_one(&mut *self.writer().await?)
        .await?)
    }

    /// Changes a dashboard mailbox (config-file mailboxes are left alone); false when there is none with this id.
    pub async fn update_dashboard_mailbox(
        &self,
        id: i64,
        settings: &MailboxSettings,
        settings_json: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "update mailboxes set name = $2, address = $3, display_name = $4, plus_addressing = $5, enabled = $6, \
             settings_json = $7, updated_at = $8 where id = $1 and source = 'dashboard'",
        )
        .bind(id)
        .bind(&settings.name)
        .bind(settings.address.trim().to_lowercase())
        .bind(crate::domain::DisplayName::new(&settings.display_name).as_str())
        .bind(flag(settings.plus_addressing))
        .bind(flag(settings.enabled))
        .bind(settings_json)
        .bind(crate::domain::now())
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// One quarantine entry, whatever its status.
    pub async fn quarantine_entry(&self, id: i64) -> Result<QuarantineEntry> {
        sqlx::query_as(
            "select q.id, q.raw_id, r.sha256, q.mailbox_id, m.name as mailbox, q.reason, q.headers, q.size, q.status, \
             t.number as ticket_number, q.created_at \
             from quarantine q left join raw_messages r on r.id = q.raw_id left join mailboxes m on m.id = q.mailbox_id \
             left join tickets t on t.id = q.ticket_id where q.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or(DbError::NotFound)
    }

    /// Marks a held entry deleted (the raw message stays in storage); false when it is not held.
    pub async fn delete_quarantined(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("update quarantine set status = 'deleted' where id = $1 and status = 'held'")
            .bind(id)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Releases a held entry: it became (or joined) `ticket_id`.
pub async fn release_quarantined(conn: &mut AnyConnection, id: i64, ticket_id: Option<i64>) -> Result<()> {
    // Only a held entry: a concurrent delete (or retry) of the same entry wins, and this transaction rolls back.
    let done =
        sqlx::query("update quarantine set status = 'released', ticket_id = $2 where id = $1 and status = 'held'")
            .bind(id)
            .bind(ticket_id)
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::Conflict("the quarantined message was already handled".into()));
    }
    Ok(())
}

/// Keeps an entry held, with the reason of its latest attempt.
pub async fn hold_again(conn: &mut AnyConnection, id: i64, reason: &str) -> Result<()> {
    sqlx::query("update quarantine set reason = $2 where id = $1").bind(id).bind(reason).execute(&mut *conn).await?;
    Ok(())
}
